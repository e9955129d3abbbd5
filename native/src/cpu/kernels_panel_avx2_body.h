/* Panel kernel bodies (cpu/panel.h) for AVX2, included by kernels_panel_avx2.c (MLLM_AVXVNNI 0) and
 * kernels_panel_avxvnni.c (MLLM_AVXVNNI 1: AVX-VNNI's 256-bit vpdpbusd adds 4 unsigned-by-signed
 * byte products straight into int32, where plain AVX2 needs vpmaddubsw + vpmaddwd and int16
 * partial sums); each includer is compiled with the matching -m flags and names its fill function
 * MLLM_FILL_FN. Both variants compute the same exact integer sums, so they give the same bits.
 * A 256-bit register holds 4 quant bytes of 8 rows, so a
 * panel is walked as two halves of 8 rows (the low and high 32 bytes of each 64-byte chunk); lane
 * l of every register is row l of the half. AVX2 has no 4-byte integer dot product: vpmaddubsw
 * multiplies unsigned by signed bytes into pairs of int16, vpmaddwd adds the pairs into int32.
 *   q4_0: the nibbles (0..15) are the unsigned side. A pair is at most 2 * 15 * 128 = 3840, so
 *         a block's 8 pair sums per lane (4 chunks, low and high nibbles) add up in int16 (at
 *         most 30720) and one vpmaddwd per block widens them; the offset 8 is removed as
 *         -8 * sum(x) (the activation row's nsum).
 *   q5_0: as q4_0 with each chunk's fifth bits (panel.h) shifted to bit 4 of the nibbles (0..31),
 *         the offset 16 removed as -16 * sum(x). A pair is at most 2 * 31 * 128 = 7936, so two
 *         chunks (4 pair sums per lane, at most 31744) add up in int16 before each widening.
 *   q8_0: the stored bytes (qs + 128) are flipped back to signed, and the sign trick makes one
 *         side unsigned: |w| times x with w's sign. A pair is at most 2 * 128 * 127 = 32512, so
 *         every chunk is widened on its own; exact for all bytes except w = x = -128, which no
 *         reference quantizer produces (activations stay within -127..127).
 *   Q4_K, Q5_K, Q6_K: the quants (0..15, 0..31, 0..63) are the unsigned side, Q6_K's offset 32
 *         removed per chunk as maddubs(32, x); the sub-block scales and mins are unpacked lane by
 *         lane (each lane its own row's) and applied in float per 32-element block, as the
 *         reference does. */
#ifndef MLLM_AVXVNNI
#error "define MLLM_AVXVNNI and MLLM_FILL_FN before including kernels_panel_avx2_body.h"
#endif

#include <string.h>

#include "cpu/panel.h"
#include "cpu/simd_x86_common.h"
#include "quant/kquant.h"
#include "quant/quant.h"

/* activation rows per walk (MLLM_PANEL_ENTRY): more accumulators would not fit 16 registers */
#define AVX2_MAX_NX 4

/* 4 activation bytes in every lane */
MLLM_INLINE __m256i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

MLLM_INLINE const int8_t *xqs(const mllm_xrows *x, int j, int64_t b) {
    return ((const block_q8_0 *)((const char *)x->q + (size_t)j * x->q_stride))[b].qs;
}

/* Chunk t of a nibble block (lo: the quants of elements 4t.., hi: of 16+4t..) times the NX
 * activation rows: AVX-VNNI adds the products into isum, plain AVX2 into the int16 sums s16 (its
 * caller widens them). */
MLLM_INLINE void nibble_chunk(const __m256i lo[2], const __m256i hi[2], int t, int64_t b, const mllm_xrows *x,
                              __m256i isum[2][AVX2_MAX_NX], __m256i s16[2][AVX2_MAX_NX], const int H, const int NX) {
    for (int j = 0; j < NX; j++) {
        const int8_t *xq = xqs(x, j, b);
        const __m256i xl = bcast4(xq + 4 * t), xh = bcast4(xq + 16 + 4 * t);
        for (int h = 0; h < H; h++)
#if MLLM_AVXVNNI
            isum[h][j] = _mm256_dpbusd_avx_epi32(_mm256_dpbusd_avx_epi32(isum[h][j], lo[h], xl), hi[h], xh);
#else
            s16[h][j] = _mm256_add_epi16(s16[h][j], _mm256_add_epi16(_mm256_maddubs_epi16(lo[h], xl),
                                                                      _mm256_maddubs_epi16(hi[h], xh)));
#endif
    }
}

