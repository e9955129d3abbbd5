/* Panel kernels (cpu/panel.h) for AVX-512 VNNI. Lane l of every register is row l of the panel:
 * one vpdpbusd multiplies 4 unsigned weight bytes of each of the 16 rows by 4 signed activation
 * bytes broadcast to all lanes, so a block of 32 elements costs 8 of them for 16 rows, and the
 * 16 results leave the kernel with one store. The weight offset (8 for q4_0 nibbles, 128 for
 * q8_0's shifted bytes) is removed by starting each block's accumulator at -offset * sum(x). The
 * K-quant panels work the same way on their 64-byte chunks and apply the sub-block scales lane by
 * lane with the AVX2 panel kernels' float operations, so every level gives the same bits. */
#include "cpu/kernels.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__) && \
    defined(__AVX512VNNI__)
#include <immintrin.h>
#include <string.h>

#include "cpu/panel.h"
#include "cpu/simd_x86_common.h"
#include "quant/kquant.h"
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

/* acc[j] += 16 lanes of scale * int dot for block h of a pair, for the NX rows interleaved at xq (64
 * bytes a row: the pair's quants), xd and xn (2 per row) (mllm_xrows), given the block's weights as
 * 8 registers W (W[t] and W[4 + t] pair with activation bytes 4t.. and 16+4t.. for q4_0, 8t.. and
 * 8t+4.. for q8_0, q8 = 1), the rows' scales sc, and the offset as a shift (-2^shift * sum(x)
 * starts the sum). Every row is a fixed offset from one pointer, so the activation broadcasts are
 * memory operands of vpdpbusd (1.25x the throughput of rows found through their own pointers). Two
 * dependency chains per activation row keep vpdpbusd's latency hidden when NX is 1. */
MLLM_INLINE void panel_block(const __m512i W[8], __m512 sc, int h, const int8_t *xq, const float *xd, const int32_t *xn,
                             int shift, int q8, __m512 *acc, const int NX) {
    for (int j = 0; j < NX; j++) {
        const int8_t *x = xq + 64 * j + 32 * h;
        __m512i a = _mm512_slli_epi32(_mm512_set1_epi32(xn[2 * j + h]), shift);
        __m512i c = _mm512_setzero_si512();
        for (int t = 0; t < 4; t++) {
            a = _mm512_dpbusd_epi32(a, W[t], bcast4(x + (q8 ? 8 * t : 4 * t)));
            c = _mm512_dpbusd_epi32(c, W[4 + t], bcast4(x + (q8 ? 8 * t + 4 : 16 + 4 * t)));
        }
        const __m512 d = _mm512_mul_ps(sc, _mm512_set1_ps(xd[2 * j + h]));
        acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(a, c)), d, acc[j]);
    }
}

MLLM_INLINE __m512 panel_scales(const uint8_t *g) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)g)); }

/* Weight chunk pair u (0..3) of block h of group g: q4_0: chunk u's low / high nibbles (activation
 * bytes 4u.. / 16+4u..); q8_0: chunks 2u and 2u+1 (activation bytes 8u.. and 8u+4..). */
MLLM_INLINE void chunk_pair(const uint8_t *g, int h, int u, int q4, __m512i *lo, __m512i *hi) {
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    if (q4) {
        const __m512i v = _mm512_loadu_si512((const void *)(g + 64 + 256 * h + 64 * u));
        *lo = _mm512_and_si512(v, m4);
        *hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
    } else {
        *lo = _mm512_loadu_si512((const void *)(g + 64 + 512 * h + 128 * u));
        *hi = _mm512_loadu_si512((const void *)(g + 64 + 512 * h + 128 * u + 64));
    }
}

/* Two panels (at g and g + pb) against R <= 4 of the NX interleaved rows, from row j0: each
 * activation broadcast feeds two vpdpbusd (a broadcast per vpdpbusd costs more than the weights'
 * unpacking, done once per 4 rows here: 1.05-1.11x the throughput of one panel at 8 and 16 rows on a
 * Xeon, bench_kernels). The same integer sums and float operations in the same order as panel_block,
 * so the same bits. */
