/* AVX2 + FMA + F16C dot kernels of the K-quants (Q4_K, Q5_K against q8_1 rows, Q6_K against q8_0
 * rows). Per 32-element activation block the integer sum is exact (maddubs pair sums stay below
 * 2^15: at most 2 * 63 * 128); it is scaled in float by d * sc * d_x. Each row's float operations
 * are the same whatever nx, so decode and batched prompts give the same bits per row. */
#include "cpu/kernels.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include "cpu/simd_x86_common.h"
#include "quant/kquant.h"

/* 8 bytes (byte i = value i) -> 8 floats */
MLLM_INLINE __m256 u8x8_to_ps(uint64_t v) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)v))); }

/* The NX activation rows (q8_1 for Q4_K / Q5_K, q8_0 for Q6_K, as bytes) and their accumulators:
 * two per row (even / odd blocks) and one for the min terms. */
MLLM_INLINE void k_rows_init(const void *xv, size_t xs, const char **x, __m256 *acc, __m256 *acc2, __m256 *accm, const int NX) {
    for (int j = 0; j < NX; j++) {
        x[j] = (const char *)xv + (size_t)j * xs;
        acc[j] = acc2[j] = accm[j] = _mm256_setzero_ps();
    }
}

/* Blocks b (quants lo, scale slo) and b+1 (hi, shi) against every row. */
MLLM_INLINE void q45_pair(__m256i lo, __m256i hi, __m256 slo, __m256 shi, int64_t b, const char *const *x, const float *xd,
                          int64_t spr, __m256 *acc, __m256 *acc2, const int NX) {
    for (int j = 0; j < NX; j++) {
        const block_q8_1 *xb = (const block_q8_1 *)x[j] + b;
        const float *dx = xd + j * spr + b * MLLM_XD_LANES;
        __m256i p0 = dot_u8s8_avx2(lo, _mm256_loadu_si256((const __m256i *)xb[0].qs));
        __m256i p1 = dot_u8s8_avx2(hi, _mm256_loadu_si256((const __m256i *)xb[1].qs));
        acc[j] = _mm256_fmadd_ps(_mm256_mul_ps(slo, _mm256_loadu_ps(dx)), _mm256_cvtepi32_ps(p0), acc[j]);
        acc2[j] = _mm256_fmadd_ps(_mm256_mul_ps(shi, _mm256_loadu_ps(dx + 8)), _mm256_cvtepi32_ps(p1), acc2[j]);
    }
}

/* Q4_K / Q5_K: sum_i d sc_i d_x sum(q x) - dmin m_i d_x sum(x) over the 8 sub-blocks i. For Q5_K
 * the fifth bit of block i is bit i of qh[l]: with qh shifted right by 2c, block 2c's bit is bit 0
 * and block 2c+1's bit 1 of each byte, moved to bit 4 (16-bit shifts: the 0x10 mask keeps only
 * bits of the byte itself). */
MLLM_INLINE void dot_q45_k_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX,
                             const int T) {
    const int five = T == MLLM_TYPE_Q5_K;
    const char *x[MLLM_DOT_MAX_NX];
    __m256 acc[MLLM_DOT_MAX_NX], acc2[MLLM_DOT_MAX_NX], accm[MLLM_DOT_MAX_NX];
    k_rows_init(xv, xs, x, acc, acc2, accm, NX);
    const int64_t nsb = k / QK_K, spr = MLLM_XD_ROW_Q8_1(k); /* xd floats per row */
    const __m256i m4 = _mm256_set1_epi8(0x0f), b4 = _mm256_set1_epi8(0x10);
    for (int64_t sb = 0; sb < nsb; sb++) {
        const block_q4_K *b4k = (const block_q4_K *)w + sb;
        const block_q5_K *b5k = (const block_q5_K *)w + sb;
        const mllm_fp16 *dd = five ? &b5k->d : &b4k->d; /* d, dmin lead both layouts */
        const uint8_t *qs = five ? b5k->qs : b4k->qs;
        uint64_t sc, mn;
        kq_scales_words(five ? b5k->scales : b4k->scales, &sc, &mn);
        float dsc[8];
        _mm256_storeu_ps(dsc, _mm256_mul_ps(_mm256_set1_ps(h2f(dd[0])), u8x8_to_ps(sc)));
        const __m256 dm = _mm256_mul_ps(_mm256_set1_ps(h2f(dd[1])), u8x8_to_ps(mn));
        __m256i hb = five ? _mm256_loadu_si256((const __m256i *)b5k->qh) : _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
            __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            if (five) {
                lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(hb, 4), b4));
                hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(hb, 3), b4));
                hb = _mm256_srli_epi16(hb, 2);
            }
            q45_pair(lo, hi, _mm256_set1_ps(dsc[2 * c]), _mm256_set1_ps(dsc[2 * c + 1]), 8 * sb + 2 * c, x, xd, spr, acc,
                     acc2, NX);
        }
        for (int j = 0; j < NX; j++) /* the rows' exact block sums d_x sum(q_x), kernels.h */
            accm[j] = _mm256_fmadd_ps(dm, _mm256_loadu_ps(xd + j * spr + MLLM_XD_SUMS(k) + 8 * sb), accm[j]);
    }
    for (int j = 0; j < NX; j++) out[j] = hsum256(_mm256_add_ps(acc[j], acc2[j])) - hsum256(accm[j]);
}