/* Block b of the H halves of 8 rows from hh0 (quant chunks of 64 bytes at qp, half hh's 32 bytes
 * at offset hh * 32) times NX activation rows: the int32 dots, offset removed, in isum[h][j]. */
MLLM_INLINE void block_q4(const uint8_t *qp, int hh0, int64_t b, const mllm_xrows *x, __m256i isum[2][AVX2_MAX_NX],
                          const int H, const int NX) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256i s16[2][AVX2_MAX_NX], off[AVX2_MAX_NX];
    for (int j = 0; j < NX; j++) { /* the offset 8 as -8 * sum(x): AVX-VNNI starts from it */
        off[j] = _mm256_slli_epi32(_mm256_set1_epi32(x->nsum[(size_t)j * x->nsum_stride + b]), 3);
        for (int h = 0; h < H; h++) {
            isum[h][j] = MLLM_AVXVNNI ? off[j] : _mm256_setzero_si256();
            s16[h][j] = _mm256_setzero_si256();
        }
    }
    for (int t = 0; t < 4; t++) {
        __m256i lo[2], hi[2];
        for (int h = 0; h < H; h++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(qp + 64 * t + 32 * (hh0 + h)));
            lo[h] = _mm256_and_si256(v, m4);
            hi[h] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        }
        nibble_chunk(lo, hi, t, b, x, isum, s16, H, NX);
    }
    if (!MLLM_AVXVNNI)
        for (int j = 0; j < NX; j++)
            for (int h = 0; h < H; h++) isum[h][j] = _mm256_add_epi32(_mm256_madd_epi16(s16[h][j], _mm256_set1_epi16(1)), off[j]);
}

MLLM_INLINE void block_q5(const uint8_t *qp, int hh0, int64_t b, const mllm_xrows *x, __m256i isum[2][AVX2_MAX_NX],
                          const int H, const int NX) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), b4 = _mm256_set1_epi8(0x10), ones = _mm256_set1_epi16(1);
    __m256i s16[2][AVX2_MAX_NX], qh[2];
    (void)ones, (void)s16;
    for (int h = 0; h < H; h++) {
        qh[h] = _mm256_loadu_si256((const __m256i *)(qp + 32 * (hh0 + h)));
        for (int j = 0; j < NX; j++) s16[h][j] = isum[h][j] = _mm256_setzero_si256();
    }
    for (int t = 0; t < 4; t++) {
        __m256i lo[2], hi[2];
        for (int h = 0; h < H; h++) { /* 16-bit shifts: the mask keeps only each byte's own bit 4 */
            const __m256i v = _mm256_loadu_si256((const __m256i *)(qp + 64 * (t + 1) + 32 * (hh0 + h)));
            lo[h] = _mm256_or_si256(_mm256_and_si256(v, m4), _mm256_and_si256(_mm256_slli_epi16(qh[h], 4 - t), b4));
            hi[h] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), _mm256_and_si256(_mm256_srli_epi16(qh[h], t), b4));
        }
        nibble_chunk(lo, hi, t, b, x, isum, s16, H, NX);
        if (!MLLM_AVXVNNI && t % 2 == 1)
            for (int h = 0; h < H; h++)
                for (int j = 0; j < NX; j++) {
                    isum[h][j] = _mm256_add_epi32(isum[h][j], _mm256_madd_epi16(s16[h][j], ones));
                    s16[h][j] = _mm256_setzero_si256();
                }
    }
    for (int j = 0; j < NX; j++) {
        const __m256i off = _mm256_slli_epi32(_mm256_set1_epi32(x->nsum[(size_t)j * x->nsum_stride + b]), 4);
        for (int h = 0; h < H; h++) isum[h][j] = _mm256_add_epi32(isum[h][j], off);
    }
}

