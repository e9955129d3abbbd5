/* Quantized and 16-bit float formats: hand-computed blocks, conversions against the F16C
 * hardware instruction (an independent implementation), round-trip error bounds, and the public
 * API's argument checking. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_features.h"
#include "mobilellm.h"
#include "quant/kquant.h"
#include "quant/quant.h"
#include "util/test_check.h"


static uint32_t rng_state = 12345;
static float frand(void) { /* xorshift, uniform in [-1, 1) */
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 17; rng_state ^= rng_state << 5;
    return (float)(rng_state >> 8) / 8388608.0f - 1.0f;
}
static uint32_t urand(void) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 17; rng_state ^= rng_state << 5;
    return rng_state;
}
static float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* ---- fp16 / bf16 --------------------------------------------------------------------------- */

#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("f16c"))) static uint16_t hw_f32_to_f16(float f) {
    return (uint16_t)_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0);
}
__attribute__((target("f16c"))) static float hw_f16_to_f32(uint16_t h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}
static int have_f16c(void) { return strstr(mllm_cpu_feature_string(), "f16c") != NULL; }
#endif

static void test_fp16_known_values(void) {
    /* Hand-derived: 1 = 0x3c00; 65504 is the largest half; >= 65520 is past the midpoint to inf;
     * 2^-24 is the smallest subnormal; 2^-25 ties to even (0); 3*2^-25 ties up to 2 * 2^-24;
     * 1 + 2^-11 ties to 1 (even); 1 + 3*2^-11 ties to 1 + 2^-9 (0x3c02). */
    struct { float f; uint16_t h; } cases[] = {
        {1.0f, 0x3c00}, {-2.0f, 0xc000}, {0.0f, 0x0000}, {-0.0f, 0x8000}, {65504.0f, 0x7bff},
        {65519.99f, 0x7bff}, {65520.0f, 0x7c00}, {1e10f, 0x7c00}, {-INFINITY, 0xfc00},
        {5.9604644775390625e-8f, 0x0001}, {2.98023223876953125e-8f, 0x0000},
        {8.94069671630859375e-8f, 0x0002}, {1.00048828125f, 0x3c00}, {1.00146484375f, 0x3c02},
        {6.103515625e-5f, 0x0400}, {0.333333333f, 0x3555},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK(mllm_fp32_to_fp16(cases[i].f) == cases[i].h, "fp16(%g) = 0x%04x, want 0x%04x",
              cases[i].f, mllm_fp32_to_fp16(cases[i].f), cases[i].h);
    uint16_t nan = mllm_fp32_to_fp16(NAN);
    CHECK((nan & 0x7c00) == 0x7c00 && (nan & 0x3ff) != 0, "NaN -> 0x%04x", nan);
    /* Every finite half converts to float and back unchanged. */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue; /* NaNs: checked against hardware */
        float f = mllm_fp16_to_fp32((uint16_t)h);
        if (mllm_fp32_to_fp16(f) != h) { CHECK(0, "half 0x%04x round trip", h); break; }
    }
}

static void test_fp16_vs_hardware(void) {
#if defined(__x86_64__)
    if (!have_f16c()) { printf("  (no F16C: hardware cross-check skipped)\n"); return; }
    for (uint32_t h = 0; h < 0x10000; h++) {
        float a = mllm_fp16_to_fp32((uint16_t)h), b = hw_f16_to_f32((uint16_t)h);
        if (f32_bits(a) != f32_bits(b)) { CHECK(0, "half 0x%04x -> %08x, hw %08x", h, f32_bits(a), f32_bits(b)); break; }
    }
    /* Random bit patterns cover every exponent, including NaN payloads and subnormals; the
     * values near the half grid's midpoints test rounding. */
    for (int i = 0; i < 2000000; i++) {
        uint32_t u = urand();
        if (i & 1) u = (u & 0x8000f000u) | ((uint32_t)(100 + (i >> 1) % 60) << 23) | 0x1000u; /* exact ties */
        float f = bits_f32(u);
        uint16_t a = mllm_fp32_to_fp16(f), b = hw_f32_to_f16(f);
        if (a != b) { CHECK(0, "fp16(%08x) = %04x, hw %04x", u, a, b); break; }
    }
#endif
}

