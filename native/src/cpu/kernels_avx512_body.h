/* AVX-512 kernel bodies, included by kernels_avx512.c (MLLM_VNNI 0: maddubs + madd for int8
 * products) and kernels_vnni.c (MLLM_VNNI 1: vpdpbusd). Each includer is compiled with the
 * matching -m flags; this file defines static functions plus the includer's fill function
 * MLLM_FILL_FN. Two 32-element blocks share one 512-bit register; an odd last block takes the
 * 256-bit path. */
#ifndef MLLM_VNNI
#error "define MLLM_VNNI and MLLM_FILL_FN before including kernels_avx512_body.h"
#endif

#include <math.h>

#include "cpu/simd_x86_common.h"

/* ---- int8 products --------------------------------------------------------------------------- */

/* sum_j w_j x_j over each group of 4 bytes (w, x signed): 16 int32. */
MLLM_INLINE __m512i dot_s8_512(__m512i w, __m512i x) {
    __m512i aw = _mm512_abs_epi8(w);
    __m512i sx = _mm512_mask_sub_epi8(x, _mm512_movepi8_mask(w), _mm512_setzero_si512(), x);
#if MLLM_VNNI
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), aw, sx);
#else
    return _mm512_madd_epi16(_mm512_maddubs_epi16(aw, sx), _mm512_set1_epi16(1));
#endif
}

/* w unsigned (0..31), x signed. */
MLLM_INLINE __m512i dot_u8s8_512(__m512i w, __m512i x) {
#if MLLM_VNNI
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), w, x);
#else
    return _mm512_madd_epi16(_mm512_maddubs_epi16(w, x), _mm512_set1_epi16(1));
#endif
}

MLLM_INLINE __m256i dot_s8_256(__m256i w, __m256i x) {
#if MLLM_VNNI
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
#else
    return dot_s8_avx2(w, x);
#endif
}

MLLM_INLINE __m256i dot_u8s8_256(__m256i w, __m256i x) {
#if MLLM_VNNI
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), w, x);
#else
    return dot_u8s8_avx2(w, x);
#endif
}

MLLM_INLINE __m512i join256(__m256i lo, __m256i hi) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* [a x8, b x8]: per-block scales for a register holding two blocks' 16 int32 sums. */
MLLM_INLINE __m512 scale_pair(float a, float b) {
    return _mm512_insertf32x8(_mm512_set1_ps(a), _mm256_set1_ps(b), 1);
}

MLLM_INLINE float hsum512(__m512 v) { return _mm512_reduce_add_ps(v); }

/* ---- float weights ---------------------------------------------------------------------------- */

/* 16 weights of type T from element i (lanes outside mask m zero), widened to f32. */
MLLM_INLINE __m512 load16(const void *w, int64_t i, __mmask16 m, const int T) {
    switch (T) {
    case MLLM_TYPE_F32: return _mm512_maskz_loadu_ps(m, (const float *)w + i);
    case MLLM_TYPE_F16: return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)w + i));
    default: { /* bf16: the high half of an f32 */
        __m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t *)w + i);
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    }
}

/* Masked loads handle the tail, so no scalar loop is needed. */
MLLM_INLINE void dot_float_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX,
                             const int T) {
    const float *x[MLLM_DOT_MAX_NX];
    __m512 acc0[MLLM_DOT_MAX_NX], acc1[MLLM_DOT_MAX_NX];
    for (int j = 0; j < NX; j++) {
        x[j] = (const float *)((const char *)xv + (size_t)j * xs);
        acc0[j] = _mm512_setzero_ps();
        acc1[j] = _mm512_setzero_ps();
    }
    int64_t i = 0;
    for (; i + 32 <= k; i += 32) {
        __m512 w0 = load16(w, i, 0xffff, T), w1 = load16(w, i + 16, 0xffff, T);
        for (int j = 0; j < NX; j++) {
            acc0[j] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x[j] + i), acc0[j]);
            acc1[j] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x[j] + i + 16), acc1[j]);
        }
    }
    for (; i < k; i += 16) {
        __mmask16 m = k - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (k - i)) - 1);
        __m512 w0 = load16(w, i, m, T);
        for (int j = 0; j < NX; j++) acc0[j] = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(m, x[j] + i), acc0[j]);
    }
    for (int j = 0; j < NX; j++) out[j] = hsum512(_mm512_add_ps(acc0[j], acc1[j]));
}

/* ---- quantized weights ------------------------------------------------------------------------- */

/* Block b of weights of type T: its quants as 32 bytes (signed for the symmetric q8_0, q4_0,
 * q5_0; 0..15 / 0..31 for q4_1, q5_1), its scale d and (q4_1, q5_1) its min m. */
