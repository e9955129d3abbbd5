/* Panel kernels (cpu/panel.h) for AVX-512 VNNI. Lane l of every register is row l of the panel:
 * one vpdpbusd multiplies 4 unsigned weight bytes of each of the 16 rows by 4 signed activation
 * bytes broadcast to all lanes, so a block of 32 elements costs 8 of them for 16 rows, and the
 * 16 results leave the kernel with one store. The weight offset (8 for q4_0 nibbles, 128 for
 * q8_0's shifted bytes) is removed by starting each block's accumulator at -offset * sum(x). */
#include "cpu/kernels.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__) && \
    defined(__AVX512VNNI__)
#include <immintrin.h>
#include <string.h>

#include "cpu/panel.h"
#include "cpu/simd_x86_common.h"
#include "quant/quant.h"

/* 4 activation bytes in every lane */
MLLM_INLINE __m512i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
}

MLLM_INLINE const block_q8_0 *xrow(const mllm_xrows *x, int j) {
    return (const block_q8_0 *)((const char *)x->q + (size_t)j * x->q_stride);
}

/* acc[j] += 16 lanes of scale * int dot for block b, given the block's weights as 8 registers W
 * (W[t] and W[4 + t] pair with activation bytes 4t.. and 16+4t.. for q4_0, 8t.. and 8t+4.. for
 * q8_0, q8 = 1), the rows' scales sc, and the offset as a shift (-2^shift * sum(x) starts the
 * sum). Two dependency chains per activation row keep vpdpbusd's latency hidden when NX is 1. */
MLLM_INLINE void panel_block(const __m512i W[8], __m512 sc, int64_t b, const mllm_xrows *x, int shift, int q8,
                             __m512 *acc, const int NX) {
    for (int j = 0; j < NX; j++) {
        const int8_t *xq = xrow(x, j)[b].qs;
        __m512i a = _mm512_slli_epi32(_mm512_set1_epi32(x->nsum[(size_t)j * x->nsum_stride + b]), shift);
        __m512i c = _mm512_setzero_si512();
        for (int t = 0; t < 4; t++) {
            a = _mm512_dpbusd_epi32(a, W[t], bcast4(xq + (q8 ? 8 * t : 4 * t)));
            c = _mm512_dpbusd_epi32(c, W[4 + t], bcast4(xq + (q8 ? 8 * t + 4 : 16 + 4 * t)));
        }
        __m512 d = _mm512_mul_ps(sc, _mm512_set1_ps(x->d[(size_t)j * x->d_stride + b * MLLM_XD_LANES]));
        acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(a, c)), d, acc[j]);
    }
}

MLLM_INLINE __m512 panel_scales(const uint8_t *g) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)g)); }

/* q4: W[t] / W[4 + t] are chunk t's low / high nibbles (activation bytes 4t.. / 16+4t..); q8_0:
 * chunks 2t and 2t+1 (activation bytes 8t.. and 8t+4..). */
MLLM_INLINE void panel_n(int64_t k, const void *w, int64_t n_panels, const mllm_xrows *x, float *y, int64_t ldy, const int NX,
                         const int T) {
    const int q4 = T == MLLM_TYPE_Q4_0;
    const int64_t ng = k / 64;
    const size_t qb = q4 ? 256 : 512, gb = 64 + 2 * qb;
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    for (int64_t p = 0; p < n_panels; p++) {
        const uint8_t *g = (const uint8_t *)w + (size_t)p * (size_t)ng * gb;
        __m512 acc[MLLM_PANEL_MAX_NX];
        for (int j = 0; j < NX; j++) acc[j] = _mm512_setzero_ps();
        for (int64_t q = 0; q < ng; q++, g += gb) {
            /* the weights come from memory (the row chunks after the first find them cached): fetch a
             * few groups ahead (panel.h) */
            for (size_t c = 0; c < gb; c += 64)
                _mm_prefetch((const char *)g + MLLM_PANEL_PREFETCH_GROUPS * gb + c, _MM_HINT_T0);
            for (int h = 0; h < 2; h++) {
                const uint8_t *qp = g + 64 + qb * h;
                __m512i W[8];
                for (int t = 0; t < 4; t++) {
                    if (q4) {
                        __m512i v = _mm512_loadu_si512((const void *)(qp + 64 * t));
                        W[t] = _mm512_and_si512(v, m4);
                        W[4 + t] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
                    } else {
                        W[t] = _mm512_loadu_si512((const void *)(qp + 128 * t));
                        W[4 + t] = _mm512_loadu_si512((const void *)(qp + 128 * t + 64));
                    }
                }
                panel_block(W, panel_scales(g + 32 * h), 2 * q + h, x, q4 ? 3 : 7, !q4, acc, NX);
            }
        }
        for (int j = 0; j < NX; j++) _mm512_storeu_ps(y + (size_t)j * ldy + (size_t)p * MLLM_PANEL_ROWS, acc[j]);
    }
}
MLLM_PANEL_ENTRY8(panel_q4_0, panel_n, MLLM_TYPE_Q4_0)
MLLM_PANEL_ENTRY8(panel_q8_0, panel_n, MLLM_TYPE_Q8_0)

void mllm_kernels_fill_panel_vnni(mllm_kernels *k) {
    k->panel[MLLM_KSLOT_Q4_0] = panel_q4_0;
    k->panel[MLLM_KSLOT_Q8_0] = panel_q8_0;
}
#elif defined(__x86_64__) || defined(_M_X64)
void mllm_kernels_fill_panel_vnni(mllm_kernels *k) { (void)k; }
#endif
