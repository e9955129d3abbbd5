/* GPT-2's byte-level alphabet: every byte value has a printable stand-in character, so that any
 * byte string is a string of vocabulary characters. Bytes '!'..'~', U+00A1..U+00AC and
 * U+00AE..U+00FF stand for themselves; the other 68 bytes (controls, space, DEL, U+0080..U+00A0,
 * the soft hyphen), in increasing order, take U+0100, U+0101, ... U+0143. */
#ifndef MLLM_BYTELEVEL_H
#define MLLM_BYTELEVEL_H

#include <stdint.h>

/* The character that stands for byte b. */
uint32_t mllm_bytelevel_char(uint8_t b);
/* The byte that code point cp stands for, or -1 if cp is not in the alphabet. */
int mllm_bytelevel_byte(uint32_t cp);

#endif