MLLM_INLINE __m256i weight_quants(const void *w, int64_t b, const int T) {
    switch (T) {
    case MLLM_TYPE_Q8_0: return _mm256_loadu_si256((const __m256i *)((const block_q8_0 *)w)[b].qs);
    case MLLM_TYPE_Q4_0: return _mm256_sub_epi8(unpack_nibbles(((const block_q4_0 *)w)[b].qs), _mm256_set1_epi8(8));
    case MLLM_TYPE_Q5_0: {
        const block_q5_0 *blk = (const block_q5_0 *)w + b;
        return _mm256_sub_epi8(_mm256_or_si256(unpack_nibbles(blk->qs), expand_qh(blk->qh)), _mm256_set1_epi8(16));
    }
    case MLLM_TYPE_Q4_1: return unpack_nibbles(((const block_q4_1 *)w)[b].qs);
    default: { /* q5_1 */
        const block_q5_1 *blk = (const block_q5_1 *)w + b;
        return _mm256_or_si256(unpack_nibbles(blk->qs), expand_qh(blk->qh));
    }
    }
}
MLLM_INLINE float weight_scale(const void *w, int64_t b, const int T) { return h2f(mllm_block_d(w, b, T)); }
MLLM_INLINE float weight_min(const void *w, int64_t b, const int T) { return h2f(mllm_block_m(w, b, T)); }

/* Blocks b and b+1 in one register. q4_0 unpacks both blocks' nibbles in one 256-bit pass, then
 * orders the 128-bit lanes as (lo b, hi b, lo b+1, hi b+1). */
MLLM_INLINE __m512i weight_quants2(const void *w, int64_t b, const int T) {
    if (T != MLLM_TYPE_Q4_0) return join256(weight_quants(w, b, T), weight_quants(w, b + 1, T));
    const block_q4_0 *blk = (const block_q4_0 *)w + b;
    __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)blk[0].qs)),
                                           _mm_loadu_si128((const __m128i *)blk[1].qs), 1);
    __m256i m = _mm256_set1_epi8(0x0f);
    __m256i lo = _mm256_and_si256(both, m), hi = _mm256_and_si256(_mm256_srli_epi16(both, 4), m);
    __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); /* lo b, lo b+1, hi b, hi b+1 */
    z = _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0));
    return _mm512_sub_epi8(z, _mm512_set1_epi8(8));
}

MLLM_INLINE __m256i xq8(const block_q8_0 *x, int64_t b) { return _mm256_loadu_si256((const __m256i *)x[b].qs); }
MLLM_INLINE __m256i xq81(const block_q8_1 *x, int64_t b) { return _mm256_loadu_si256((const __m256i *)x[b].qs); }

/* Decode (one activation row) of the nibble types in 256-bit registers with two accumulators:
 * measured faster than the 512-bit pair path on Sapphire Rapids with all cores busy. */
MLLM_INLINE __m256 sym256_step(const void *w, int64_t b, const block_q8_0 *x0, const float *xd, __m256 acc, const int T) {
    return _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(weight_scale(w, b, T)), _mm256_loadu_ps(xd + b * MLLM_XD_LANES)),
                           _mm256_cvtepi32_ps(dot_s8_256(weight_quants(w, b, T), xq8(x0, b))), acc);
}
MLLM_INLINE float dot_sym256_decode(int64_t k, const void *w, const void *xv, const float *xd, const int T) {
    const block_q8_0 *x0 = (const block_q8_0 *)xv;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    const int64_t nb = k / 32;
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        a0 = sym256_step(w, b, x0, xd, a0, T);
        a1 = sym256_step(w, b + 1, x0, xd, a1, T);
    }
    if (b < nb) a0 = sym256_step(w, b, x0, xd, a0, T);
    return hsum256(_mm256_add_ps(a0, a1));
}

/* Symmetric weights against q8_0 rows: pairs of blocks per 512-bit register. */
MLLM_INLINE void dot_sym_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX,
                           const int T) {
    if (NX == 1 && T != MLLM_TYPE_Q8_0) {
        out[0] = dot_sym256_decode(k, w, xv, xd, T);
        return;
    }
    const block_q8_0 *x[MLLM_DOT_MAX_NX];
    __m512 acc[MLLM_DOT_MAX_NX];
    for (int j = 0; j < NX; j++) {
        x[j] = (const block_q8_0 *)((const char *)xv + (size_t)j * xs);
        acc[j] = _mm512_setzero_ps();
    }
    const int64_t nb = k / 32, spr = nb * MLLM_XD_LANES; /* xd floats per row */
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        __m512i wq = weight_quants2(w, b, T);
        __m512 dw = scale_pair(weight_scale(w, b, T), weight_scale(w, b + 1, T));
        for (int j = 0; j < NX; j++) {
            __m512i s = dot_s8_512(wq, join256(xq8(x[j], b), xq8(x[j], b + 1)));
            __m512 d = _mm512_mul_ps(dw, _mm512_loadu_ps(xd + j * spr + b * MLLM_XD_LANES));
            acc[j] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc[j]);
        }
    }
    for (int j = 0; j < NX; j++) {
        float s = hsum512(acc[j]);
        if (b < nb) {
            __m256i p = dot_s8_256(weight_quants(w, b, T), xq8(x[j], b));
            s += hsum256(_mm256_mul_ps(_mm256_set1_ps(weight_scale(w, b, T) * h2f(x[j][b].d)), _mm256_cvtepi32_ps(p)));
        }
        out[j] = s;
    }
}

