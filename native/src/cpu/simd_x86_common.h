/* Small inline helpers shared by the x86 SIMD kernel files. Include only from files compiled
 * with at least AVX2 + FMA + F16C (kernels_avx2.c, kernels_avx512.c, kernels_vnni.c). */
#ifndef MLLM_SIMD_X86_COMMON_H
#define MLLM_SIMD_X86_COMMON_H

#include <immintrin.h>
#include <stdint.h>

#include "quant/quant.h"

#define MLLM_INLINE static inline __attribute__((always_inline))

/* Hides the register v from the optimiser: a product passed through this is rounded on its own,
 * never fused with the add that follows into a multiply-add (GCC contracts intrinsics too), where
 * a kernel must give the scalar level's bits. */
#define MLLM_KEEP_ROUNDED(v) __asm__("" : "+x"(v))

MLLM_INLINE float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Hardware half -> float; identical to mllm_fp16_to_fp32 (checked by test_quant). */
MLLM_INLINE float h2f(mllm_fp16 h) { return _cvtsh_ss(h); }

/* 16 bytes of packed nibbles -> 32 bytes, element j of the block in byte j (low nibbles are
 * elements 0..15, high nibbles 16..31), values 0..15. */
MLLM_INLINE __m256i unpack_nibbles(const uint8_t *qs) {
    __m128i b = _mm_loadu_si128((const __m128i *)qs);
    __m128i m = _mm_set1_epi8(0x0f);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), m), _mm_and_si128(b, m));
}

/* 32 bits of qh -> 32 bytes that are 0x10 where bit j is set, else 0 (the q5 fifth bit). */
MLLM_INLINE __m256i expand_qh(const uint8_t qh[4]) {
    uint32_t bits = (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
    const __m256i pick = _mm256_set_epi64x(0x0303030303030303LL, 0x0202020202020202LL,
                                           0x0101010101010101LL, 0x0000000000000000LL);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), pick);
    v = _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}

/* sum over 32 lanes of w_j * x_j (signed bytes both), as 8 int32 partial sums. |w| <= 127 or
 * w = -128 with x != -128 keeps maddubs's int16 pair sums exact (true for reference quants). */
MLLM_INLINE __m256i dot_s8_avx2(__m256i w, __m256i x) {
    __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/* Unsigned w (0..31) times signed x: no sign trick needed. */
MLLM_INLINE __m256i dot_u8s8_avx2(__m256i w, __m256i x) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1));
}

/* roundf (half away from zero) of 8 floats, exactly: truncate, then step away from zero when the
 * dropped fraction is >= 0.5 (v - trunc(v) is exact for |v| < 2^23). */
MLLM_INLINE __m256 round_half_away(__m256 v) {
    __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m256 signmask = _mm256_set1_ps(-0.0f);
    __m256 frac = _mm256_andnot_ps(signmask, _mm256_sub_ps(v, t));
    __m256 one = _mm256_or_ps(_mm256_and_ps(v, signmask), _mm256_set1_ps(1.0f));
    __m256 step = _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ), one);
    return _mm256_add_ps(t, step);
}

/* Quantizes 32 floats with reciprocal scale id into 32 int8 (as the reference: roundf(x * id));
 * returns the sum of the quants through *sum when sum != NULL. */
MLLM_INLINE void quant_block_q8(const float *x, float id, int8_t *qs, int *sum) {
    __m256 vid = _mm256_set1_ps(id);
    __m256i q[4];
    for (int i = 0; i < 4; i++)
        q[i] = _mm256_cvtps_epi32(round_half_away(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * i), vid)));
    if (sum) {
        __m256i s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
        __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
        t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4e));
        t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xb1));
        *sum = _mm_cvtsi128_si32(t);
    }
    /* packs work per 128-bit lane; the final permute restores element order */
    __m256i p16a = _mm256_packs_epi32(q[0], q[1]), p16b = _mm256_packs_epi32(q[2], q[3]);
    __m256i p8 = _mm256_packs_epi16(p16a, p16b);
    p8 = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)qs, p8);
}

MLLM_INLINE float block_absmax(const float *x) {
    __m256 signmask = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_andnot_ps(signmask, _mm256_loadu_ps(x));
    for (int i = 1; i < 4; i++) m = _mm256_max_ps(m, _mm256_andnot_ps(signmask, _mm256_loadu_ps(x + 8 * i)));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#endif
