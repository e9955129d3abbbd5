/* K-quant block layouts, independently of the engine's code: blocks are assembled byte by byte
 * and their values computed here from the tables of docs/k-quants.md (ggml's layouts), then
 * compared with the public dequantizer; a few elements are checked against values worked out by
 * hand; the reference dot products against double sums of the values. Nothing here includes
 * quant/kquant.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mobilellm.h"
#include "quant/quant.h"
#include "util/test_check.h"

static uint32_t g_rng = 4242;
static uint32_t urand(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 17;
    g_rng ^= g_rng << 5;
    return g_rng;
}

static float half(const uint8_t *p) { return mllm_fp16_to_fp32((uint16_t)(p[0] | p[1] << 8)); }

/* ---- the doc's tables ---------------------------------------------------------------------- */

/* Q4_K / Q5_K: sub-block i's 6-bit scale and min from the 12 scale bytes s */
static int doc_sc(const uint8_t *s, int i) { return i < 4 ? s[i] & 63 : (s[i + 4] & 15) | ((s[i - 4] >> 6) << 4); }
static int doc_m(const uint8_t *s, int i) { return i < 4 ? s[i + 4] & 63 : (s[i + 4] >> 4) | ((s[i] >> 6) << 4); }

/* element e's quant: chunk c = e / 64; 64c + l is the low nibble of qs[32c + l], 64c + 32 + l the
 * high nibble; Q5_K's fifth bit: bit 2c of qh[l], resp. 2c + 1 */
static int doc_q45(const uint8_t *qs, const uint8_t *qh, int e) {
    int c = e / 64, r = e % 64, l = r % 32, hi = r >= 32;
    int q = hi ? qs[32 * c + l] >> 4 : qs[32 * c + l] & 15;
    if (qh) q |= ((qh[l] >> (2 * c + hi)) & 1) << 4;
    return q;
}

/* Q6_K element e: half h, L = ql + 64h, H = qh + 32h; rows of the table by (e % 128) / 32 */
static double doc_q6_value(const uint8_t *blk, int e) {
    const uint8_t *ql = blk, *qh = blk + 128;
    const int8_t *sc = (const int8_t *)(blk + 192);
    int h = e / 128, r = e % 128, l = r % 32, is = l / 16;
    const uint8_t *L = ql + 64 * h, *H = qh + 32 * h;
    const int8_t *S = sc + 8 * h;
    int lo, hb, s;
    switch (r / 32) {
    case 0: lo = L[l] & 15; hb = (H[l] >> 0) & 3; s = S[is + 0]; break;
    case 1: lo = L[l + 32] & 15; hb = (H[l] >> 2) & 3; s = S[is + 2]; break;
    case 2: lo = L[l] >> 4; hb = (H[l] >> 4) & 3; s = S[is + 4]; break;
    default: lo = L[l + 32] >> 4; hb = (H[l] >> 6) & 3; s = S[is + 6]; break;
    }
    return (double)half(blk + 208) * s * ((lo | hb << 4) - 32);
}

/* Element e's value; *mag (if not NULL) gets the sum of its terms' magnitudes (the float
 * evaluation may round each term). */
static double doc_value(int32_t type, const uint8_t *blk, int e, double *mag) {
    if (type == MLLM_TYPE_Q6_K) {
        double v = doc_q6_value(blk, e);
        if (mag) *mag = fabs(v);
        return v;
    }
    const uint8_t *s = blk + 4, *qh = type == MLLM_TYPE_Q5_K ? blk + 16 : NULL, *qs = blk + (qh ? 48 : 16);
    int i = e / 32;
    double a = (double)half(blk) * doc_sc(s, i) * doc_q45(qs, qh, e), b = (double)half(blk + 2) * doc_m(s, i);
    if (mag) *mag = fabs(a) + fabs(b);
    return a - b;
}

/* Random bytes everywhere, with d / dmin from a few ordinary halves. */
static void random_block(int32_t type, uint8_t *blk) {
    static const uint16_t halves[] = {0x3c00, 0x3555, 0x2e66, 0x1a3d, 0x4d00, 0x0400};
    size_t bb = (size_t)mllm_type_block_bytes(type);
    for (size_t i = 0; i < bb; i++) blk[i] = (uint8_t)urand();
    uint16_t d = halves[urand() % 6], dmin = halves[urand() % 6];
    size_t at = type == MLLM_TYPE_Q6_K ? 208 : 0;
    blk[at] = (uint8_t)d, blk[at + 1] = (uint8_t)(d >> 8);
    if (type != MLLM_TYPE_Q6_K) blk[2] = (uint8_t)dmin, blk[3] = (uint8_t)(dmin >> 8);
}

