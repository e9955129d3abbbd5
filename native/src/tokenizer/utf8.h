/* UTF-8 validation, lossy decoding and encoding shared by the encoders and decoders. */
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

/* Decodes text[0..n) into code points the way a lossy UTF-8 to string conversion does (Rust's
 * String::from_utf8_lossy, Python's errors="replace"): each maximal ill-formed subpart becomes
 * one U+FFFD. Writes at most n code points to cps (NULL: only count) and, when offs is not NULL,
 * the byte offset of each in the re-encoded text (offs needs n + 1 entries: offs[count] is the
 * re-encoded length). Returns the number of code points. */
int32_t mllm_utf8_decode_lossy(const unsigned char *text, int32_t n, uint32_t *cps, int32_t *offs);

/* Writes the UTF-8 form of code point cp (< 0x110000) to out (4 bytes); returns its length. */
int mllm_utf8_encode(uint32_t cp, char *out);

/* Length of the maximal subpart at s[0..n) that the Unicode standard's "substitution of maximal
 * subparts" replaces by one U+FFFD: the longest valid prefix of a character, at least 1. Only
 * for bytes that do not start a complete character (mllm_utf8_char_len(s, n) == 0). */
int mllm_utf8_maximal_subpart(const unsigned char *s, int32_t n);

/* U+FFFD REPLACEMENT CHARACTER, emitted for bytes that do not form a character. */
#define MLLM_UTF8_REPLACEMENT "\xEF\xBF\xBD"

#endif
