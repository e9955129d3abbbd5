/* UTF-8 well-formedness per the Unicode standard (table 3-7 "Well-Formed UTF-8 Byte Sequences"). */
#include "tokenizer/utf8.h"

int mllm_utf8_expected_len(unsigned char b) {
    if (b < 0x80) return 1;
    if (b >= 0xC2 && b <= 0xDF) return 2;
    if (b >= 0xE0 && b <= 0xEF) return 3;
    if (b >= 0xF0 && b <= 0xF4) return 4;
    return 0;
}

/* The allowed range of the second byte depends on the lead byte (rules out overlongs,
 * surrogates and code points above U+10FFFF); later bytes are plain continuations. */
static int second_byte_ok(unsigned char lead, unsigned char b) {
    switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF;
    case 0xED: return b >= 0x80 && b <= 0x9F;
    case 0xF0: return b >= 0x90 && b <= 0xBF;
    case 0xF4: return b >= 0x80 && b <= 0x8F;
    default: return b >= 0x80 && b <= 0xBF;
    }
}

int mllm_utf8_is_valid_prefix(const unsigned char *s, int32_t n) {
    if (n <= 0) return 1;
    int want = mllm_utf8_expected_len(s[0]);
    if (want == 0 || n > want) return 0;
    if (n >= 2 && !second_byte_ok(s[0], s[1])) return 0;
    for (int32_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return 1;
}

int mllm_utf8_char_len(const unsigned char *s, int32_t n) {
    if (n <= 0) return 0;
    int want = mllm_utf8_expected_len(s[0]);
    if (want == 0 || want > n) return 0;
    return mllm_utf8_is_valid_prefix(s, want) ? want : 0;
}
