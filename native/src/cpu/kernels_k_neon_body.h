/* K-quant dot kernels for aarch64, included by kernels_neon_body.h (so instantiated with both
 * dot_s8x16 variants: widening multiplies and sdot). Q4_K / Q5_K run against q8_1 rows, Q6_K
 * against q8_0 rows. Per 16 bytes the integer sums are exact (quants at most 63 in magnitude
 * times int8), and Q6_K's per-sub-block scales are applied in int32 (at most 16 * 32 * 128 * 128
 * per sub-block); the float scaling d * sc * d_x follows per 32-element block. Each row's float
 * operations are the same whatever nx. */
#ifndef MLLM_KERNELS_K_NEON_BODY_H
#define MLLM_KERNELS_K_NEON_BODY_H

#include "quant/kquant.h"

/* The NX activation rows (q8_1 for Q4_K / Q5_K, q8_0 for Q6_K, as bytes) and their accumulators:
 * two per row (even / odd blocks) and one for the min terms. */
NEON_INLINE void k_rows_init(const void *xv, size_t xs, const char **x, float32x4_t *acc, float32x4_t *acc2, float32x4_t *accm,
                             const int NX) {
    for (int j = 0; j < NX; j++) {
        x[j] = (const char *)xv + (size_t)j * xs;
        acc[j] = acc2[j] = accm[j] = vdupq_n_f32(0.0f);
    }
}

/* One 32-element block (quants in two 16-byte halves qa, qb) against q8_1 block xb of every row. */
NEON_INLINE void k_block(int8x16_t qa, int8x16_t qb, float scale, int64_t xb, const char *const *x, const float *xd, int64_t spr,
                         float32x4_t *acc, const int NX) {
    for (int j = 0; j < NX; j++) {
        const int8_t *q8 = ((const block_q8_1 *)x[j])[xb].qs;
        int32x4_t s = dot_s8x16(dot_s8x16(vdupq_n_s32(0), qa, vld1q_s8(q8)), qb, vld1q_s8(q8 + 16));
        acc[j] = vfmaq_n_f32(acc[j], vcvtq_f32_s32(s), scale * xd[j * spr + xb * MLLM_XD_LANES]);
    }
}

/* Q4_K / Q5_K: sum_i d sc_i d_x sum(q x) - dmin m_i d_x sum(x). Quants 0..31 are valid int8. */
NEON_INLINE void dot_q45_k_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX,
                             const int T) {
    const int five = T == MLLM_TYPE_Q5_K;
    const char *x[MLLM_DOT_MAX_NX];
    float32x4_t acc[MLLM_DOT_MAX_NX], acc2[MLLM_DOT_MAX_NX], accm[MLLM_DOT_MAX_NX];
    k_rows_init(xv, xs, x, acc, acc2, accm, NX);
    const int64_t nsb = k / QK_K, spr = MLLM_XD_ROW_Q8_1(k); /* xd floats per row */
    const uint8x16_t m4 = vdupq_n_u8(0x0f), b4 = vdupq_n_u8(0x10);
    for (int64_t sb = 0; sb < nsb; sb++) {
        const block_q4_K *b4k = (const block_q4_K *)w + sb;
        const block_q5_K *b5k = (const block_q5_K *)w + sb;
        const mllm_fp16 *dd = five ? &b5k->d : &b4k->d; /* d, dmin lead both layouts */
        const uint8_t *qs = five ? b5k->qs : b4k->qs;
        const float d = nh2f(dd[0]), dmin = nh2f(dd[1]);
        uint8_t sc[8], mn[8];
        kq_scales_unpack(five ? b5k->scales : b4k->scales, sc, mn);
        uint8x16_t h0 = vdupq_n_u8(0), h1 = vdupq_n_u8(0);
        if (five) {
            h0 = vld1q_u8(b5k->qh);
            h1 = vld1q_u8(b5k->qh + 16);
        }
        for (int c = 0; c < 4; c++) {
            uint8x16_t v0 = vld1q_u8(qs + 32 * c), v1 = vld1q_u8(qs + 32 * c + 16);
            uint8x16_t l0 = vandq_u8(v0, m4), l1 = vandq_u8(v1, m4), u0 = vshrq_n_u8(v0, 4), u1 = vshrq_n_u8(v1, 4);
            if (five) { /* bit 2c of qh[l] for block 2c, bit 2c+1 for block 2c+1, moved to bit 4 */
                const uint8x16_t bl = vdupq_n_u8((uint8_t)(1u << (2 * c))), bh = vdupq_n_u8((uint8_t)(2u << (2 * c)));
                l0 = vorrq_u8(l0, vandq_u8(vtstq_u8(h0, bl), b4));
                l1 = vorrq_u8(l1, vandq_u8(vtstq_u8(h1, bl), b4));
                u0 = vorrq_u8(u0, vandq_u8(vtstq_u8(h0, bh), b4));
                u1 = vorrq_u8(u1, vandq_u8(vtstq_u8(h1, bh), b4));
            }
            const int64_t xb = 8 * sb + 2 * c;
            k_block(vreinterpretq_s8_u8(l0), vreinterpretq_s8_u8(l1), d * (float)sc[2 * c], xb, x, xd, spr, acc, NX);
            k_block(vreinterpretq_s8_u8(u0), vreinterpretq_s8_u8(u1), d * (float)sc[2 * c + 1], xb + 1, x, xd, spr, acc2, NX);
        }
        const float32x4_t dm0 = vmulq_n_f32(vcvtq_f32_u32(vmovl_u16(vget_low_u16(vmovl_u8(vld1_u8(mn))))), dmin);
        const float32x4_t dm1 = vmulq_n_f32(vcvtq_f32_u32(vmovl_u16(vget_high_u16(vmovl_u8(vld1_u8(mn))))), dmin);
        for (int j = 0; j < NX; j++) { /* the rows' exact block sums d_x sum(q_x), kernels.h */
            const float *xsum = xd + j * spr + MLLM_XD_SUMS(k) + 8 * sb;
            accm[j] = vfmaq_f32(vfmaq_f32(accm[j], dm0, vld1q_f32(xsum)), dm1, vld1q_f32(xsum + 4));
        }
    }
    for (int j = 0; j < NX; j++) out[j] = vaddvq_f32(vaddq_f32(acc[j], acc2[j])) - vaddvq_f32(accm[j]);
}

