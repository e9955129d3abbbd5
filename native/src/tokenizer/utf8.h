/* Minimal UTF-8 validation shared by the encoder and both decoders. */
#ifndef MLLM_UTF8_H
#define MLLM_UTF8_H

#include <stdint.h>

/* Length of the well-formed UTF-8 character at s[0..n) (1..4), or 0 when s does not start with
 * one: bad lead byte, bad continuation, overlong form, surrogate, > U+10FFFF or truncated. */
int mllm_utf8_char_len(const unsigned char *s, int32_t n);

/* Bytes a well-formed character starting with lead byte b has (1..4), or 0 for a byte that can
 * never start one (continuation bytes, C0, C1, F5..FF). */
int mllm_utf8_expected_len(unsigned char b);

/* 1 if s[0..n) (n < expected length) can still grow into a well-formed character. */
int mllm_utf8_is_valid_prefix(const unsigned char *s, int32_t n);

/* U+FFFD REPLACEMENT CHARACTER, emitted for bytes that do not form a character. */
#define MLLM_UTF8_REPLACEMENT "\xEF\xBF\xBD"

#endif