MLLM_INLINE void block_q8(const uint8_t *qp, int hh0, int64_t b, const mllm_xrows *x, __m256i isum[2][AVX2_MAX_NX],
                          const int H, const int NX) {
#if MLLM_AVXVNNI
    /* the stored bytes qs + 128 are the unsigned side: the offset goes as -128 * sum(x) */
    for (int j = 0; j < NX; j++) {
        const __m256i off = _mm256_slli_epi32(_mm256_set1_epi32(x->nsum[(size_t)j * x->nsum_stride + b]), 7);
        for (int h = 0; h < H; h++) isum[h][j] = off;
    }
    for (int t = 0; t < 8; t++) {
        __m256i w[2];
        for (int h = 0; h < H; h++) w[h] = _mm256_loadu_si256((const __m256i *)(qp + 64 * t + 32 * (hh0 + h)));
        for (int j = 0; j < NX; j++) {
            const __m256i xb = bcast4(xqs(x, j, b) + 4 * t);
            for (int h = 0; h < H; h++) isum[h][j] = _mm256_dpbusd_avx_epi32(isum[h][j], w[h], xb);
        }
    }
#else
    const __m256i flip = _mm256_set1_epi8((char)0x80), ones = _mm256_set1_epi16(1);
    for (int h = 0; h < H; h++)
        for (int j = 0; j < NX; j++) isum[h][j] = _mm256_setzero_si256();
    for (int t = 0; t < 8; t++) {
        __m256i w[2], aw[2];
        for (int h = 0; h < H; h++) {
            w[h] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(qp + 64 * t + 32 * (hh0 + h))), flip);
            aw[h] = _mm256_abs_epi8(w[h]);
        }
        for (int j = 0; j < NX; j++) {
            const __m256i xb = bcast4(xqs(x, j, b) + 4 * t);
            for (int h = 0; h < H; h++) {
                const __m256i p = _mm256_maddubs_epi16(aw[h], _mm256_sign_epi8(xb, w[h]));
                isum[h][j] = _mm256_add_epi32(isum[h][j], _mm256_madd_epi16(p, ones));
            }
        }
    }
#endif
}

/* One group is the scales of blocks 2q and 2q+1 (32 bytes each), then their quants (qb bytes
 * each). Few activation rows (decode) take both halves per pass, so each activation broadcast
 * serves 16 rows; four rows take one half per pass to keep the accumulators in registers. Half hh
 * of panel p fills y[j][16 p + 8 hh + l] for its 8 rows l. */
MLLM_INLINE void panel_n(int64_t k, const void *w, int64_t n_panels, const mllm_xrows *x, float *y, int64_t ldy, const int NX,
                         const int T) {
    const int H = NX <= 2 ? 2 : 1;
    const int64_t ng = k / 64;
    const size_t qb = T == MLLM_TYPE_Q4_0 ? 256 : T == MLLM_TYPE_Q5_0 ? 320 : 512, gb = 64 + 2 * qb;
    for (int64_t p = 0; p < n_panels; p++) {
        for (int hh0 = 0; hh0 < 2; hh0 += H) {
            const uint8_t *g = (const uint8_t *)w + (size_t)p * (size_t)ng * gb;
            __m256 acc[2][AVX2_MAX_NX];
            for (int h = 0; h < H; h++)
                for (int j = 0; j < NX; j++) acc[h][j] = _mm256_setzero_ps();
            for (int64_t b = 0; b < 2 * ng; b++) {
                const int odd = (int)(b & 1);
                const uint8_t *qp = g + 64 + qb * odd;
                /* the weights come from memory (the row chunks after the first find them cached): fetch a
                 * few groups ahead (panel.h) */
                for (size_t c = 0; c < gb / 2; c += 64)
                    _mm_prefetch((const char *)g + MLLM_PANEL_PREFETCH_GROUPS * gb + (size_t)odd * (gb / 2) + c, _MM_HINT_T0);
                __m256i isum[2][AVX2_MAX_NX];
                if (T == MLLM_TYPE_Q4_0) block_q4(qp, hh0, b, x, isum, H, NX);
                else if (T == MLLM_TYPE_Q5_0) block_q5(qp, hh0, b, x, isum, H, NX);
                else block_q8(qp, hh0, b, x, isum, H, NX);
                for (int h = 0; h < H; h++) {
                    const __m256 sc = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g + 32 * odd + 16 * (hh0 + h))));
                    for (int j = 0; j < NX; j++) {
                        /* the activation row's scale, expanded to 8 lanes (kernels.h) */
                        __m256 d = _mm256_mul_ps(sc, _mm256_loadu_ps(x->d + (size_t)j * x->d_stride + b * MLLM_XD_LANES));
                        acc[h][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[h][j]), d, acc[h][j]);
                    }
                }
                g += odd * gb;
            }
            for (int h = 0; h < H; h++)
                for (int j = 0; j < NX; j++)
                    _mm256_storeu_ps(y + (size_t)j * ldy + (size_t)p * MLLM_PANEL_ROWS + 8 * (hh0 + h), acc[h][j]);
        }
    }
}