/* Offset weights (x = d q + m) against q8_1 rows: d_w d_x sum(q qx) + m_w s_x per block. */
MLLM_INLINE void dot_asym_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX,
                            const int T) {
    const block_q8_1 *x[MLLM_DOT_MAX_NX];
    __m512 acc[MLLM_DOT_MAX_NX];
    float msum[MLLM_DOT_MAX_NX];
    for (int j = 0; j < NX; j++) {
        x[j] = (const block_q8_1 *)((const char *)xv + (size_t)j * xs);
        acc[j] = _mm512_setzero_ps();
        msum[j] = 0.0f;
    }
    const int64_t nb = k / 32, spr = MLLM_XD_ROW_Q8_1(k); /* xd floats per row */
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        __m512i wq = join256(weight_quants(w, b, T), weight_quants(w, b + 1, T));
        __m512 dw = scale_pair(weight_scale(w, b, T), weight_scale(w, b + 1, T));
        float m0 = weight_min(w, b, T), m1 = weight_min(w, b + 1, T);
        for (int j = 0; j < NX; j++) {
            __m512i s = dot_u8s8_512(wq, join256(xq81(x[j], b), xq81(x[j], b + 1)));
            __m512 d = _mm512_mul_ps(dw, _mm512_loadu_ps(xd + j * spr + b * MLLM_XD_LANES));
            acc[j] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc[j]);
            msum[j] += m0 * h2f(x[j][b].s) + m1 * h2f(x[j][b + 1].s);
        }
    }
    for (int j = 0; j < NX; j++) {
        float s = hsum512(acc[j]) + msum[j];
        if (b < nb) {
            __m256i p = dot_u8s8_256(weight_quants(w, b, T), xq81(x[j], b));
            s += hsum256(_mm256_mul_ps(_mm256_set1_ps(weight_scale(w, b, T) * h2f(x[j][b].d)), _mm256_cvtepi32_ps(p)));
            s += weight_min(w, b, T) * h2f(x[j][b].s);
        }
        out[j] = s;
    }
}

MLLM_DOT_ENTRY(dot_f32, dot_float_n, MLLM_TYPE_F32)
MLLM_DOT_ENTRY(dot_f16, dot_float_n, MLLM_TYPE_F16)
MLLM_DOT_ENTRY(dot_bf16, dot_float_n, MLLM_TYPE_BF16)
MLLM_DOT_ENTRY(dot_q8_0, dot_sym_n, MLLM_TYPE_Q8_0)
MLLM_DOT_ENTRY(dot_q4_0, dot_sym_n, MLLM_TYPE_Q4_0)
MLLM_DOT_ENTRY(dot_q5_0, dot_sym_n, MLLM_TYPE_Q5_0)
MLLM_DOT_ENTRY(dot_q4_1, dot_asym_n, MLLM_TYPE_Q4_1)
MLLM_DOT_ENTRY(dot_q5_1, dot_asym_n, MLLM_TYPE_Q5_1)

/* ---- single-row matmul (decode) ---------------------------------------------------------------- */

/* [d0, d1] halves -> 16 floats in the lane pattern PAT (0: d0, 1: d1). */
MLLM_INLINE __m512 pair_scales(mllm_fp16 d0, mllm_fp16 d1, __m512i pat) {
    __m128i hh = _mm_insert_epi16(_mm_cvtsi32_si128(d0), d1, 1);
    return _mm512_permutexvar_ps(pat, _mm512_castps128_ps512(_mm_cvtph_ps(hh)));
}

/* unsigned bytes times signed bytes summed over groups of 4, added to acc */
MLLM_INLINE __m512i dp_u8s8_acc(__m512i acc, __m512i u, __m512i s) {
#if MLLM_VNNI
    return _mm512_dpbusd_epi32(acc, u, s);
#else
    return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(u, s), _mm512_set1_epi16(1)));
#endif
}

/* q4_0 weights: nibbles (0..15) times the permuted activations, with the -8 offset folded into
 * the accumulator's start value (aux layout in kernels.h); two pairs of blocks per step. */
static void gemv_q4_0(int64_t k, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *xv, const float *xd,
                      const void *aux, float *y) {
    const int64_t nb = k / 32, np = nb / 2;
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    const __m512i pat = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1);
    const uint8_t *A = aux;
    for (int64_t r = r0; r < r1; r++) {
        const block_q4_0 *wb = (const block_q4_0 *)((const char *)w + (size_t)(r - r0) * wrb);
        __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
        int64_t p = 0;
        for (; p < np; p++) {
            const block_q4_0 *b0 = wb + 2 * p;
            const uint8_t *a = A + (size_t)p * MLLM_GEMV_PAIR_BYTES;
            __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)b0[0].qs)),
                                                _mm_loadu_si128((const __m128i *)b0[1].qs), 1);
            __m512i nib = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(v), _mm256_srli_epi16(v, 4), 1), m4);
            __m512i s = dp_u8s8_acc(_mm512_loadu_si512((const void *)(a + 64)), nib, _mm512_loadu_si512((const void *)a));
            __m512 d = _mm512_mul_ps(pair_scales(b0[0].d, b0[1].d, pat), _mm512_loadu_ps((const float *)(a + 128)));
            if (p & 1) acc1 = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc1);
            else acc0 = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc0);
        }
        if (2 * p < nb) { /* odd last block: its pair partner is zeros in aux */
            const block_q4_0 *b0 = wb + 2 * p;
            const uint8_t *a = A + (size_t)p * MLLM_GEMV_PAIR_BYTES;
            __m256i v = _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)b0[0].qs));
            __m512i nib = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(v), _mm256_srli_epi16(v, 4), 1), m4);
            __m512i s = dp_u8s8_acc(_mm512_loadu_si512((const void *)(a + 64)), nib, _mm512_loadu_si512((const void *)a));
            __m512 d = _mm512_mul_ps(pair_scales(b0[0].d, 0, pat), _mm512_loadu_ps((const float *)(a + 128)));
            acc0 = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc0);
        }
        y[r] = hsum512(_mm512_add_ps(acc0, acc1));
    }
}