static void test_bf16(void) {
    /* 1 + 2^-8 is the tie between bf16 1.0 (0x3f80) and 1 + 2^-7 (0x3f81): even wins (0x3f80);
     * 1 + 3*2^-8 ties between 0x3f81 and 0x3f82: even wins (0x3f82). */
    CHECK(mllm_fp32_to_bf16(1.0f) == 0x3f80, "bf16(1)");
    CHECK(mllm_fp32_to_bf16(1.00390625f) == 0x3f80, "bf16 tie to even (down)");
    CHECK(mllm_fp32_to_bf16(1.01171875f) == 0x3f82, "bf16 tie to even (up)");
    CHECK(mllm_fp32_to_bf16(-INFINITY) == 0xff80, "bf16(-inf)");
    CHECK(mllm_fp32_to_bf16(3.4028235e38f) == 0x7f80, "bf16(FLT_MAX) rounds to inf");
    uint16_t nan = mllm_fp32_to_bf16(bits_f32(0x7f800001u)); /* signalling NaN, payload in low bits */
    CHECK((nan & 0x7f80) == 0x7f80 && (nan & 0x7f) != 0, "NaN stays NaN: 0x%04x", nan);
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7f80) == 0x7f80 && (h & 0x7f)) continue;
        if (mllm_fp32_to_bf16(mllm_bf16_to_fp32((uint16_t)h)) != h) { CHECK(0, "bf16 0x%04x round trip", h); break; }
    }
}

/* ---- hand-computed blocks ------------------------------------------------------------------ */

/* Expected bytes derived from the format definitions by hand (and double-checked with numpy
 * float32 arithmetic outside this repository), for x = 0..31 (and x = j - 10 for the q5 types).
 * q8_0: d = 31/127 -> half 0x33d0, q_j = round(j * 127/31).
 * q4_0: signed max 31, d = 31/-8 = -3.875 (0xc3c0), q_j = trunc(8.5 - j/3.875), packed j | (j+16)<<4.
 * q4_1: d = 31/15 (0x4022), m = 0, q_j = trunc(j*15/31 + 0.5).
 * q5_0: x = j-10, signed max 21, d = -21/16 (0xbd40), q_j = trunc(16.5 - x*16/21).
 * q5_1: x = j-10, d = 1 (0x3c00), m = -10 (0xc900), q_j = j, so qh = 0xffff0000. */
static void test_known_blocks(void) {
    float x[32], y[32];
    for (int j = 0; j < 32; j++) { x[j] = (float)j; y[j] = (float)j - 10.0f; }

    static const int8_t q8[32] = {0, 4, 8, 12, 16, 20, 25, 29, 33, 37, 41, 45, 49, 53, 57, 61,
                                  66, 70, 74, 78, 82, 86, 90, 94, 98, 102, 107, 111, 115, 119, 123, 127};
    block_q8_0 b8;
    mllm_quantize_row_ref(MLLM_TYPE_Q8_0, x, &b8, 32);
    CHECK(b8.d == 0x33d0, "q8_0 d = 0x%04x", b8.d);
    CHECK(memcmp(b8.qs, q8, 32) == 0, "q8_0 qs");

    static const uint8_t q40[16] = {72, 72, 55, 55, 55, 55, 38, 38, 38, 38, 21, 21, 21, 21, 4, 4};
    block_q4_0 b40;
    mllm_quantize_row_ref(MLLM_TYPE_Q4_0, x, &b40, 32);
    CHECK(b40.d == 0xc3c0, "q4_0 d = 0x%04x", b40.d);
    CHECK(memcmp(b40.qs, q40, 16) == 0, "q4_0 qs");

    static const uint8_t q41[16] = {128, 128, 145, 145, 162, 162, 179, 179, 196, 196, 213, 213, 230, 230, 247, 247};
    block_q4_1 b41;
    mllm_quantize_row_ref(MLLM_TYPE_Q4_1, x, &b41, 32);
    CHECK(b41.d == 0x4022 && b41.m == 0, "q4_1 d = 0x%04x m = 0x%04x", b41.d, b41.m);
    CHECK(memcmp(b41.qs, q41, 16) == 0, "q4_1 qs");

    static const uint8_t q50[16] = {184, 183, 166, 149, 133, 132, 115, 98, 82, 81, 64, 63, 46, 46, 29, 12};
    static const uint8_t q50h[4] = {0xff, 0x07, 0x00, 0x00};
    block_q5_0 b50;
    mllm_quantize_row_ref(MLLM_TYPE_Q5_0, y, &b50, 32);
    CHECK(b50.d == 0xbd40, "q5_0 d = 0x%04x", b50.d);
    CHECK(memcmp(b50.qs, q50, 16) == 0 && memcmp(b50.qh, q50h, 4) == 0, "q5_0 qs/qh");

    block_q5_1 b51;
    static const uint8_t q51h[4] = {0x00, 0x00, 0xff, 0xff};
    mllm_quantize_row_ref(MLLM_TYPE_Q5_1, y, &b51, 32);
    CHECK(b51.d == 0x3c00 && b51.m == 0xc900, "q5_1 d = 0x%04x m = 0x%04x", b51.d, b51.m);
    for (int j = 0; j < 16; j++) CHECK(b51.qs[j] == (uint8_t)(j | (j << 4)), "q5_1 qs[%d]", j);
    CHECK(memcmp(b51.qh, q51h, 4) == 0, "q5_1 qh");

    /* q5_1 with d = 1 reproduces the integers exactly. */
    float back[32];
    mllm_dequantize_row_ref(MLLM_TYPE_Q5_1, &b51, back, 32);
    for (int j = 0; j < 32; j++) CHECK(back[j] == y[j], "q5_1 dequant[%d] = %g", j, back[j]);

    /* q8_1: same quants as q8_0, s = d * sum(q) = 0.2441 * 2040 rounded to half. */
    block_q8_1 b81;
    mllm_quantize_row_ref(MLLM_TYPE_Q8_1, x, &b81, 32);
    int sum = 0;
    for (int j = 0; j < 32; j++) sum += q8[j];
    CHECK(b81.d == 0x33d0 && memcmp(b81.qs, q8, 32) == 0, "q8_1 d/qs");
    CHECK(b81.s == mllm_fp32_to_fp16((float)sum * (31.0f / 127.0f)), "q8_1 s = 0x%04x", b81.s);

    /* An all-zero block: d = 0 / -8 = -0.0 (half 0x8000), all quants at the zero point 8. */
    float z[32] = {0};
    mllm_quantize_row_ref(MLLM_TYPE_Q4_0, z, &b40, 32);
    CHECK(b40.d == 0x8000 && b40.qs[0] == 0x88 && b40.qs[15] == 0x88, "q4_0 zero block");
}

