/* AVX-512 dot kernels of the K-quants, included by kernels_k_avx512.c (MLLM_VNNI 0: maddubs +
 * madd) and kernels_k_vnni.c (MLLM_VNNI 1: vpdpbusd); defines the includer's MLLM_FILL_FN.
 * Q4_K / Q5_K run against q8_1 rows, Q6_K against q8_0 rows. Two 32-element activation blocks
 * share a 512-bit register; per group of 4 bytes the integer sum is exact, then scaled in float
 * by d * sc * d_x. Each row's float operations are the same whatever nx, so decode (nx = 1) and
 * batched prompts give the same bits per row. Decode uses these dots too: a matvec taking two
 * weight rows per activation load was up to 25% faster on cache-resident matrices but 2.5x
 * slower streaming from memory (Zen 4), and even with software prefetch no faster than this. */
#ifndef MLLM_VNNI
#error "define MLLM_VNNI and MLLM_FILL_FN before including kernels_k_avx512_body.h"
#endif

#include "cpu/simd_x86_common.h"
#include "quant/kquant.h"

/* sum of u_i x_i (u unsigned, x signed bytes) per group of 4 bytes: 16 int32, exact for u <= 127 */
MLLM_INLINE __m512i k_dot_u8s8(__m512i u, __m512i x) {
#if MLLM_VNNI
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, x);
#else
    return _mm512_madd_epi16(_mm512_maddubs_epi16(u, x), _mm512_set1_epi16(1));
#endif
}

/* same for (u - 32) x, u in 0..63 */
MLLM_INLINE __m512i k_dot_u8s8_off32(__m512i u, __m512i x) {
    const __m512i c32 = _mm512_set1_epi8(32);
#if MLLM_VNNI
    return _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), u, x), _mm512_dpbusd_epi32(_mm512_setzero_si512(), c32, x));
#else
    /* int16 pair sums of u x (<= 2 * 63 * 128) and 32 x (<= 2 * 32 * 128): no saturation */
    __m512i p = _mm512_sub_epi16(_mm512_maddubs_epi16(u, x), _mm512_maddubs_epi16(c32, x));
    return _mm512_madd_epi16(p, _mm512_set1_epi16(1));
#endif
}

MLLM_INLINE __m512i k_join(const int8_t *a, const int8_t *b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)a)),
                              _mm256_loadu_si256((const __m256i *)b), 1);
}

MLLM_INLINE __m256 k_u8x8_to_ps(uint64_t v) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)v))); }

/* The NX activation rows (q8_1 for Q4_K / Q5_K, q8_0 for Q6_K, as bytes) and their accumulators:
 * two per row (even / odd blocks) and one for the Q4_K / Q5_K min terms. */
MLLM_INLINE void k_rows_init(const void *xv, size_t xs, const char **x, __m512 *acc, __m512 *acc2, __m256 *accm, const int NX) {
    for (int j = 0; j < NX; j++) {
        x[j] = (const char *)xv + (size_t)j * xs;
        acc[j] = acc2[j] = _mm512_setzero_ps();
        accm[j] = _mm256_setzero_ps();
    }
}

/* Q4_K / Q5_K: register c holds blocks 2c (low nibbles of qs[32c..]) and 2c+1 (high nibbles); the
 * lanes' scales d sc come from one permute of the 8 scales. Q5_K adds 16 where bit 2c
 * (first half) or 2c+1 (second half) of qh[l] is set. The min term dmin m_i d_x sum(x) is one fma
 * of 8 lanes per row and super-block. */
MLLM_INLINE void dot_q45_k_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX,
                             const int T) {
    const int five = T == MLLM_TYPE_Q5_K;
    const char *x[MLLM_DOT_MAX_NX];
    __m512 acc[MLLM_DOT_MAX_NX], acc2[MLLM_DOT_MAX_NX];
    __m256 accm[MLLM_DOT_MAX_NX];
    k_rows_init(xv, xs, x, acc, acc2, accm, NX);
    const int64_t nsb = k / QK_K, spr = MLLM_XD_ROW_Q8_1(k); /* xd floats per row */
    const __m512i m4 = _mm512_set1_epi8(0x0f), c16 = _mm512_set1_epi8(16);
    const __m512i pair0 = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m512i bit0 = _mm512_inserti64x4(_mm512_set1_epi8(1), _mm256_set1_epi8(2), 1);
    for (int64_t sb = 0; sb < nsb; sb++) {
        const block_q4_K *b4k = (const block_q4_K *)w + sb;
        const block_q5_K *b5k = (const block_q5_K *)w + sb;
        const mllm_fp16 *dd = five ? &b5k->d : &b4k->d; /* d, dmin lead both layouts */
        const uint8_t *qs = five ? b5k->qs : b4k->qs;
        uint64_t sc, mn;
        kq_scales_words(five ? b5k->scales : b4k->scales, &sc, &mn);
        const __m512 dsc = _mm512_castps256_ps512(_mm256_mul_ps(_mm256_set1_ps(h2f(dd[0])), k_u8x8_to_ps(sc)));
        const __m256 dm = _mm256_mul_ps(_mm256_set1_ps(h2f(dd[1])), k_u8x8_to_ps(mn));
        const __m512i qh = five ? _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)b5k->qh)) : _mm512_setzero_si512();
        __m512i idx = pair0, bits = bit0;
        for (int c = 0; c < 4; c++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
            __m512i q = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(v), _mm256_srli_epi16(v, 4), 1), m4);
            if (five) {
                q = _mm512_mask_add_epi8(q, _mm512_test_epi8_mask(qh, bits), q, c16);
                bits = _mm512_slli_epi16(bits, 2); /* 1,2 -> 4,8 -> 16,32 -> 64,128: never crosses a byte */
            }
            const __m512 sp = _mm512_permutexvar_ps(idx, dsc);
            idx = _mm512_add_epi32(idx, _mm512_set1_epi32(2));
            for (int j = 0; j < NX; j++) {
                const block_q8_1 *xb = (const block_q8_1 *)x[j] + 8 * sb + 2 * c;
                __m512 f = _mm512_cvtepi32_ps(k_dot_u8s8(q, k_join(xb[0].qs, xb[1].qs)));
                __m512 scale = _mm512_mul_ps(sp, _mm512_loadu_ps(xd + j * spr + (8 * sb + 2 * c) * MLLM_XD_LANES));
                if (c & 1) acc2[j] = _mm512_fmadd_ps(scale, f, acc2[j]);
                else acc[j] = _mm512_fmadd_ps(scale, f, acc[j]);
            }
        }
        for (int j = 0; j < NX; j++) /* the rows' exact block sums d_x sum(q_x), kernels.h */
            accm[j] = _mm256_fmadd_ps(dm, _mm256_loadu_ps(xd + j * spr + MLLM_XD_SUMS(k) + 8 * sb), accm[j]);
    }
    for (int j = 0; j < NX; j++) out[j] = _mm512_reduce_add_ps(_mm512_add_ps(acc[j], acc2[j])) - hsum256(accm[j]);
}