/* q8_0 weights against the plain q8_0 row: pairs of blocks in one register, sign trick for the
 * signed x signed products, scales from xd. */
static void gemv_q8_0(int64_t k, const void *w, size_t wrb, int64_t r0, int64_t r1, const void *xv, const float *xd,
                      const void *aux, float *y) {
    const int64_t nb = k / 32, np = nb / 2;
    const block_q8_0 *x = xv;
    const __m512i pat = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    for (int64_t r = r0; r < r1; r++) {
        const block_q8_0 *wb = (const block_q8_0 *)((const char *)w + (size_t)(r - r0) * wrb);
        __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
        int64_t p = 0;
        for (; p < np; p++) {
            const block_q8_0 *b0 = wb + 2 * p;
            __m512i wq = join256(_mm256_loadu_si256((const __m256i *)b0[0].qs), _mm256_loadu_si256((const __m256i *)b0[1].qs));
            __m512i xq = join256(xq8(x, 2 * p), xq8(x, 2 * p + 1));
            __m512i s = dot_s8_512(wq, xq);
            __m512 d = _mm512_mul_ps(pair_scales(b0[0].d, b0[1].d, pat), _mm512_loadu_ps(xd + 2 * p * MLLM_XD_LANES));
            if (p & 1) acc1 = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc1);
            else acc0 = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc0);
        }
        float t = hsum512(_mm512_add_ps(acc0, acc1));
        if (2 * p < nb) {
            __m256i s = dot_s8_256(weight_quants(wb, 2 * p, MLLM_TYPE_Q8_0), xq8(x, 2 * p));
            t += hsum256(_mm256_mul_ps(_mm256_set1_ps(weight_scale(wb, 2 * p, MLLM_TYPE_Q8_0) * h2f(x[2 * p].d)),
                                       _mm256_cvtepi32_ps(s)));
        }
        y[r] = t;
    }
}

#if MLLM_VNNI
/* ---- 4x4 tiles (prompt processing) --------------------------------------------------------------
 * Every (weight row, activation row) pair costs one vpdpbusd, a convert, a scale multiply and an
 * fma per two blocks; the unsigned operand's offset is removed by starting the accumulator at a
 * precomputed correction: q4_0 multiplies nibbles (0..15) by x and starts at -8 * sum(x); q8_0
 * multiplies x + 128 (unsigned) by w and starts at -128 * sum(w). Lanes 0..7 hold block b, 8..15
 * block b+1. */

/* out[i] = horizontal sum of a[i] for 8 vectors */
MLLM_INLINE __m256 hsum8x8(const __m256 *a) {
    __m256 h01 = _mm256_hadd_ps(a[0], a[1]), h23 = _mm256_hadd_ps(a[2], a[3]);
    __m256 h45 = _mm256_hadd_ps(a[4], a[5]), h67 = _mm256_hadd_ps(a[6], a[7]);
    __m256 q0 = _mm256_hadd_ps(h01, h23), q1 = _mm256_hadd_ps(h45, h67); /* per 128-bit half: sums of 0..3 / 4..7 */
    __m256 lo = _mm256_permute2f128_ps(q0, q1, 0x20), hi = _mm256_permute2f128_ps(q0, q1, 0x31);
    return _mm256_add_ps(lo, hi);
}

/* out[i] = horizontal sum of acc[i], i < 16 */
MLLM_INLINE void hsum16(const __m512 *acc, float *out) {
    __m256 h[16];
    for (int i = 0; i < 16; i++) h[i] = _mm256_add_ps(_mm512_castps512_ps256(acc[i]), _mm512_extractf32x8_ps(acc[i], 1));
    _mm256_storeu_ps(out, hsum8x8(h));
    _mm256_storeu_ps(out + 8, hsum8x8(h + 8));
}

/* both blocks' nibbles in element order: (b 0..15, b 16..31, b+1 0..15, b+1 16..31) */
MLLM_INLINE __m512i q4_0_nib2(const block_q4_0 *blk) {
    __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)blk[0].qs)),
                                           _mm_loadu_si128((const __m128i *)blk[1].qs), 1);
    __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(both), _mm256_srli_epi16(both, 4), 1);
    z = _mm512_and_si512(z, _mm512_set1_epi8(0x0f)); /* lo b, lo b+1, hi b, hi b+1 */
    return _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0));
}