/* ---- Q4_K and Q5_K panels (panel.h) against q8_1 activation rows ---------------------------- */

/* Byte i (0..7) of each lane's unpacked scales (lo: bytes 0..3, hi: 4..7) as floats. */
MLLM_INLINE __m256 lane_byte_ps(__m256i lo, __m256i hi, int i) {
    const __m256i v = i < 4 ? lo : hi;
    return _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(v, 8 * (i & 3)), _mm256_set1_epi32(0xff)));
}

/* Sub-block i (block b of the activation rows) against the quants of 8 rows: nibbles e = i % 2 (0:
 * low, 1: high) of run c = i / 2, and for Q5_K (FIVE) bit i of the qh bytes as bit 4. Per lane,
 * pair sums are at most 2 * 15 * 128 (Q4_K: all 8 chunks add up in int16, at most 30720) or
 * 2 * 31 * 128 (Q5_K: widened every 4 chunks, at most 31744 each), then vpmaddwd widens them. */
MLLM_INLINE void subblock_q45_k(const uint8_t *run, const uint8_t *qh, int hh0, int i, int64_t b, const mllm_xrows *x,
                                __m256i isum[2][AVX2_MAX_NX], const int H, const int NX, const int FIVE) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), b4 = _mm256_set1_epi8(0x10), ones = _mm256_set1_epi16(1);
    const int e = i & 1;
    __m256i s16[2][AVX2_MAX_NX];
    (void)ones, (void)s16;
    for (int h = 0; h < H; h++)
        for (int j = 0; j < NX; j++) s16[h][j] = isum[h][j] = _mm256_setzero_si256();
    for (int t = 0; t < 8; t++) {
        __m256i q[2];
        for (int h = 0; h < H; h++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(run + 64 * t + 32 * (hh0 + h)));
            q[h] = _mm256_and_si256(e ? _mm256_srli_epi16(v, 4) : v, m4);
            if (FIVE) { /* 16-bit shifts: bit i of each byte to its bit 4, the mask keeps only that */
                const __m256i vh = _mm256_loadu_si256((const __m256i *)(qh + 64 * t + 32 * (hh0 + h)));
                const __m256i hb = i <= 4 ? _mm256_slli_epi16(vh, 4 - i) : _mm256_srli_epi16(vh, i - 4);
                q[h] = _mm256_or_si256(q[h], _mm256_and_si256(hb, b4));
            }
        }
        for (int j = 0; j < NX; j++) {
            const __m256i xb = bcast4(((const block_q8_1 *)((const char *)x->q + (size_t)j * x->q_stride))[b].qs + 4 * t);
            for (int h = 0; h < H; h++)
#if MLLM_AVXVNNI
                isum[h][j] = _mm256_dpbusd_avx_epi32(isum[h][j], q[h], xb);
#else
                s16[h][j] = _mm256_add_epi16(s16[h][j], _mm256_maddubs_epi16(q[h], xb));
#endif
        }
        if (!MLLM_AVXVNNI && (FIVE ? t % 4 == 3 : t == 7))
            for (int h = 0; h < H; h++)
                for (int j = 0; j < NX; j++) {
                    isum[h][j] = _mm256_add_epi32(isum[h][j], _mm256_madd_epi16(s16[h][j], ones));
                    s16[h][j] = _mm256_setzero_si256();
                }
    }
}