MLLM_INLINE void pair_rows(int64_t ng, const uint8_t *g, size_t pb, const mllm_xrows *x, int j0, float *y, int64_t ldy, const int R,
                           const int NX, const int T) {
    const int q4 = T == MLLM_TYPE_Q4_0, q8 = !q4, shift = q4 ? 3 : 7;
    const size_t gb = q4 ? 64 + 2 * 256 : 64 + 2 * 512;
    const int8_t *xq = x->iq + 64 * j0;
    const float *xd = x->id + 2 * j0;
    const int32_t *xn = x->insum + 2 * j0;
    __m512 acc[4][2];
    for (int j = 0; j < R; j++) acc[j][0] = acc[j][1] = _mm512_setzero_ps();
    for (int64_t q = 0; q < ng; q++, g += gb, xq += 64 * NX, xd += 2 * NX, xn += 2 * NX) {
        for (size_t c = 0; c < gb; c += 64) {
            _mm_prefetch((const char *)g + MLLM_PANEL_PREFETCH_GROUPS_MANY * gb + c, _MM_HINT_T1);
            _mm_prefetch((const char *)g + pb + MLLM_PANEL_PREFETCH_GROUPS_MANY * gb + c, _MM_HINT_T1);
        }
        for (int h = 0; h < 2; h++) {
            __m512i s[4][2];
            for (int j = 0; j < R; j++) s[j][0] = s[j][1] = _mm512_slli_epi32(_mm512_set1_epi32(xn[2 * j + h]), shift);
            for (int u = 0; u < 4; u++) {
                __m512i alo, ahi, blo, bhi;
                chunk_pair(g, h, u, q4, &alo, &ahi);
                chunk_pair(g + pb, h, u, q4, &blo, &bhi);
                for (int j = 0; j < R; j++) {
                    const int8_t *xr = xq + 64 * j + 32 * h;
                    const __m512i vl = bcast4(xr + (q8 ? 8 * u : 4 * u)), vh = bcast4(xr + (q8 ? 8 * u + 4 : 16 + 4 * u));
                    s[j][0] = _mm512_dpbusd_epi32(s[j][0], alo, vl);
                    s[j][1] = _mm512_dpbusd_epi32(s[j][1], blo, vl);
                    s[j][0] = _mm512_dpbusd_epi32(s[j][0], ahi, vh);
                    s[j][1] = _mm512_dpbusd_epi32(s[j][1], bhi, vh);
                }
            }
            const __m512 sa = panel_scales(g + 32 * h), sb = panel_scales(g + pb + 32 * h);
            for (int j = 0; j < R; j++) {
                const __m512 dx = _mm512_set1_ps(xd[2 * j + h]);
                acc[j][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[j][0]), _mm512_mul_ps(sa, dx), acc[j][0]);
                acc[j][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[j][1]), _mm512_mul_ps(sb, dx), acc[j][1]);
            }
        }
    }
    for (int j = 0; j < R; j++) {
        _mm512_storeu_ps(y + (size_t)(j0 + j) * ldy, acc[j][0]);
        _mm512_storeu_ps(y + (size_t)(j0 + j) * ldy + MLLM_PANEL_ROWS, acc[j][1]);
    }
}

/* The activations are the interleaved rows (mllm_xrows.iq: compute_panel passes each group of rows
 * whole); from 4 rows, panels go in pairs. */