static void gemm4_q4_0(int64_t k, const void *w, size_t wrb, const void *xv, size_t xs, const float *xd,
                       int64_t xds, float *out) {
    const int64_t np = k / 64;
    const __m512i pat = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m512i eights = _mm512_set1_epi8(8);
    __m512 acc[16];
    for (int i = 0; i < 16; i++) acc[i] = _mm512_setzero_ps();
    for (int64_t p = 0; p < np; p++) {
        __m512i nib[4];
        __m512 dw[4];
        for (int i = 0; i < 4; i++) {
            const block_q4_0 *b0 = (const block_q4_0 *)((const char *)w + (size_t)i * wrb) + 2 * p;
            nib[i] = q4_0_nib2(b0);
            dw[i] = pair_scales(b0[0].d, b0[1].d, pat);
        }
        for (int j = 0; j < 4; j++) {
            const block_q8_0 *xb = (const block_q8_0 *)((const char *)xv + (size_t)j * xs) + 2 * p;
            __m512i xq = join256(_mm256_loadu_si256((const __m256i *)xb[0].qs), _mm256_loadu_si256((const __m256i *)xb[1].qs));
            __m512i corr = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), eights, xq));
            __m512 dx = _mm512_loadu_ps(xd + j * xds + 2 * p * MLLM_XD_LANES);
            for (int i = 0; i < 4; i++) {
                __m512i s = _mm512_dpbusd_epi32(corr, nib[i], xq);
                acc[i * 4 + j] = _mm512_fmadd_ps(_mm512_mul_ps(dw[i], dx), _mm512_cvtepi32_ps(s), acc[i * 4 + j]);
            }
        }
    }
    hsum16(acc, out);
}

/* Tiles over unpacked rows (cpu/unpack.h): per pair of blocks 64 quant bytes, 16 lane scales and
 * (MIN) 16 lane mins. The offset is removed like q4_0's (accumulator starts at -off * sum(x));
 * the min term adds min * sum(x) per lane: MIN 1 with sum(x) from one vpdpbusd with ones per
 * activation row (the K-quants), MIN 2 with each q8_1 block's fp16 s (= d * sum), spread over its
 * 8 lanes (q4_1, q5_1). */
MLLM_INLINE void gemm4u_n(int64_t k, const void *w, size_t wrb, int off, const void *xv, size_t xs, const float *xd,
                          int64_t xds, float *out, const int MIN) {
    const int64_t np = k / 64;
    const size_t pb = MIN ? 192 : 128;
    const __m512i offv = _mm512_set1_epi8((char)off), ones = _mm512_set1_epi8(1);
    const __m512i pat = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    __m512 acc[16];
    for (int i = 0; i < 16; i++) acc[i] = _mm512_setzero_ps();
    for (int64_t p = 0; p < np; p++) {
        __m512i q[4];
        __m512 sc[4], mn[4];
        for (int i = 0; i < 4; i++) {
            const uint8_t *u = (const uint8_t *)w + (size_t)i * wrb + (size_t)p * pb;
            q[i] = _mm512_loadu_si512((const void *)u);
            sc[i] = _mm512_loadu_ps((const float *)(u + 64));
            mn[i] = MIN ? _mm512_loadu_ps((const float *)(u + 128)) : _mm512_setzero_ps();
        }
        for (int j = 0; j < 4; j++) {
            const block_q8_0 *xb0 = (const block_q8_0 *)((const char *)xv + (size_t)j * xs);
            const int8_t *x0 = MIN ? ((const block_q8_1 *)xb0)[2 * p].qs : xb0[2 * p].qs;
            const int8_t *x1 = MIN ? ((const block_q8_1 *)xb0)[2 * p + 1].qs : xb0[2 * p + 1].qs;
            __m512i xq = join256(_mm256_loadu_si256((const __m256i *)x0), _mm256_loadu_si256((const __m256i *)x1));
            __m512 dx = _mm512_loadu_ps(xd + j * xds + 2 * p * MLLM_XD_LANES);
            __m512i corr = MIN ? _mm512_setzero_si512()
                               : _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), offv, xq));
            const block_q8_1 *xs1 = (const block_q8_1 *)xb0;
            __m512 sxf = MIN == 2 ? _mm512_mul_ps(pair_scales(xs1[2 * p].s, xs1[2 * p + 1].s, pat), _mm512_set1_ps(0.125f))
                         : MIN ? _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, xq)), dx)
                               : _mm512_setzero_ps();
            for (int i = 0; i < 4; i++) {
                __m512i s = _mm512_dpbusd_epi32(corr, q[i], xq);
                acc[i * 4 + j] = _mm512_fmadd_ps(_mm512_mul_ps(sc[i], dx), _mm512_cvtepi32_ps(s), acc[i * 4 + j]);
                if (MIN) acc[i * 4 + j] = _mm512_fmadd_ps(mn[i], sxf, acc[i * 4 + j]);
            }
        }
    }
    hsum16(acc, out);
}