/* ---- round trips ---------------------------------------------------------------------------- */

static void test_round_trip(int32_t type, int64_t n) {
    float *x = malloc(n * sizeof(float)), *back = malloc(n * sizeof(float));
    void *q = malloc(mllm_type_row_bytes(type, n)), *q2 = malloc(mllm_type_row_bytes(type, n));
    for (int64_t i = 0; i < n; i++) x[i] = frand() * (1.0f + (float)(i % 97)); /* varied block ranges */
    mllm_quantize_row_ref(type, x, q, n);
    mllm_dequantize_row_ref(type, q, back, n);
    for (int64_t b = 0; b < n / 32; b++) {
        const float *xb = x + b * 32;
        float amax = 0, mn = INFINITY, mx = -INFINITY;
        for (int j = 0; j < 32; j++) { amax = fmaxf(amax, fabsf(xb[j])); mn = fminf(mn, xb[j]); mx = fmaxf(mx, xb[j]); }
        /* Bounds: half a quantization step, plus the half-precision rounding of the stored scale
         * (relative 2^-11, times the largest |q|) and of the stored minimum; q4_0/q5_0 clamp the
         * one level beyond the range, costing up to a full step there. */
        float bound;
        switch (type) {
        case MLLM_TYPE_Q8_0: case MLLM_TYPE_Q8_1: bound = amax / 127 * (0.5f + 128.0f / 2048); break;
        case MLLM_TYPE_Q4_0: bound = amax / 8 * (1.0f + 9.0f / 2048); break;
        case MLLM_TYPE_Q5_0: bound = amax / 16 * (1.0f + 17.0f / 2048); break;
        case MLLM_TYPE_Q4_1: bound = (mx - mn) / 15 * (0.5f + 16.0f / 2048) + fabsf(mn) / 2048; break;
        case MLLM_TYPE_Q5_1: bound = (mx - mn) / 31 * (0.5f + 32.0f / 2048) + fabsf(mn) / 2048; break;
        case MLLM_TYPE_F16: bound = amax / 2048; break;
        case MLLM_TYPE_BF16: bound = amax / 256; break;
        default: bound = 0; break;
        }
        for (int j = 0; j < 32; j++) {
            float err = fabsf(back[b * 32 + j] - xb[j]);
            if (err > bound * 1.0001f) { CHECK(0, "%s block %lld elem %d err %g > %g", mllm_type_name(type), (long long)b, j, err, bound); goto done; }
        }
    }
    /* Symmetric types are fixed points of quantize(dequantize(.)): same bytes again. */
    if (type == MLLM_TYPE_Q8_0 || type == MLLM_TYPE_Q4_0 || type == MLLM_TYPE_Q5_0 || type == MLLM_TYPE_F16 ||
        type == MLLM_TYPE_BF16 || type == MLLM_TYPE_F32) {
        mllm_quantize_row_ref(type, back, q2, n);
        CHECK(memcmp(q, q2, mllm_type_row_bytes(type, n)) == 0, "%s requantize changed bytes", mllm_type_name(type));
    }
done:
    free(x); free(back); free(q); free(q2);
}