/* Q6_K: one 512-bit load of ql[64 hh ..] holds the low nibbles of blocks 4hh and 4hh+1 and, as
 * high nibbles, of 4hh+2 and 4hh+3; qh[32 hh ..] (in both halves) gives the bit pairs, moved to
 * bits 4..5 by per-half 16-bit shifts (the 0x30 mask drops bits from the neighbouring byte).
 * Lanes of 4 int32 are one sub-block of 16, scaled by d sc from one permute of the 16 scales. */
MLLM_INLINE void dot_q6_k_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX,
                            const int T) {
    const char *x[MLLM_DOT_MAX_NX];
    __m512 acc[MLLM_DOT_MAX_NX], acc2[MLLM_DOT_MAX_NX];
    __m256 accm[MLLM_DOT_MAX_NX];
    k_rows_init(xv, xs, x, acc, acc2, accm, NX);
    const int64_t nsb = k / QK_K, spr = MLLM_XD_ROW_Q8_0(k); /* xd floats per row */
    const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
    const __m512i shl01 = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1); /* blocks 0, 1 */
    const __m512i shr23 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1); /* blocks 2, 3 */
    const __m512i quad = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    for (int64_t sb = 0; sb < nsb; sb++) {
        const block_q6_K *b = (const block_q6_K *)w + sb;
        const __m512 dsc = _mm512_mul_ps(_mm512_set1_ps(h2f(b->d)),
                                         _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)b->scales))));
        for (int hh = 0; hh < 2; hh++) {
            __m512i l = _mm512_loadu_si512((const void *)(b->ql + 64 * hh));
            __m512i hv = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(b->qh + 32 * hh)));
            __m512i q[2];
            q[0] = _mm512_or_si512(_mm512_and_si512(l, m4), _mm512_and_si512(_mm512_sllv_epi16(hv, shl01), m30));
            q[1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4), _mm512_and_si512(_mm512_srlv_epi16(hv, shr23), m30));
            for (int p = 0; p < 2; p++) {
                const int i = 4 * hh + 2 * p; /* first block of the pair within the super-block */
                const __m512 sp = _mm512_permutexvar_ps(_mm512_add_epi32(quad, _mm512_set1_epi32(2 * i)), dsc);
                for (int j = 0; j < NX; j++) {
                    const block_q8_0 *xb = (const block_q8_0 *)x[j] + 8 * sb + i;
                    __m512 f = _mm512_cvtepi32_ps(k_dot_u8s8_off32(q[p], k_join(xb[0].qs, xb[1].qs)));
                    __m512 scale = _mm512_mul_ps(sp, _mm512_loadu_ps(xd + j * spr + (8 * sb + i) * MLLM_XD_LANES));
                    if (p) acc2[j] = _mm512_fmadd_ps(scale, f, acc2[j]);
                    else acc[j] = _mm512_fmadd_ps(scale, f, acc[j]);
                }
            }
        }
    }
    for (int j = 0; j < NX; j++) out[j] = _mm512_reduce_add_ps(_mm512_add_ps(acc[j], acc2[j]));
}

MLLM_DOT_ENTRY(dot_q4_K, dot_q45_k_n, MLLM_TYPE_Q4_K)
MLLM_DOT_ENTRY(dot_q5_K, dot_q45_k_n, MLLM_TYPE_Q5_K)
MLLM_DOT_ENTRY(dot_q6_K, dot_q6_k_n, MLLM_TYPE_Q6_K)

void MLLM_FILL_FN(mllm_kernels *k) {
    k->dot[MLLM_KSLOT_Q4_K] = dot_q4_K;
    k->dot[MLLM_KSLOT_Q5_K] = dot_q5_K;
    k->dot[MLLM_KSLOT_Q6_K] = dot_q6_K;
    /* Weights of these types are packed at this level too: the AVX2 panel kernels (kept in the table
     * from the level below) beat these row kernels and the tiles over unpacked rows on an AVX-512 VNNI
     * EPYC, for prompts (1B Q4_K_M: 1.7x) and decode (1.6x); docs/performance.md */
}