static void gemm4u_off(int64_t k, const void *w, size_t wrb, int off, const void *xv, size_t xs, const float *xd,
                       int64_t xds, float *out) {
    gemm4u_n(k, w, wrb, off, xv, xs, xd, xds, out, 0);
}

static void gemm4u_min(int64_t k, const void *w, size_t wrb, int off, const void *xv, size_t xs, const float *xd,
                       int64_t xds, float *out) {
    gemm4u_n(k, w, wrb, off, xv, xs, xd, xds, out, 1);
}

static void gemm4u_min_s(int64_t k, const void *w, size_t wrb, int off, const void *xv, size_t xs, const float *xd,
                         int64_t xds, float *out) {
    gemm4u_n(k, w, wrb, off, xv, xs, xd, xds, out, 2);
}

static void gemm4_q8_0(int64_t k, const void *w, size_t wrb, const void *xv, size_t xs, const float *xd,
                       int64_t xds, float *out) {
    const int64_t np = k / 64;
    const __m512i pat = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m512i c80 = _mm512_set1_epi8((char)0x80);
    __m512 acc[16];
    for (int i = 0; i < 16; i++) acc[i] = _mm512_setzero_ps();
    for (int64_t p = 0; p < np; p++) {
        __m512i wq[4], corr[4];
        __m512 dw[4];
        for (int i = 0; i < 4; i++) {
            const block_q8_0 *b0 = (const block_q8_0 *)((const char *)w + (size_t)i * wrb) + 2 * p;
            wq[i] = join256(_mm256_loadu_si256((const __m256i *)b0[0].qs), _mm256_loadu_si256((const __m256i *)b0[1].qs));
            corr[i] = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), c80, wq[i]));
            dw[i] = pair_scales(b0[0].d, b0[1].d, pat);
        }
        for (int j = 0; j < 4; j++) {
            const block_q8_0 *xb = (const block_q8_0 *)((const char *)xv + (size_t)j * xs) + 2 * p;
            __m512i xq = join256(_mm256_loadu_si256((const __m256i *)xb[0].qs), _mm256_loadu_si256((const __m256i *)xb[1].qs));
            __m512i xu = _mm512_xor_si512(xq, c80); /* x + 128 as unsigned bytes */
            __m512 dx = _mm512_loadu_ps(xd + j * xds + 2 * p * MLLM_XD_LANES);
            for (int i = 0; i < 4; i++) {
                __m512i s = _mm512_dpbusd_epi32(corr[i], xu, wq[i]);
                acc[i * 4 + j] = _mm512_fmadd_ps(_mm512_mul_ps(dw[i], dx), _mm512_cvtepi32_ps(s), acc[i * 4 + j]);
            }
        }
    }
    hsum16(acc, out);
}
#endif

/* ---- vector helpers ----------------------------------------------------------------------------- */

static float vec_dot_f32(const float *a, const float *b, int64_t n) {
    float out;
    dot_float_n(n, a, b, 0, NULL, &out, 1, MLLM_TYPE_F32);
    return out;
}

static float vec_dot_f16_f32(const uint16_t *a, const float *b, int64_t n) {
    float out;
    dot_float_n(n, a, b, 0, NULL, &out, 1, MLLM_TYPE_F16);
    return out;
}

MLLM_INLINE __mmask16 tail_mask(int64_t left) {
    return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
}

/* the eight lanes in one register (kernels.h); x * x is exact in double, so mul + add = the scalar sum */
static double sum_sq_f32(const float *x, int64_t n) {
    __m512d acc = _mm512_setzero_pd();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m512d v = _mm512_cvtps_pd(_mm256_loadu_ps(x + i));
        acc = _mm512_add_pd(acc, _mm512_mul_pd(v, v));
    }
    double lane[8];
    _mm512_storeu_pd(lane, acc);
    return mllm_sum_sq_finish(lane, x, i, n);
}

static void axpy_f32(float *y, const float *x, float a, int64_t n) {
    __m512 va = _mm512_set1_ps(a);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m512 r = _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i));
        _mm512_mask_storeu_ps(y + i, m, r);
    }
}

static void axpy_f16(float *y, const uint16_t *x, float a, int64_t n) {
    __m512 va = _mm512_set1_ps(a);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m512 r = _mm512_fmadd_ps(va, load16(x, i, m, MLLM_TYPE_F16), _mm512_maskz_loadu_ps(m, y + i));
        _mm512_mask_storeu_ps(y + i, m, r);
    }
}

/* roundf (half away from zero) of 16 floats, exactly, as int32: v + copysign(0.5, v) rounded toward
 * zero, then truncated. Rounding that sum toward zero never carries it past an integer it did not
 * reach (integers are representable), where the default rounding would: 0.49999997 + 0.5 rounds
 * to 1.0. */
MLLM_INLINE __m512i roundf_epi32_16(__m512 v) {
    const __m512 half = _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(v), _mm512_set1_epi32((int)0x80000000),
                                                                      _mm512_castps_si512(_mm512_set1_ps(0.5f)), 0xea));
    return _mm512_cvtt_roundps_epi32(_mm512_add_round_ps(v, half, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC), _MM_FROUND_NO_EXC);
}