/* ---- K-quants (docs/k-quants.md) ------------------------------------------------------------ */

/* Q4_K / Q5_K scale bytes from sc[8], m[8] (0..63), written from the layout's unpack formulas:
 * bytes 0..3 hold sc[0..3] and the top bits of sc[4..7], bytes 4..7 m[0..3] and the top bits of
 * m[4..7], bytes 8..11 the low nibbles of sc[4..7] (low) and m[4..7] (high). */
static void k_pack_scales(const uint8_t *sc, const uint8_t *m, uint8_t *s) {
    for (int i = 0; i < 4; i++) {
        s[i] = (uint8_t)(sc[i] | (sc[i + 4] >> 4) << 6);
        s[i + 4] = (uint8_t)(m[i] | (m[i + 4] >> 4) << 6);
        s[i + 8] = (uint8_t)((sc[i + 4] & 15) | (m[i + 4] & 15) << 4);
    }
}

/* Every 6-bit value at every position survives pack + unpack (ours and the word-wise kernel
 * variant), and the word-wise unpack equals the formula one on random bytes. */
static void test_k_scale_packing(void) {
    for (int i = 0; i < 8; i++) {
        for (int v = 0; v < 64; v++) {
            uint8_t sc[8], m[8], s[12], sc2[8], m2[8];
            for (int t = 0; t < 8; t++) { sc[t] = (uint8_t)(urand() & 63); m[t] = (uint8_t)(urand() & 63); }
            sc[i] = (uint8_t)v;
            m[i] = (uint8_t)(63 - v);
            kq_scales_pack(sc, m, s);
            uint8_t s2[12];
            k_pack_scales(sc, m, s2);
            CHECK(memcmp(s, s2, 12) == 0, "pack position %d value %d", i, v);
            kq_scales_unpack(s, sc2, m2);
            CHECK(memcmp(sc, sc2, 8) == 0 && memcmp(m, m2, 8) == 0, "unpack position %d value %d", i, v);
            uint64_t ws, wm;
            kq_scales_words(s, &ws, &wm);
            CHECK(memcmp(&ws, sc, 8) == 0 && memcmp(&wm, m, 8) == 0, "word unpack position %d value %d", i, v);
        }
    }
    for (int r = 0; r < 100000; r++) {
        uint8_t s[12], sc[8], m[8];
        for (int t = 0; t < 12; t++) s[t] = (uint8_t)urand();
        uint64_t ws, wm;
        kq_scales_unpack(s, sc, m);
        kq_scales_words(s, &ws, &wm);
        if (memcmp(&ws, sc, 8) != 0 || memcmp(&wm, m, 8) != 0) { CHECK(0, "word unpack of random bytes"); break; }
    }
}

/* Blocks whose values our quantizer must reproduce exactly: every sub-block is s_i q - m_i with
 * q covering 0..nmax, s_i = 0.25 sc_i and m_i = 0.5 mi_i (sc = 63 and mi = 63 occur, so d = 0.25
 * and dmin = 0.5 exactly), all sums exact in float: the fit returns (s_i, m_i), the scales round
 * to sc_i, mi_i, and the quants to q. One sub-block is constant (s = 0: sc 0, quants 0). The
 * expected bytes are packed here from the layout tables. */
static void test_k_known_q45(int32_t type) {
    const int five = type == MLLM_TYPE_Q5_K, nmax = five ? 31 : 15;
    static const uint8_t sc[8] = {63, 1, 17, 32, 0, 48, 15, 16};
    static const uint8_t mi[8] = {0, 63, 5, 40, 20, 33, 1, 16};
    float x[256], y[256];
    uint8_t q[256];
    for (int i = 0; i < 8; i++)
        for (int l = 0; l < 32; l++) {
            q[32 * i + l] = sc[i] ? (uint8_t)((l * 7 + i) % (nmax + 1)) : 0;
            x[32 * i + l] = 0.25f * sc[i] * q[32 * i + l] - 0.5f * mi[i];
        }
    uint8_t want[176] = {0}, got[176];
    const uint16_t d = 0x3400, dmin = 0x3800; /* 0.25, 0.5 */
    memcpy(want, &d, 2);
    memcpy(want + 2, &dmin, 2);
    k_pack_scales(sc, mi, want + 4);
    uint8_t *qh = want + 16, *qs = want + (five ? 48 : 16);
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) {
            qs[32 * c + l] = (uint8_t)((q[64 * c + l] & 15) | (q[64 * c + 32 + l] & 15) << 4);
            if (five) qh[l] |= (uint8_t)((q[64 * c + l] >> 4) << (2 * c) | (q[64 * c + 32 + l] >> 4) << (2 * c + 1));
        }
    const size_t nb = five ? 176 : 144;
    CHECK(mllm_quantize_row(type, x, got, 256) == MLLM_OK, "%s quantize", mllm_type_name(type));
    for (size_t i = 0; i < nb; i++)
        if (got[i] != want[i]) { CHECK(0, "%s byte %zu = 0x%02x, want 0x%02x", mllm_type_name(type), i, got[i], want[i]); break; }
    CHECK(mllm_dequantize_row(type, got, y, 256) == MLLM_OK, "%s dequantize", mllm_type_name(type));
    for (int e = 0; e < 256; e++)
        if (y[e] != x[e]) { CHECK(0, "%s element %d = %g, want %g", mllm_type_name(type), e, y[e], x[e]); break; }
}