/* Per lane (row) and sub-block i, as the reference orders it: acc += isum * (d sc_i d_x), then
 * acc -= dmin m_i * (d_x sum(x)) with the exact activation sums (kernels.h). The operations on a
 * lane do not depend on NX or H, so decode and prompts give the same bits. */
MLLM_INLINE void panel_q45_k_n(int64_t k, const void *w, int64_t n_panels, const mllm_xrows *x, float *y, int64_t ldy,
                               const int NX, const int T) {
    const int H = NX <= 2 ? 2 : 1, five = T == MLLM_TYPE_Q5_K;
    const int64_t ns = k / QK_K;
    const size_t gb = MLLM_PANEL_ROWS * (five ? sizeof(block_q5_K) : sizeof(block_q4_K)), qs_at = five ? 768 : 256;
    const __m256i m6 = _mm256_set1_epi8(0x3f), m4 = _mm256_set1_epi8(0x0f), top2 = _mm256_set1_epi8(0x30);
    for (int64_t p = 0; p < n_panels; p++) {
        for (int hh0 = 0; hh0 < 2; hh0 += H) {
            __m256 acc[2][AVX2_MAX_NX];
            for (int h = 0; h < H; h++)
                for (int j = 0; j < NX; j++) acc[h][j] = _mm256_setzero_ps();
            for (int64_t s = 0; s < ns; s++) {
                const uint8_t *g = (const uint8_t *)w + (size_t)(p * ns + s) * gb;
                __m256 d[2], dmin[2];
                __m256i sc_lo[2], sc_hi[2], m_lo[2], m_hi[2];
                for (int h = 0; h < H; h++) { /* the lane-wise form of kq_scales_words (quant/kquant.h) */
                    d[h] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g + 16 * (hh0 + h))));
                    dmin[h] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g + 32 + 16 * (hh0 + h))));
                    const __m256i w0 = _mm256_loadu_si256((const __m256i *)(g + 64 + 32 * (hh0 + h)));
                    const __m256i w1 = _mm256_loadu_si256((const __m256i *)(g + 128 + 32 * (hh0 + h)));
                    const __m256i w2 = _mm256_loadu_si256((const __m256i *)(g + 192 + 32 * (hh0 + h)));
                    sc_lo[h] = _mm256_and_si256(w0, m6);
                    m_lo[h] = _mm256_and_si256(w1, m6);
                    sc_hi[h] = _mm256_or_si256(_mm256_and_si256(w2, m4), _mm256_and_si256(_mm256_srli_epi32(w0, 2), top2));
                    m_hi[h] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(w2, 4), m4),
                                              _mm256_and_si256(_mm256_srli_epi32(w1, 2), top2));
                }
                for (int c = 0; c < 4; c++) {
                    const uint8_t *run = g + qs_at + 512 * c;
                    /* the weights come from memory: fetch two super-blocks ahead */
                    for (size_t l = 0; l < gb / 4; l += 64) _mm_prefetch((const char *)g + 2 * gb + gb / 4 * c + l, _MM_HINT_T0);
                    for (int e = 0; e < 2; e++) {
                        const int i = 2 * c + e;
                        const int64_t b = 8 * s + i;
                        __m256i isum[2][AVX2_MAX_NX];
                        subblock_q45_k(run, g + 256, hh0, i, b, x, isum, H, NX, five);
                        for (int h = 0; h < H; h++) {
                            const __m256 dsc = _mm256_mul_ps(d[h], lane_byte_ps(sc_lo[h], sc_hi[h], i));
                            const __m256 dm = _mm256_mul_ps(dmin[h], lane_byte_ps(m_lo[h], m_hi[h], i));
                            for (int j = 0; j < NX; j++) {
                                const float *xd = x->d + (size_t)j * x->d_stride;
                                const __m256 f = _mm256_mul_ps(dsc, _mm256_loadu_ps(xd + b * MLLM_XD_LANES));
                                acc[h][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[h][j]), f, acc[h][j]);
                                acc[h][j] = _mm256_fnmadd_ps(dm, _mm256_broadcast_ss(xd + MLLM_XD_SUMS(k) + b), acc[h][j]);
                            }
                        }
                    }
                }
            }
            for (int h = 0; h < H; h++)
                for (int j = 0; j < NX; j++)
                    _mm256_storeu_ps(y + (size_t)j * ldy + (size_t)p * MLLM_PANEL_ROWS + 8 * (hh0 + h), acc[h][j]);
        }
    }
}