/* Q6_K: quants q - 32 as int8 (-32..31); each 16-byte half of a block is one sub-block, whose
 * int32 sums are multiplied by its scale before the block's float step. */
NEON_INLINE void dot_q6_k_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX,
                            const int T) {
    const char *x[MLLM_DOT_MAX_NX];
    float32x4_t acc[MLLM_DOT_MAX_NX], acc2[MLLM_DOT_MAX_NX], accm[MLLM_DOT_MAX_NX];
    k_rows_init(xv, xs, x, acc, acc2, accm, NX);
    const int64_t nsb = k / QK_K, spr = MLLM_XD_ROW_Q8_0(k); /* xd floats per row */
    const uint8x16_t m4 = vdupq_n_u8(0x0f), m30 = vdupq_n_u8(0x30);
    const int8x16_t c32 = vdupq_n_s8(32);
    for (int64_t sb = 0; sb < nsb; sb++) {
        const block_q6_K *b = (const block_q6_K *)w + sb;
        const float d = nh2f(b->d);
        for (int hh = 0; hh < 2; hh++) {
            const uint8_t *ql = b->ql + 64 * hh, *qh = b->qh + 32 * hh;
            int8x16_t q[4][2]; /* block 4 hh + g, elements 16 t .. 16 t + 15 */
            for (int t = 0; t < 2; t++) {
                uint8x16_t la = vld1q_u8(ql + 16 * t), lb = vld1q_u8(ql + 32 + 16 * t), hv = vld1q_u8(qh + 16 * t);
                q[0][t] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vandq_u8(la, m4), vandq_u8(vshlq_n_u8(hv, 4), m30))), c32);
                q[1][t] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vandq_u8(lb, m4), vandq_u8(vshlq_n_u8(hv, 2), m30))), c32);
                q[2][t] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(la, 4), vandq_u8(hv, m30))), c32);
                q[3][t] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(lb, 4), vandq_u8(vshrq_n_u8(hv, 2), m30))), c32);
            }
            for (int g = 0; g < 4; g++) {
                const int i = 4 * hh + g; /* block within the super-block: sub-blocks 2i, 2i+1 */
                const int32_t sa = b->scales[2 * i], sbb = b->scales[2 * i + 1];
                for (int j = 0; j < NX; j++) {
                    const int8_t *q8 = ((const block_q8_0 *)x[j])[8 * sb + i].qs;
                    int32x4_t s = vmulq_n_s32(dot_s8x16(vdupq_n_s32(0), q[g][0], vld1q_s8(q8)), sa);
                    s = vmlaq_n_s32(s, dot_s8x16(vdupq_n_s32(0), q[g][1], vld1q_s8(q8 + 16)), sbb);
                    float scale = d * xd[j * spr + (8 * sb + i) * MLLM_XD_LANES];
                    if (g & 1) acc2[j] = vfmaq_n_f32(acc2[j], vcvtq_f32_s32(s), scale);
                    else acc[j] = vfmaq_n_f32(acc[j], vcvtq_f32_s32(s), scale);
                }
            }
        }
    }
    for (int j = 0; j < NX; j++) out[j] = vaddvq_f32(vaddq_f32(acc[j], acc2[j]));
}

#endif