static void test_random_blocks(int32_t type) {
    enum { NB = 64 };
    const size_t bb = (size_t)mllm_type_block_bytes(type);
    CHECK(bb == (type == MLLM_TYPE_Q4_K ? 144u : type == MLLM_TYPE_Q5_K ? 176u : 210u));
    uint8_t *w = malloc(NB * bb);
    float *y = malloc(NB * 256 * sizeof(float));
    for (int b = 0; b < NB; b++) random_block(type, w + b * bb);
    CHECK_OK(mllm_dequantize_row(type, w, y, NB * 256));
    int bad = 0;
    for (int b = 0; b < NB && !bad; b++)
        for (int e = 0; e < 256 && !bad; e++) {
            double mag, want = doc_value(type, w + b * bb, e, &mag), got = y[b * 256 + e];
            if (fabs(got - want) > 4e-7 * mag) { /* a few float roundings of the terms */
                fprintf(stderr, "%s block %d element %d: %.9g, layout says %.9g\n", mllm_type_name(type), b, e, got, want);
                bad = 1;
            }
        }
    CHECK(!bad);
    free(w);
    free(y);
}

/* ---- values worked out by hand -------------------------------------------------------------- */

static void test_hand_q4_K(void) {
    uint8_t b[144] = {0};
    b[0] = 0x00, b[1] = 0x3c; /* d = 1 */
    b[2] = 0x00, b[3] = 0x40; /* dmin = 2 */
    uint8_t *s = b + 4, *qs = b + 16;
    s[0] = 0xc5;  /* sc[0] = 5, top bits 3 -> sc[4] bits 4..5 */
    s[4] = 0x81;  /* m[0] = 1, top bits 2 -> m[4] bits 4..5 */
    s[8] = 0x7a;  /* sc[4] = 0xa | 3 << 4 = 58, m[4] = 7 | 2 << 4 = 39 */
    s[1] = 0x3f;  /* sc[1] = 63, m[1] = 0 */
    qs[0] = 0x9f; /* element 0: 15 (sub-block 0), element 32: 9 (sub-block 1) */
    qs[64] = 0x2c; /* element 128: 12 (sub-block 4, chunk 2) */
    qs[127] = 0xf0; /* element 255: 15 (sub-block 7: sc = m = 0), element 223: 0 */
    float y[256];
    CHECK_OK(mllm_dequantize_row(MLLM_TYPE_Q4_K, b, y, 256));
    CHECK(y[0] == 5 * 15 - 2 * 1);  /* 73 */
    CHECK(y[32] == 63 * 9 - 0);     /* 567 */
    CHECK(y[1] == -2);              /* q = 0: -dmin * m[0] */
    CHECK(y[128] == 58 * 12 - 2 * 39); /* 618 */
    CHECK(y[160] == 0);             /* sub-block 5: sc = m = 0 */
    CHECK(y[255] == 0 && y[223] == 0);
}

static void test_hand_q5_K(void) {
    uint8_t b[176] = {0};
    b[0] = 0x00, b[1] = 0x38; /* d = 0.5 */
    uint8_t *s = b + 4, *qh = b + 16, *qs = b + 48;
    s[3] = 2;     /* sc[3] = 2 */
    s[11] = 0x03; /* sc[7] = 3 */
    qh[5] = 0x40 | 0x08; /* element 6*32 + 5 = 197 (bit 6 = 2c, c = 3) and 3*32 + 5 = 101 (bit 3 = 2c+1, c = 1) */
    qs[32 * 3 + 5] = 0x07; /* element 197's low nibble 7, element 229: 0 */
    qs[32 * 1 + 5] = 0xa0; /* element 101's low nibble (high nibble of chunk 1) 10 */
    float y[256];
    CHECK_OK(mllm_dequantize_row(MLLM_TYPE_Q5_K, b, y, 256));
    CHECK(y[101] == 0.5f * 2 * (10 + 16)); /* 26 */
    CHECK(y[197] == 0.0f);                 /* sub-block 6 has sc = 0 */
    CHECK(y[229] == 0.0f);
    s[10] = 0x01; /* sc[6] = 1 */
    CHECK_OK(mllm_dequantize_row(MLLM_TYPE_Q5_K, b, y, 256));
    CHECK(y[197] == 0.5f * 1 * (7 + 16)); /* 11.5 */
    CHECK(y[69] == 0.0f); /* element 69: low nibble of qs[37] (0) and bit 2 of qh[5] (clear): q = 0 */
}