MLLM_INLINE void panel_n(int64_t k, const void *w, int64_t n_panels, const mllm_xrows *x, float *y, int64_t ldy, const int NX,
                         const int T) {
    const int q4 = T == MLLM_TYPE_Q4_0;
    const int64_t ng = k / 64;
    const size_t gb = q4 ? 64 + 2 * 256 : 64 + 2 * 512, pb = (size_t)ng * gb;
    int64_t p = 0;
    if (NX >= 4)
        for (; p + 1 < n_panels; p += 2) {
            const uint8_t *g = (const uint8_t *)w + (size_t)p * pb;
            float *yp = y + (size_t)p * MLLM_PANEL_ROWS;
            pair_rows(ng, g, pb, x, 0, yp, ldy, 4, NX, T);
            if (NX > 4) pair_rows(ng, g, pb, x, 4, yp, ldy, NX - 4, NX, T);
        }
    for (; p < n_panels; p++) {
        const uint8_t *g = (const uint8_t *)w + (size_t)p * pb;
        const int8_t *xq = x->iq;
        const float *xd = x->id;
        const int32_t *xn = x->insum;
        __m512 acc[MLLM_PANEL_MAX_NX];
        for (int j = 0; j < NX; j++) acc[j] = _mm512_setzero_ps();
        for (int64_t q = 0; q < ng; q++, g += gb, xq += 64 * NX, xd += 2 * NX, xn += 2 * NX) {
            /* the weights come from memory (the row chunks after the first find them cached): fetch a
             * few groups ahead (panel.h) */
            for (size_t c = 0; c < gb; c += 64)
                _mm_prefetch((const char *)g + MLLM_PANEL_PREFETCH_GROUPS * gb + c, _MM_HINT_T0);
            for (int h = 0; h < 2; h++) {
                __m512i W[8];
                for (int u = 0; u < 4; u++) chunk_pair(g, h, u, q4, &W[u], &W[4 + u]);
                panel_block(W, panel_scales(g + 32 * h), h, xq, xd, xn, q4 ? 3 : 7, !q4, acc, NX);
            }
        }
        for (int j = 0; j < NX; j++) _mm512_storeu_ps(y + (size_t)j * ldy + (size_t)p * MLLM_PANEL_ROWS, acc[j]);
    }
}
MLLM_PANEL_ENTRY8(panel_q4_0, panel_n, MLLM_TYPE_Q4_0)
MLLM_PANEL_ENTRY8(panel_q8_0, panel_n, MLLM_TYPE_Q8_0)

/* ---- Q4_K and Q5_K panels (panel.h) against q8_1 activation rows ---------------------------- */

/* Byte i (0..7) of each lane's unpacked scales (lo: bytes 0..3, hi: 4..7) as floats. */
MLLM_INLINE __m512 lane_byte_ps(__m512i lo, __m512i hi, int i) {
    const __m512i v = i < 4 ? lo : hi;
    return _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(v, 8 * (i & 3)), _mm512_set1_epi32(0xff)));
}

/* Per lane (row) and sub-block i the AVX2 panel kernel's operations (kernels_panel_avx2_body.h), so both
 * give the reference's bits: acc += isum * (d sc_i d_x), then acc -= dmin m_i * (d_x sum(x)). A
 * 64-byte chunk holds 4 quants of each of the 16 rows, so a sub-block of 32 elements is 8 vpdpbusd
 * per activation row (two dependency chains). */