/* ---- Q6_K panels (panel.h) against q8_0 activation rows ------------------------------------- */

/* Each lane's int8 scale number u (0..15) from the 4 scale words of its row, sign-extended into
 * both int16 halves of the lane (the multiplier vpmaddwd needs). */
MLLM_INLINE __m256i lane_scale16(const __m256i sw[4], int u) {
    const __m256i v = _mm256_srai_epi32(_mm256_slli_epi32(sw[u / 4], 24 - 8 * (u % 4)), 24);
    return _mm256_or_si256(_mm256_and_si256(v, _mm256_set1_epi32(0xffff)), _mm256_slli_epi32(v, 16));
}

/* Sub-blocks 2i, 2i+1 (elements 0..15, 16..31 of block b) times their scales, per lane. The 6-bit
 * quant q is the ql nibble (run 2 (i / 4) + (i & 1), high nibble for i % 4 >= 2) with qh bits
 * 2 (i % 4) as bits 4..5. (q - 32) x pairs come from maddubs(q, x) - maddubs(32, x), each within
 * +-2 * 32 * 127 for the quantizer's activations (-127..127), so a sub-block's 4 chunks add up in
 * int16 (at most 32512), and vpmaddwd with the scale widens them exactly. */
MLLM_INLINE void block_q6_k(const uint8_t *g, int hh0, int i, int64_t b, const __m256i sw[2][4], const mllm_xrows *x,
                            __m256i isum[2][AVX2_MAX_NX], const int H, const int NX) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30), c32 = _mm256_set1_epi8(32);
    const int gq = i & 3;
    const uint8_t *ql = g + 512 * (2 * (i >> 2) + (gq & 1)), *qh = g + 2048 + 512 * (i >> 2);
    for (int h = 0; h < H; h++)
        for (int j = 0; j < NX; j++) isum[h][j] = _mm256_setzero_si256();
    for (int u = 0; u < 2; u++) {
        __m256i s16[2][AVX2_MAX_NX];
        for (int h = 0; h < H; h++)
            for (int j = 0; j < NX; j++) s16[h][j] = _mm256_setzero_si256();
        for (int t = 4 * u; t < 4 * u + 4; t++) {
            __m256i q[2];
            for (int h = 0; h < H; h++) {
                const __m256i vl = _mm256_loadu_si256((const __m256i *)(ql + 64 * t + 32 * (hh0 + h)));
                const __m256i vh = _mm256_loadu_si256((const __m256i *)(qh + 64 * t + 32 * (hh0 + h)));
                const __m256i lo = _mm256_and_si256(gq >= 2 ? _mm256_srli_epi16(vl, 4) : vl, m4);
                const __m256i hb = gq == 0 ? _mm256_slli_epi16(vh, 4) : gq == 1 ? _mm256_slli_epi16(vh, 2)
                                                                     : gq == 2 ? vh : _mm256_srli_epi16(vh, 2);
                q[h] = _mm256_or_si256(lo, _mm256_and_si256(hb, m30));
            }
            for (int j = 0; j < NX; j++) {
                const __m256i xb = bcast4(xqs(x, j, b) + 4 * t), off = _mm256_maddubs_epi16(c32, xb);
                for (int h = 0; h < H; h++)
                    s16[h][j] = _mm256_add_epi16(s16[h][j], _mm256_sub_epi16(_mm256_maddubs_epi16(q[h], xb), off));
            }
        }
        for (int h = 0; h < H; h++) {
            const __m256i sc = lane_scale16(sw[h], 2 * i + u);
            for (int j = 0; j < NX; j++) isum[h][j] = _mm256_add_epi32(isum[h][j], _mm256_madd_epi16(s16[h][j], sc));
        }
    }
}