/* One q8_0 block from its two halves and its scale's inverse id (0 for an all-zero block). */
MLLM_INLINE void quantize_block_q8_0(__m512 v0, __m512 v1, __m512 id, int8_t *qs) {
    _mm_storeu_si128((__m128i *)qs, _mm512_cvtsepi32_epi8(roundf_epi32_16(_mm512_mul_ps(v0, id))));
    _mm_storeu_si128((__m128i *)(qs + 16), _mm512_cvtsepi32_epi8(roundf_epi32_16(_mm512_mul_ps(v1, id))));
}

/* Activation rows -> q8_0, bytes identical to the reference. Each thread quantizes all rows of a
 * few sequences' steps, so this shows in profiles: four blocks go together, their maxima reduced
 * in one shuffle tree and their scales divided, inverted and rounded to fp16 in one register each
 * (the same IEEE operations as one block at a time, so the same bits). */
static void quantize_q8_0(const float *x, void *yv, int64_t k) {
    block_q8_0 *y = yv;
    const int64_t nb = k / 32;
    int64_t b = 0;
    for (; b + 4 <= nb; b += 4, x += 128) {
        __m512 v[8], a[4];
        for (int i = 0; i < 8; i++) v[i] = _mm512_loadu_ps(x + 16 * i);
        for (int j = 0; j < 4; j++) a[j] = _mm512_max_ps(_mm512_abs_ps(v[2 * j]), _mm512_abs_ps(v[2 * j + 1]));
        /* 128-bit quarters: [a0 q0|q1 v q2|q3, a1 ..] and [a2 .., a3 ..], then one quarter per block */
        const __m512 t0 = _mm512_max_ps(_mm512_shuffle_f32x4(a[0], a[1], 0x44), _mm512_shuffle_f32x4(a[0], a[1], 0xee));
        const __m512 t1 = _mm512_max_ps(_mm512_shuffle_f32x4(a[2], a[3], 0x44), _mm512_shuffle_f32x4(a[2], a[3], 0xee));
        __m512 m = _mm512_max_ps(_mm512_shuffle_f32x4(t0, t1, 0x88), _mm512_shuffle_f32x4(t0, t1, 0xdd));
        m = _mm512_max_ps(m, _mm512_permute_ps(m, 0x4e));
        m = _mm512_max_ps(m, _mm512_permute_ps(m, 0xb1)); /* every lane of quarter j: block j's max */
        const __m512 d = _mm512_div_ps(m, _mm512_set1_ps(127.0f));
        const __mmask16 nz = _mm512_cmp_ps_mask(d, _mm512_setzero_ps(), _CMP_NEQ_UQ) /* d != 0.0f */;
        const __m512 id = _mm512_maskz_div_ps(nz, _mm512_set1_ps(1.0f), d);
        _Alignas(32) uint16_t h[16];
        _mm256_store_si256((__m256i *)h, _mm512_cvtps_ph(d, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        for (int j = 0; j < 4; j++) {
            y[b + j].d = h[4 * j];
            quantize_block_q8_0(v[2 * j], v[2 * j + 1], _mm512_permutexvar_ps(_mm512_set1_epi32(4 * j), id), y[b + j].qs);
        }
    }
    for (; b < nb; b++, x += 32) {
        const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
        const float d = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1))) / 127.0f;
        y[b].d = mllm_fp32_to_fp16(d);
        quantize_block_q8_0(v0, v1, _mm512_set1_ps(d != 0.0f ? 1.0f / d : 0.0f), y[b].qs);
    }
}

static void f32_to_f16(uint16_t *dst, const float *src, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_mask_storeu_epi16(dst + i, m, h);
    }
}

/* The vector of floats attn_gqa_body.h and vf_exp_body.h work on, 16 floats wide. */
typedef __m512 vf;
#define VF_LANES 16
#define VF(op) _mm512_##op
MLLM_INLINE vf vf_round_nearest(vf a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
MLLM_INLINE vf vf_scale_pow2(vf p, vf n) { return _mm512_scalef_ps(p, n); }
#include "cpu/vf_exp_body.h"

/* 8 pairs a register: x * (cs, cs) + swap(x) * (-sn, sn), the scalar level's products and sums */
static void rope_pairs(float *x, const float *cs, const float *sn, int64_t n) {
    const __m512i dup = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512 neg_even = _mm512_castsi512_ps(_mm512_set1_epi64(0x80000000));
    for (int64_t i = 0; i < n; i += 8) {
        const __mmask16 m = tail_mask(2 * (n - i));
        const __mmask8 mh = (__mmask8)tail_mask(n - i);
        const __m512 v = _mm512_maskz_loadu_ps(m, x + 2 * i);
        const __m512 c = _mm512_permutexvar_ps(dup, _mm512_castps256_ps512(_mm256_maskz_loadu_ps(mh, cs + i)));
        const __m512 s = _mm512_xor_ps(_mm512_permutexvar_ps(dup, _mm512_castps256_ps512(_mm256_maskz_loadu_ps(mh, sn + i))), neg_even);
        __m512 p = _mm512_mul_ps(v, c), q = _mm512_mul_ps(_mm512_permute_ps(v, 0xb1), s);
        MLLM_KEEP_ROUNDED(p);
        MLLM_KEEP_ROUNDED(q);
        _mm512_mask_storeu_ps(x + 2 * i, m, _mm512_add_ps(p, q));
    }
}

static void swiglu(float *g, const float *u, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        const __m512 x = _mm512_maskz_loadu_ps(m, g + i);
        const __m512 sg = _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), vf_exp(_mm512_sub_ps(_mm512_setzero_ps(), x))));
        _mm512_mask_storeu_ps(g + i, m, _mm512_mul_ps(sg, _mm512_maskz_loadu_ps(m, u + i)));
    }
}