MLLM_INLINE void panel_q45_k_n(int64_t k, const void *w, int64_t n_panels, const mllm_xrows *x, float *y, int64_t ldy,
                               const int NX, const int T) {
    const int five = T == MLLM_TYPE_Q5_K;
    const int64_t ns = k / QK_K;
    const size_t gb = MLLM_PANEL_ROWS * (five ? sizeof(block_q5_K) : sizeof(block_q4_K)), qs_at = five ? 768 : 256;
    const __m512i m6 = _mm512_set1_epi8(0x3f), m4 = _mm512_set1_epi8(0x0f), top2 = _mm512_set1_epi8(0x30);
    const __m512i b4 = _mm512_set1_epi8(0x10);
    for (int64_t p = 0; p < n_panels; p++) {
        __m512 acc[MLLM_PANEL_MAX_NX];
        for (int j = 0; j < NX; j++) acc[j] = _mm512_setzero_ps();
        for (int64_t s = 0; s < ns; s++) {
            const uint8_t *g = (const uint8_t *)w + (size_t)(p * ns + s) * gb;
            /* the lane-wise form of kq_scales_words (quant/kquant.h) */
            const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)g));
            const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(g + 32)));
            const __m512i w0 = _mm512_loadu_si512((const void *)(g + 64));
            const __m512i w1 = _mm512_loadu_si512((const void *)(g + 128));
            const __m512i w2 = _mm512_loadu_si512((const void *)(g + 192));
            const __m512i sc_lo = _mm512_and_si512(w0, m6), m_lo = _mm512_and_si512(w1, m6);
            const __m512i sc_hi = _mm512_or_si512(_mm512_and_si512(w2, m4), _mm512_and_si512(_mm512_srli_epi32(w0, 2), top2));
            const __m512i m_hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(w2, 4), m4),
                                                 _mm512_and_si512(_mm512_srli_epi32(w1, 2), top2));
            for (int c = 0; c < 4; c++) {
                const uint8_t *run = g + qs_at + 512 * c;
                /* the weights come from memory: fetch two super-blocks ahead */
                for (size_t l = 0; l < gb / 4; l += 64) _mm_prefetch((const char *)g + 2 * gb + gb / 4 * c + l, _MM_HINT_T0);
                for (int e = 0; e < 2; e++) {
                    const int i = 2 * c + e;
                    const int64_t b = 8 * s + i;
                    __m512i q[8];
                    for (int t = 0; t < 8; t++) {
                        const __m512i v = _mm512_loadu_si512((const void *)(run + 64 * t));
                        q[t] = _mm512_and_si512(e ? _mm512_srli_epi16(v, 4) : v, m4);
                        if (five) { /* 16-bit shifts: bit i of each byte to its bit 4, the mask keeps only that */
                            const __m512i vh = _mm512_loadu_si512((const void *)(g + 256 + 64 * t));
                            const __m512i hb = i <= 4 ? _mm512_slli_epi16(vh, 4 - i) : _mm512_srli_epi16(vh, i - 4);
                            q[t] = _mm512_or_si512(q[t], _mm512_and_si512(hb, b4));
                        }
                    }
                    const __m512 dsc = _mm512_mul_ps(d, lane_byte_ps(sc_lo, sc_hi, i));
                    const __m512 dm = _mm512_mul_ps(dmin, lane_byte_ps(m_lo, m_hi, i));
                    for (int j = 0; j < NX; j++) {
                        const int8_t *xq = ((const block_q8_1 *)((const char *)x->q + (size_t)j * x->q_stride))[b].qs;
                        __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
                        for (int t = 0; t < 8; t += 2) {
                            s0 = _mm512_dpbusd_epi32(s0, q[t], bcast4(xq + 4 * t));
                            s1 = _mm512_dpbusd_epi32(s1, q[t + 1], bcast4(xq + 4 * t + 4));
                        }
                        const float *xd = x->d + (size_t)j * x->d_stride;
                        const __m512 f = _mm512_mul_ps(dsc, _mm512_set1_ps(xd[b * MLLM_XD_LANES]));
                        acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), f, acc[j]);
                        acc[j] = _mm512_fnmadd_ps(dm, _mm512_set1_ps(xd[MLLM_XD_SUMS(k) + b]), acc[j]);
                    }
                }
            }
        }
        for (int j = 0; j < NX; j++) _mm512_storeu_ps(y + (size_t)j * ldy + (size_t)p * MLLM_PANEL_ROWS, acc[j]);
    }
}
MLLM_PANEL_ENTRY(panel_q4_K, panel_q45_k_n, MLLM_TYPE_Q4_K)
MLLM_PANEL_ENTRY(panel_q5_K, panel_q45_k_n, MLLM_TYPE_Q5_K)

/* ---- Q6_K panels (panel.h) against q8_0 activation rows ------------------------------------- */

/* Sum of 16 signed bytes. */
MLLM_INLINE int32_t sum16(const int8_t *p) {
    const __m128i v = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), _mm_set1_epi8((char)0x80));
    const __m128i s = _mm_sad_epu8(v, _mm_setzero_si128());
    return _mm_cvtsi128_si32(s) + _mm_extract_epi16(s, 4) - 128 * 16;
}

/* Each lane's int8 scale number u (0..15) from the 4 scale words of its row, as int32. */
MLLM_INLINE __m512i lane_scale32(const __m512i sw[4], int u) {
    return _mm512_srai_epi32(_mm512_slli_epi32(sw[u / 4], 24 - 8 * (u % 4)), 24);
}

/* Per lane (row) and block b, as the reference: sumi = sum over its two 16-element sub-blocks of
 * scale * sum((q - 32) x), exact in int32 (vpdpbusd takes the unsigned 6-bit q, 32 * sum(x) is
 * taken off each sub-block), then acc += sumi * (d d_x): the AVX2 kernel's bits. The 6-bit quant is
 * the ql nibble (run 2 (i / 4) + (i & 1), high nibble for i % 4 >= 2) with qh bits 2 (i % 4) as bits
 * 4..5. */