static void test_hand_q6_K(void) {
    uint8_t b[210] = {0};
    b[208] = 0x00, b[209] = 0x3c; /* d = 1 */
    int8_t *sc = (int8_t *)(b + 192);
    for (int i = 0; i < 16; i++) sc[i] = (int8_t)(i - 8);
    /* element 128 + 96 + 20 = 244: h = 1, l = 20, is = 1: L[52] >> 4, (H[20] >> 6) & 3, S[7] = sc[15] */
    b[64 + 52] = 0x50;  /* high nibble 5 */
    b[128 + 32 + 20] = 0xc0; /* bits 6..7 = 3 */
    float y[256];
    CHECK_OK(mllm_dequantize_row(MLLM_TYPE_Q6_K, b, y, 256));
    CHECK(y[244] == 7.0f * ((5 | 3 << 4) - 32)); /* sc[15] = 7, q = 53: 147 */
    CHECK(y[0] == -8.0f * -32);                  /* all-zero quants: q - 32 = -32, sc[0] = -8 */
    CHECK(y[116] == -1.0f * -32); /* element 116: h 0, row 3, l 20, is 1: q = 0, S[7] = sc[7] = -1 */
}

/* ---- reference dot products against double sums of the values -------------------------------- */

/* Activations with d = 2^-6 (and q8_1's s = d * sum exact: |sum| <= 32 * 60 < 2048): the reference
 * must equal the plain dot product of the values up to float rounding. */
static void test_dot_semantics(int32_t type) {
    enum { NB = 6, K = NB * 256 };
    const int q81 = type != MLLM_TYPE_Q6_K;
    const size_t bb = (size_t)mllm_type_block_bytes(type), xb = q81 ? 36 : 34;
    uint8_t *w = malloc(NB * bb), *x = malloc(K / 32 * xb);
    float *wv = malloc(K * sizeof(float));
    double xs[K];
    for (int b = 0; b < NB; b++) random_block(type, w + b * bb);
    for (int blk = 0; blk < K / 32; blk++) {
        uint8_t *p = x + blk * xb;
        int sum = 0;
        p[0] = 0x00, p[1] = 0x24; /* d = 2^-6 */
        int8_t *qs = (int8_t *)(p + (q81 ? 4 : 2));
        for (int l = 0; l < 32; l++) {
            qs[l] = (int8_t)((int)(urand() % 121) - 60);
            sum += qs[l];
            xs[blk * 32 + l] = qs[l] / 64.0;
        }
        if (q81) {
            uint16_t s = mllm_fp32_to_fp16((float)sum / 64.0f);
            CHECK(mllm_fp16_to_fp32(s) == (float)sum / 64.0f);
            p[2] = (uint8_t)s, p[3] = (uint8_t)(s >> 8);
        }
    }
    CHECK_OK(mllm_dequantize_row(type, w, wv, K));
    double want = 0, mag = 0;
    for (int e = 0; e < K; e++) {
        want += (double)wv[e] * xs[e];
        double m;
        doc_value(type, w + (e / 256) * bb, e % 256, &m);
        mag += m * fabs(xs[e]);
    }
    float got = mllm_vec_dot_ref(type, w, x, K);
    /* float sums of 2 * K / 32 block terms: well within 1e-5 of the magnitude */
    if (!(fabs(got - want) <= 1e-5 * mag))
        fprintf(stderr, "%s: %.9g vs %.9g (magnitude %g)\n", mllm_type_name(type), got, want, mag);
    CHECK(fabs(got - want) <= 1e-5 * mag);
    free(w);
    free(x);
    free(wv);
}

int main(void) {
    static const int32_t kt[] = {MLLM_TYPE_Q4_K, MLLM_TYPE_Q5_K, MLLM_TYPE_Q6_K};
    for (int t = 0; t < 3; t++) {
        test_random_blocks(kt[t]);
        test_dot_semantics(kt[t]);
    }
    test_hand_q4_K();
    test_hand_q5_K();
    test_hand_q6_K();
    return test_result("test_quant_k_layout");
}