/* Q6_K likewise: sub-block i is 0.125 sc_i (q - 32) with q = 0 present (the value of largest
 * magnitude maps to -32, so the fit lands on s_i exactly); |sc| = 127 occurs, so d = 0.125. */
static void test_k_known_q6(void) {
    static const int8_t sc[16] = {127, -127, 1, -1, 64, -65, 100, 3, -20, 50, 7, -100, 90, 2, -3, 33};
    float x[256], y[256];
    uint8_t q[256], want[210] = {0}, got[210];
    for (int i = 0; i < 16; i++)
        for (int l = 0; l < 16; l++) {
            q[16 * i + l] = l == 0 ? 0 : (uint8_t)((l * 5 + 3 * i) % 64);
            x[16 * i + l] = 0.125f * sc[i] * (q[16 * i + l] - 32);
        }
    /* table: half h, l < 32; element 128h + l + 32 g takes L[l + 32 (g & 1)]'s nibble g >> 1 and
     * bits 2g..2g+1 of H[l] */
    for (int h = 0; h < 2; h++)
        for (int l = 0; l < 32; l++)
            for (int g = 0; g < 4; g++) {
                int v = q[128 * h + 32 * g + l];
                want[64 * h + l + 32 * (g & 1)] |= (uint8_t)((v & 15) << (4 * (g >> 1)));
                want[128 + 32 * h + l] |= (uint8_t)((v >> 4) << (2 * g));
            }
    memcpy(want + 192, sc, 16);
    want[208] = 0x00, want[209] = 0x30; /* 0.125 */
    CHECK(mllm_quantize_row(MLLM_TYPE_Q6_K, x, got, 256) == MLLM_OK, "q6_k quantize");
    for (int i = 0; i < 210; i++)
        if (got[i] != want[i]) { CHECK(0, "q6_k byte %d = 0x%02x, want 0x%02x", i, got[i], want[i]); break; }
    CHECK(mllm_dequantize_row(MLLM_TYPE_Q6_K, got, y, 256) == MLLM_OK, "q6_k dequantize");
    for (int e = 0; e < 256; e++)
        if (y[e] != x[e]) { CHECK(0, "q6_k element %d = %g, want %g", e, y[e], x[e]); break; }
}

/* Properties of our quantizer: zero blocks give zero scales (and Q6_K's stored 32 = 0x20:
 * qh bit pairs 2 -> 0xaa); scaling the input by a power of two only moves d and dmin's exponents
 * (every step of the algorithm is a ratio, a product with a quant or a sum, all exact under
 * such scaling); on uniform data the error is no worse than 1.1x a uniform quantizer's
 * step / sqrt(12). */