MLLM_INLINE void panel_q6_k_n(int64_t k, const void *w, int64_t n_panels, const mllm_xrows *x, float *y, int64_t ldy,
                              const int NX, const int T) {
    (void)T;
    const int64_t ns = k / QK_K;
    const size_t gb = MLLM_PANEL_ROWS * sizeof(block_q6_K);
    const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
    for (int64_t p = 0; p < n_panels; p++) {
        __m512 acc[MLLM_PANEL_MAX_NX];
        for (int j = 0; j < NX; j++) acc[j] = _mm512_setzero_ps();
        for (int64_t s = 0; s < ns; s++) {
            const uint8_t *g = (const uint8_t *)w + (size_t)(p * ns + s) * gb;
            const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(g + 3328)));
            __m512i sw[4];
            for (int u = 0; u < 4; u++) sw[u] = _mm512_loadu_si512((const void *)(g + 3072 + 64 * u));
            for (int i = 0; i < 8; i++) {
                /* the weights come from memory: fetch two super-blocks ahead */
                for (int l = 0; l < 448; l += 64) _mm_prefetch((const char *)g + 2 * gb + 420 * i + l, _MM_HINT_T0);
                const int gq = i & 3;
                const uint8_t *ql = g + 512 * (2 * (i >> 2) + (gq & 1)), *qh = g + 2048 + 512 * (i >> 2);
                __m512i q[8];
                for (int t = 0; t < 8; t++) {
                    const __m512i vl = _mm512_loadu_si512((const void *)(ql + 64 * t));
                    const __m512i vh = _mm512_loadu_si512((const void *)(qh + 64 * t));
                    const __m512i lo = _mm512_and_si512(gq >= 2 ? _mm512_srli_epi16(vl, 4) : vl, m4);
                    const __m512i hb = gq == 0 ? _mm512_slli_epi16(vh, 4) : gq == 1 ? _mm512_slli_epi16(vh, 2)
                                                                         : gq == 2 ? vh : _mm512_srli_epi16(vh, 2);
                    q[t] = _mm512_or_si512(lo, _mm512_and_si512(hb, m30));
                }
                const __m512i sc0 = lane_scale32(sw, 2 * i), sc1 = lane_scale32(sw, 2 * i + 1);
                const int64_t b = 8 * s + i;
                for (int j = 0; j < NX; j++) {
                    const int8_t *xq = xrow(x, j)[b].qs;
                    __m512i s0 = _mm512_set1_epi32(-32 * sum16(xq)), s1 = _mm512_set1_epi32(-32 * sum16(xq + 16));
                    for (int t = 0; t < 4; t++) {
                        s0 = _mm512_dpbusd_epi32(s0, q[t], bcast4(xq + 4 * t));
                        s1 = _mm512_dpbusd_epi32(s1, q[4 + t], bcast4(xq + 16 + 4 * t));
                    }
                    const __m512i isum = _mm512_add_epi32(_mm512_mullo_epi32(s0, sc0), _mm512_mullo_epi32(s1, sc1));
                    const __m512 f = _mm512_mul_ps(d, _mm512_set1_ps(x->d[(size_t)j * x->d_stride + b * MLLM_XD_LANES]));
                    acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), f, acc[j]);
                }
            }
        }
        for (int j = 0; j < NX; j++) _mm512_storeu_ps(y + (size_t)j * ldy + (size_t)p * MLLM_PANEL_ROWS, acc[j]);
    }
}
MLLM_PANEL_ENTRY(panel_q6_K, panel_q6_k_n, MLLM_TYPE_Q6_K)

void mllm_kernels_fill_panel_vnni(mllm_kernels *k) {
    k->panel[MLLM_KSLOT_Q4_0] = panel_q4_0;
    k->panel[MLLM_KSLOT_Q8_0] = panel_q8_0;
    k->panel_interleaved = 1;
    k->panel_pairs = 1;
    k->panel[MLLM_KSLOT_Q4_K] = panel_q4_K;
    k->panel[MLLM_KSLOT_Q5_K] = panel_q5_K;
    k->panel[MLLM_KSLOT_Q6_K] = panel_q6_K;
}
#elif defined(__x86_64__) || defined(_M_X64)
void mllm_kernels_fill_panel_vnni(mllm_kernels *k) { (void)k; }
#endif
