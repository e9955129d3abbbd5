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

int mllm_utf8_maximal_subpart(const unsigned char *s, int32_t n) {
    int k = 1;
    while (k < n && k < 4 && mllm_utf8_is_valid_prefix(s, k + 1)) k++;
    return k;
}

static uint32_t decode_char(const unsigned char *s, int len) {
    switch (len) {
    case 1: return s[0];
    case 2: return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    case 3: return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    default: return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) | ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
    }
}

int32_t mllm_utf8_decode_lossy(const unsigned char *text, int32_t n, uint32_t *cps, int32_t *offs) {
    int32_t count = 0, out_off = 0;
    for (int32_t i = 0; i < n;) {
        int len = mllm_utf8_char_len(text + i, n - i);
        uint32_t cp;
        if (len > 0) {
            cp = decode_char(text + i, len);
            i += len;
        } else {
            cp = 0xFFFD;
            len = 3; /* re-encoded length of U+FFFD */
            i += mllm_utf8_maximal_subpart(text + i, n - i);
        }
        if (cps) cps[count] = cp;
        if (offs) offs[count] = out_off;
        out_off += len;
        count++;
    }
    if (offs) offs[count] = out_off;
    return count;
}

int mllm_utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}