static void test_k_properties(void) {
    static const int32_t kt[] = {MLLM_TYPE_Q4_K, MLLM_TYPE_Q5_K, MLLM_TYPE_Q6_K};
    float x[1024], y[1024];
    uint8_t a[4 * 210], b[4 * 210];
    memset(x, 0, sizeof x);
    for (int t = 0; t < 3; t++) {
        size_t rb = (size_t)mllm_row_bytes(kt[t], 256);
        mllm_quantize_row_ref(kt[t], x, a, 256);
        int ok = 1;
        for (size_t i = 0; i < rb; i++) {
            uint8_t want = kt[t] == MLLM_TYPE_Q6_K && i >= 128 && i < 192 ? 0xaa : 0;
            ok &= a[i] == want;
        }
        CHECK(ok, "%s zero block", mllm_type_name(kt[t]));
    }
    for (int t = 0; t < 3; t++) {
        const int32_t type = kt[t];
        const size_t bb = (size_t)mllm_type_block_bytes(type);
        for (int i = 0; i < 1024; i++) x[i] = frand() * (1.0f + (float)(i % 61)) + (i % 3 ? 0.0f : 0.4f);
        mllm_quantize_row_ref(type, x, a, 1024);
        for (int i = 0; i < 1024; i++) y[i] = x[i] * 8.0f;
        mllm_quantize_row_ref(type, y, b, 1024);
        for (int s = 0; s < 4; s++) {
            uint8_t *pa = a + s * bb, *pb = b + s * bb;
            size_t dofs = type == MLLM_TYPE_Q6_K ? 208 : 0, nd = type == MLLM_TYPE_Q6_K ? 1 : 2;
            for (size_t f = 0; f < nd; f++) {
                uint16_t ha, hb;
                memcpy(&ha, pa + dofs + 2 * f, 2);
                memcpy(&hb, pb + dofs + 2 * f, 2);
                CHECK(ha == 0 || hb == (uint16_t)(ha + (3 << 10)), "%s x8: half 0x%04x -> 0x%04x", mllm_type_name(type), ha, hb);
                memset(pa + dofs + 2 * f, 0, 2);
                memset(pb + dofs + 2 * f, 0, 2);
            }
            CHECK(memcmp(pa, pb, bb) == 0, "%s x8 changed quants of super-block %d", mllm_type_name(type), s);
        }
        /* uniform data of random amplitude per super-block */
        const int nmax = type == MLLM_TYPE_Q4_K ? 15 : type == MLLM_TYPE_Q5_K ? 31 : 63;
        double se = 0, ideal = 0;
        for (int r = 0; r < 200; r++) {
            float amp = 0.01f + 10.0f * (frand() + 1.0f);
            for (int i = 0; i < 256; i++) x[i] = frand() * amp;
            mllm_quantize_row_ref(type, x, a, 256);
            mllm_dequantize_row_ref(type, a, y, 256);
            for (int i = 0; i < 256; i++) se += (double)(y[i] - x[i]) * (y[i] - x[i]);
            double step = 2.0 * amp / nmax;
            ideal += 256 * step * step / 12;
        }
        CHECK(se <= 1.21 * ideal, "%s rms error %.4g vs uniform quantizer %.4g", mllm_type_name(type), sqrt(se), sqrt(ideal));
    }
}

/* Largest error of one element, per super-block: Q4_K / Q5_K half a step of the largest
 * sub-block grid (range R = max - min(min, 0) over nmax), plus the 6-bit rounding of scale and
 * min (at most half a step of d = maxs / 63 times nmax and of dmin = maxm / 63: (nmax + 1) / 126
 * steps), plus 0.25 steps for the least-squares fit clipping extremes (measured <= 0.16 over 4000
 * super-blocks of five distributions). Q6_K: half a step (amax / 32), the 8-bit scale rounding
 * (32 * d / 2 <= 0.13 steps) and the fit clipping the largest values (measured: total <= 1.03
 * steps): 1.25 steps. */
static void test_k_round_trip(int32_t type) {
    enum { N = 256 * 64 };
    static float x[N], y[N];
    static uint8_t q[N];
    const int nmax = type == MLLM_TYPE_Q4_K ? 15 : type == MLLM_TYPE_Q5_K ? 31 : 63;
    for (int dist = 0; dist < 4; dist++) {
        for (int i = 0; i < N; i++) {
            float g = 0;
            for (int t = 0; t < 4; t++) g += frand();
            x[i] = dist == 0 ? frand() * (1.0f + (float)(i % 97))                 /* varied sub-block ranges */
                 : dist == 1 ? g                                             /* bell-shaped */
                 : dist == 2 ? frand() * 0.1f + (i % 37 == 0 ? 5.0f * frand() : 0.0f) /* outliers */
                             : frand() + 0.7f;                               /* mostly positive */
        }
        CHECK(mllm_quantize_row(type, x, q, N) == MLLM_OK, "quantize");
        CHECK(mllm_dequantize_row(type, q, y, N) == MLLM_OK, "dequantize");
        for (int b = 0; b < N / 256; b++) {
            const float *xb = x + 256 * b;
            float bound = 0;
            if (type == MLLM_TYPE_Q6_K) {
                float amax = 0;
                for (int j = 0; j < 256; j++) amax = fmaxf(amax, fabsf(xb[j]));
                bound = 1.25f * amax / 32;
            } else {
                for (int i = 0; i < 8; i++) {
                    float lo = 0, hi = -INFINITY;
                    for (int j = 0; j < 32; j++) { lo = fminf(lo, xb[32 * i + j]); hi = fmaxf(hi, xb[32 * i + j]); }
                    bound = fmaxf(bound, (hi - lo) / nmax * (0.75f + (nmax + 1) / 126.0f));
                }
            }
            for (int j = 0; j < 256; j++) {
                float err = fabsf(y[256 * b + j] - xb[j]);
                if (err > bound) {
                    CHECK(0, "%s dist %d super-block %d elem %d err %g > %g", mllm_type_name(type), dist, b, j, err, bound);
                    return;
                }
            }
        }
    }
}