/* The remaining vector operations attn_gqa_body.h needs. */
typedef __mmask16 vmask;
MLLM_INLINE vmask vmask_first(int n) { return n > 0 ? tail_mask(n) : 0; }
MLLM_INLINE vf vf_load_masked(vmask m, const float *p) { return _mm512_maskz_load_ps(m, p); }
MLLM_INLINE vf vf_select(vmask m, vf a, vf b) { return _mm512_mask_mov_ps(b, m, a); }
MLLM_INLINE vf vf_load_f16(const uint16_t *p) { return load16(p, 0, 0xffff, MLLM_TYPE_F16); }
MLLM_INLINE float vf_hsum(vf a) { return hsum512(a); }
MLLM_INLINE float vf_hmax(vf a) { return _mm512_reduce_max_ps(a); }
/* The horizontal sums of four registers, in that order, with 14 shuffles and adds instead of four
 * full reductions. */
MLLM_INLINE __m128 vf_hsum4(vf a0, vf a1, vf a2, vf a3) {
    /* 128-bit quarters: [x.q0 + x.q2, x.q1 + x.q3] for x = a0, a1 (t0) and a2, a3 (t1) */
    __m512 t0 = _mm512_add_ps(_mm512_shuffle_f32x4(a0, a1, _MM_SHUFFLE(1, 0, 1, 0)), _mm512_shuffle_f32x4(a0, a1, _MM_SHUFFLE(3, 2, 3, 2)));
    __m512 t1 = _mm512_add_ps(_mm512_shuffle_f32x4(a2, a3, _MM_SHUFFLE(1, 0, 1, 0)), _mm512_shuffle_f32x4(a2, a3, _MM_SHUFFLE(3, 2, 3, 2)));
    /* quarter i: the four partial sums of a_i */
    __m512 u = _mm512_add_ps(_mm512_shuffle_f32x4(t0, t1, _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_f32x4(t0, t1, _MM_SHUFFLE(3, 1, 3, 1)));
    u = _mm512_add_ps(u, _mm512_permute_ps(u, _MM_SHUFFLE(2, 3, 0, 1)));
    u = _mm512_add_ps(u, _mm512_permute_ps(u, _MM_SHUFFLE(1, 0, 3, 2)));
    return _mm512_castps512_ps128(_mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), u));
}

#include "cpu/attn_gqa_body.h"

void MLLM_FILL_FN(mllm_kernels *k) {
    k->dot[MLLM_KSLOT_F32] = dot_f32;
    k->dot[MLLM_KSLOT_F16] = dot_f16;
    k->dot[MLLM_KSLOT_BF16] = dot_bf16;
    k->dot[MLLM_KSLOT_Q8_0] = dot_q8_0;
    k->dot[MLLM_KSLOT_Q4_0] = dot_q4_0;
    k->dot[MLLM_KSLOT_Q5_0] = dot_q5_0;
    k->dot[MLLM_KSLOT_Q4_1] = dot_q4_1;
    k->dot[MLLM_KSLOT_Q5_1] = dot_q5_1;
    k->gemv[MLLM_KSLOT_Q4_0] = gemv_q4_0;
    k->gemv[MLLM_KSLOT_Q8_0] = gemv_q8_0;
#if MLLM_VNNI
    k->gemm4[MLLM_KSLOT_Q4_0] = gemm4_q4_0;
    k->gemm4[MLLM_KSLOT_Q8_0] = gemm4_q8_0;
    k->gemm4u_off = gemm4u_off;
    k->gemm4u_min = gemm4u_min;
    k->gemm4u_min_s = gemm4u_min_s;
#endif
    k->vec_dot_f32 = vec_dot_f32;
    k->vec_dot_f16_f32 = vec_dot_f16_f32;
    k->axpy_f32 = axpy_f32;
    k->sum_sq_f32 = sum_sq_f32;
    k->axpy_f16 = axpy_f16;
    k->f32_to_f16 = f32_to_f16;
    k->quantize_q8_0 = quantize_q8_0;
    k->attn_f16 = attn_f16_any;
    k->attn_f16_gqa = attn_f16_gqa;
    k->attn_f32_gqa = attn_f32_gqa;
    k->swiglu = swiglu;
    k->rope_pairs = rope_pairs;
}