/* Q6_K: per 32-element block, maddubs(q, x) - maddubs(32, x) = pair sums of (q - 32) x (exact
 * int16, |.| <= 2 * 32 * 128), then madd with the two sub-blocks' int8 scales (int16 lanes 0..7
 * belong to elements 0..15, 8..15 to 16..31) gives exact int32 sums scaled per sub-block. */
MLLM_INLINE void dot_q6_k_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX,
                            const int T) {
    const char *x[MLLM_DOT_MAX_NX];
    __m256 acc[MLLM_DOT_MAX_NX], acc2[MLLM_DOT_MAX_NX], accm[MLLM_DOT_MAX_NX];
    k_rows_init(xv, xs, x, acc, acc2, accm, NX);
    const int64_t nsb = k / QK_K, spr = MLLM_XD_ROW_Q8_0(k); /* xd floats per row */
    const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30), c32 = _mm256_set1_epi8(32);
    /* bytes 0,1 of each 128-bit lane into every int16 of the low lane, bytes 2,3 into the high lane */
    const __m256i pick = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
                                          2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
    for (int64_t sb = 0; sb < nsb; sb++) {
        const block_q6_K *b = (const block_q6_K *)w + sb;
        const __m256 d = _mm256_set1_ps(h2f(b->d));
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b->scales));
        for (int hh = 0; hh < 2; hh++) {
            const uint8_t *ql = b->ql + 64 * hh;
            __m256i l0 = _mm256_loadu_si256((const __m256i *)ql), l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            __m256i hv = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * hh));
            __m256i q[4]; /* blocks 4 hh + g; 16-bit shifts move each byte's bit pair to bits 4..5 */
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(hv, 4), m30));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(hv, 2), m30));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(hv, m30));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_and_si256(_mm256_srli_epi16(hv, 2), m30));
            for (int g = 0; g < 4; g++) {
                const int i = 4 * hh + g; /* block within the super-block: sub-blocks 2i, 2i+1 */
                __m256i scv = _mm256_shuffle_epi8(_mm256_permutevar8x32_epi32(sc16, _mm256_set1_epi32(i)), pick);
                for (int j = 0; j < NX; j++) {
                    __m256i xq = _mm256_loadu_si256((const __m256i *)((const block_q8_0 *)x[j])[8 * sb + i].qs);
                    __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16(q[g], xq), _mm256_maddubs_epi16(c32, xq));
                    __m256i s = _mm256_madd_epi16(p, scv);
                    __m256 dx = _mm256_mul_ps(d, _mm256_loadu_ps(xd + j * spr + (8 * sb + i) * MLLM_XD_LANES));
                    if (g & 1) acc2[j] = _mm256_fmadd_ps(dx, _mm256_cvtepi32_ps(s), acc2[j]);
                    else acc[j] = _mm256_fmadd_ps(dx, _mm256_cvtepi32_ps(s), acc[j]);
                }
            }
        }
    }
    for (int j = 0; j < NX; j++) out[j] = hsum256(_mm256_add_ps(acc[j], acc2[j]));
}

MLLM_DOT_ENTRY(dot_q4_K, dot_q45_k_n, MLLM_TYPE_Q4_K)
MLLM_DOT_ENTRY(dot_q5_K, dot_q45_k_n, MLLM_TYPE_Q5_K)
MLLM_DOT_ENTRY(dot_q6_K, dot_q6_k_n, MLLM_TYPE_Q6_K)

void mllm_kernels_fill_k_avx2(mllm_kernels *k) {
    k->dot[MLLM_KSLOT_Q4_K] = dot_q4_K;
    k->dot[MLLM_KSLOT_Q5_K] = dot_q5_K;
    k->dot[MLLM_KSLOT_Q6_K] = dot_q6_K;
}

#elif defined(__x86_64__) || defined(_M_X64)
void mllm_kernels_fill_k_avx2(mllm_kernels *k) { (void)k; }
#endif