static void test_k_quants(void) {
    test_k_scale_packing();
    test_k_known_q45(MLLM_TYPE_Q4_K);
    test_k_known_q45(MLLM_TYPE_Q5_K);
    test_k_known_q6();
    test_k_properties();
    test_k_round_trip(MLLM_TYPE_Q4_K);
    test_k_round_trip(MLLM_TYPE_Q5_K);
    test_k_round_trip(MLLM_TYPE_Q6_K);
}

/* ---- public API ------------------------------------------------------------------------------ */

static void test_api(void) {
    CHECK(strcmp(mllm_type_name(MLLM_TYPE_Q4_0), "q4_0") == 0, "name q4_0");
    CHECK(mllm_type_name(5) == NULL && mllm_type_name(-1) == NULL && mllm_type_name(1000) == NULL, "unknown names");
    CHECK(mllm_row_bytes(MLLM_TYPE_Q4_0, 64) == 36, "q4_0 row");
    CHECK(mllm_row_bytes(MLLM_TYPE_Q8_0, 4096) == 128 * 34, "q8_0 row");
    CHECK(mllm_row_bytes(MLLM_TYPE_Q6_K, 512) == 420, "q6_k row");
    CHECK(mllm_row_bytes(MLLM_TYPE_BF16, 7) == 14, "bf16 row");
    CHECK(mllm_row_bytes(MLLM_TYPE_Q4_0, 33) == -1, "q4_0 row of 33");
    CHECK(mllm_row_bytes(4, 32) == -1, "type 4 is unknown");
    /* rows whose byte size does not fit int64: -1, never a wrapped (negative) size */
    CHECK(mllm_row_bytes(MLLM_TYPE_F32, INT64_MAX / 4) == INT64_MAX / 4 * 4, "largest f32 row");
    CHECK(mllm_row_bytes(MLLM_TYPE_F32, INT64_MAX / 4 + 1) == -1, "f32 row over int64");
    CHECK(mllm_row_bytes(MLLM_TYPE_F32, INT64_MAX / 2) == -1, "f32 row over int64 (wraps to negative)");
    CHECK(mllm_row_bytes(MLLM_TYPE_Q8_0, INT64_MAX / 32 * 32) == -1, "q8_0 row over int64");
    CHECK(mllm_row_bytes(MLLM_TYPE_Q8_0, INT64_MAX / 34 / 32 * 32) == INT64_MAX / 34 / 32 * 34, "large q8_0 row");
    CHECK(mllm_row_bytes(MLLM_TYPE_F32, -4) == -1, "negative n");
    CHECK(mllm_type_supported(MLLM_TYPE_Q8_0) && mllm_type_supported(MLLM_TYPE_BF16), "supported");
    CHECK(!mllm_type_supported(MLLM_TYPE_Q2_K) && !mllm_type_supported(MLLM_TYPE_Q8_K) && !mllm_type_supported(77), "unsupported");
    CHECK(mllm_type_supported(MLLM_TYPE_Q4_K) && mllm_type_supported(MLLM_TYPE_Q5_K) && mllm_type_supported(MLLM_TYPE_Q6_K), "k-quants");
    CHECK(mllm_type_block_size(MLLM_TYPE_Q4_K) == 256 && mllm_type_block_bytes(MLLM_TYPE_Q4_K) == 144 &&
          mllm_type_block_bytes(MLLM_TYPE_Q5_K) == 176 && mllm_type_block_bytes(MLLM_TYPE_Q6_K) == 210, "k-quant blocks");
    CHECK(strcmp(mllm_type_name(MLLM_TYPE_Q5_K), "q5_k") == 0 && mllm_row_bytes(MLLM_TYPE_Q4_K, 576) == -1, "q5_k name, q4_k 576");
    CHECK(mllm_type_block_size(MLLM_TYPE_Q5_1) == 32 && mllm_type_block_bytes(MLLM_TYPE_Q5_1) == 24, "q5_1 block");

    float x[64] = {0}, y[64];
    uint8_t buf[256];
    CHECK(mllm_quantize_row(MLLM_TYPE_Q8_0, x, buf, 40) == MLLM_ERR_INVALID_ARGUMENT, "n not multiple");
    CHECK(strstr(mllm_last_error(), "40") && strstr(mllm_last_error(), "q8_0"), "message: %s", mllm_last_error());
    CHECK(mllm_quantize_row(99, x, buf, 32) == MLLM_ERR_INVALID_ARGUMENT, "unknown type");
    CHECK(strstr(mllm_last_error(), "99") != NULL, "message: %s", mllm_last_error());
    CHECK(mllm_quantize_row(MLLM_TYPE_Q2_K, x, buf, 256) == MLLM_ERR_UNSUPPORTED, "q2_k unsupported");
    CHECK(strstr(mllm_last_error(), "q2_k") != NULL, "message: %s", mllm_last_error());
    /* K-quants: whole super-blocks only */
    static float xk[576];
    static uint8_t bk[576];
    for (int i = 0; i < 576; i++) xk[i] = (float)(i % 23) - 11;
    static const int32_t kt[] = {MLLM_TYPE_Q4_K, MLLM_TYPE_Q5_K, MLLM_TYPE_Q6_K};
    for (int t = 0; t < 3; t++) {
        CHECK(mllm_quantize_row(kt[t], xk, bk, 576) == MLLM_ERR_INVALID_ARGUMENT, "%s n = 576", mllm_type_name(kt[t]));
        CHECK(strstr(mllm_last_error(), "576") && strstr(mllm_last_error(), "256") && strstr(mllm_last_error(), mllm_type_name(kt[t])),
              "message: %s", mllm_last_error());
        CHECK(mllm_dequantize_row(kt[t], bk, xk + 288, 288) == MLLM_ERR_INVALID_ARGUMENT, "%s dequantize n = 288", mllm_type_name(kt[t]));
        CHECK(mllm_quantize_row(kt[t], xk, bk, 512) == MLLM_OK && mllm_dequantize_row(kt[t], bk, y, 64 * 0) == MLLM_OK, "%s ok", mllm_type_name(kt[t]));
        xk[300] = INFINITY;
        CHECK(mllm_quantize_row(kt[t], xk, bk, 512) == MLLM_ERR_INVALID_ARGUMENT && strstr(mllm_last_error(), "src[300]"),
              "%s inf refused", mllm_type_name(kt[t]));
        xk[300] = 1.0f;
    }
    CHECK(mllm_quantize_row(MLLM_TYPE_Q8_0, NULL, buf, 32) == MLLM_ERR_INVALID_ARGUMENT, "NULL src");
    CHECK(mllm_dequantize_row(MLLM_TYPE_Q8_0, buf, NULL, 32) == MLLM_ERR_INVALID_ARGUMENT, "NULL dst");
    CHECK(mllm_quantize_row(MLLM_TYPE_Q8_0, x, buf, -32) == MLLM_ERR_INVALID_ARGUMENT, "negative n");
    x[37] = NAN;
    CHECK(mllm_quantize_row(MLLM_TYPE_Q4_0, x, buf, 64) == MLLM_ERR_INVALID_ARGUMENT, "NaN refused for q4_0");
    CHECK(strstr(mllm_last_error(), "src[37]") != NULL, "message: %s", mllm_last_error());
    CHECK(mllm_quantize_row(MLLM_TYPE_F16, x, buf, 64) == MLLM_OK, "NaN kept by f16");
    for (int i = 0; i < 64; i++) x[i] = (float)i / 8 - 4;
    CHECK(mllm_quantize_row(MLLM_TYPE_Q4_0, x, buf, 64) == MLLM_OK, "q4_0 ok");
    CHECK(mllm_dequantize_row(MLLM_TYPE_Q4_0, buf, y, 64) == MLLM_OK, "q4_0 deq ok");
    for (int i = 0; i < 64; i++) CHECK(fabsf(y[i] - x[i]) <= 0.5f / 8 * 4 + 1e-6f, "api round trip %d", i);
}

int main(void) {
    test_fp16_known_values();
    test_fp16_vs_hardware();
    test_bf16();
    test_known_blocks();
    test_k_quants();
    const int32_t types[] = {MLLM_TYPE_F32, MLLM_TYPE_F16, MLLM_TYPE_BF16, MLLM_TYPE_Q8_0, MLLM_TYPE_Q8_1,
                             MLLM_TYPE_Q4_0, MLLM_TYPE_Q4_1, MLLM_TYPE_Q5_0, MLLM_TYPE_Q5_1};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) test_round_trip(types[i], 32 * 67);
    test_api();
    return test_result("test_quant");
}