/* Per lane (row) and block, as the reference: acc += sumi * (d d_x). The operations on a lane do
 * not depend on NX or H, so decode and prompts give the same bits. */
MLLM_INLINE void panel_q6_k_n(int64_t k, const void *w, int64_t n_panels, const mllm_xrows *x, float *y, int64_t ldy,
                              const int NX, const int T) {
    (void)T;
    const int H = NX <= 2 ? 2 : 1;
    const int64_t ns = k / QK_K;
    const size_t gb = MLLM_PANEL_ROWS * sizeof(block_q6_K);
    for (int64_t p = 0; p < n_panels; p++) {
        for (int hh0 = 0; hh0 < 2; hh0 += H) {
            __m256 acc[2][AVX2_MAX_NX];
            for (int h = 0; h < H; h++)
                for (int j = 0; j < NX; j++) acc[h][j] = _mm256_setzero_ps();
            for (int64_t s = 0; s < ns; s++) {
                const uint8_t *g = (const uint8_t *)w + (size_t)(p * ns + s) * gb;
                __m256 d[2];
                __m256i sw[2][4];
                for (int h = 0; h < H; h++) {
                    d[h] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g + 3328 + 16 * (hh0 + h))));
                    for (int u = 0; u < 4; u++) sw[h][u] = _mm256_loadu_si256((const __m256i *)(g + 3072 + 64 * u + 32 * (hh0 + h)));
                }
                for (int i = 0; i < 8; i++) {
                    /* the weights come from memory: fetch two super-blocks ahead */
                    for (int l = 0; l < 448; l += 64) _mm_prefetch((const char *)g + 2 * gb + 420 * i + l, _MM_HINT_T0);
                    const int64_t b = 8 * s + i;
                    __m256i isum[2][AVX2_MAX_NX];
                    block_q6_k(g, hh0, i, b, sw, x, isum, H, NX);
                    for (int h = 0; h < H; h++)
                        for (int j = 0; j < NX; j++) {
                            const __m256 f = _mm256_mul_ps(d[h], _mm256_loadu_ps(x->d + (size_t)j * x->d_stride + b * MLLM_XD_LANES));
                            acc[h][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[h][j]), f, acc[h][j]);
                        }
                }
            }
            for (int h = 0; h < H; h++)
                for (int j = 0; j < NX; j++)
                    _mm256_storeu_ps(y + (size_t)j * ldy + (size_t)p * MLLM_PANEL_ROWS + 8 * (hh0 + h), acc[h][j]);
        }
    }
}

MLLM_PANEL_ENTRY(panel_q4_0, panel_n, MLLM_TYPE_Q4_0)
MLLM_PANEL_ENTRY(panel_q5_0, panel_n, MLLM_TYPE_Q5_0)
MLLM_PANEL_ENTRY(panel_q8_0, panel_n, MLLM_TYPE_Q8_0)
MLLM_PANEL_ENTRY(panel_q4_K, panel_q45_k_n, MLLM_TYPE_Q4_K)
MLLM_PANEL_ENTRY(panel_q5_K, panel_q45_k_n, MLLM_TYPE_Q5_K)
MLLM_PANEL_ENTRY(panel_q6_K, panel_q6_k_n, MLLM_TYPE_Q6_K)

void MLLM_FILL_FN(mllm_kernels *k) {
    k->panel[MLLM_KSLOT_Q4_0] = panel_q4_0;
    k->panel[MLLM_KSLOT_Q5_0] = panel_q5_0;
    k->panel[MLLM_KSLOT_Q8_0] = panel_q8_0;
    k->panel[MLLM_KSLOT_Q4_K] = panel_q4_K;
    k->panel[MLLM_KSLOT_Q5_K] = panel_q5_K;
    k->panel[MLLM_KSLOT_Q6_K] = panel_q6_K;
}
