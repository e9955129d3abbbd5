/* K-quant reference dequantizers (ggml's formulas) and reference dot products.
 *
 * Activations: Q4_K / Q5_K against q8_1 rows, Q6_K against q8_0 rows (its sub-blocks of 16 are
 * the two halves of a 32-element activation block). The min term dmin * m * sum(x) of a 32-element
 * sub-block uses the exact integer sum of the activation quants times d_x in float, not q8_1's s
 * (that sum rounded to half precision: its error of up to 2^-12 of |sum(x)|, on every block of
 * every row, moved the logits of test_model_forward's tiny K-quant models by ~0.5; the float is
 * what the matmul driver prepares for the kernels, see kernels.h). Per 32-element block the
 * integer sums are exact; they are scaled in float and the blocks are accumulated in order. */
#include "quant/kquant.h"

/* Super-block b of a Q4_K / Q5_K row: its scales, and element e's quant. */
typedef struct { float d, dmin; uint8_t sc[8], m[8]; const block_q4_K *w4; const block_q5_K *w5; } q45_sb;

static q45_sb q45_load(int32_t type, const void *row, int64_t b) {
    q45_sb s = {0};
    if (type == MLLM_TYPE_Q4_K) s.w4 = (const block_q4_K *)row + b;
    else s.w5 = (const block_q5_K *)row + b;
    s.d = mllm_fp16_to_fp32(s.w4 ? s.w4->d : s.w5->d);
    s.dmin = mllm_fp16_to_fp32(s.w4 ? s.w4->dmin : s.w5->dmin);
    kq_scales_unpack(s.w4 ? s.w4->scales : s.w5->scales, s.sc, s.m);
    return s;
}

static inline int q45_q(const q45_sb *s, int e) { return s->w4 ? kq_q4(s->w4->qs, e) : kq_q5(s->w5, e); }

void mllm_dequantize_k_ref(int32_t type, const void *x, float *y, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, y += QK_K) {
        if (type == MLLM_TYPE_Q6_K) {
            const block_q6_K *blk = (const block_q6_K *)x + b;
            const float d = mllm_fp16_to_fp32(blk->d);
            for (int e = 0; e < QK_K; e++) y[e] = d * (float)blk->scales[e / 16] * (float)(kq_q6(blk, e) - 32);
        } else {
            q45_sb s = q45_load(type, x, b);
            for (int e = 0; e < QK_K; e++)
                y[e] = s.d * (float)s.sc[e / 32] * (float)q45_q(&s, e) - s.dmin * (float)s.m[e / 32];
        }
    }
}

static float dot_q45_K(int32_t type, const void *w, const block_q8_1 *x, int64_t nb) {
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        q45_sb s = q45_load(type, w, b);
        for (int i = 0; i < 8; i++) {
            const block_q8_1 *xb = x + 8 * b + i;
            const float dx = mllm_fp16_to_fp32(xb->d);
            int sumi = 0, sumx = 0;
            for (int l = 0; l < 32; l++) {
                sumi += q45_q(&s, 32 * i + l) * xb->qs[l];
                sumx += xb->qs[l];
            }
            sum += (float)sumi * (s.d * (float)s.sc[i] * dx);
            sum -= s.dmin * (float)s.m[i] * ((float)sumx * dx);
        }
    }
    return sum;
}

static float dot_q6_K(const block_q6_K *w, const block_q8_0 *x, int64_t nb) {
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        const float d = mllm_fp16_to_fp32(w[b].d);
        for (int i = 0; i < 8; i++) {
            const block_q8_0 *xb = x + 8 * b + i;
            int half[2] = {0, 0}; /* the two sub-blocks of 16 */
            for (int l = 0; l < 32; l++) half[l / 16] += (kq_q6(w + b, 32 * i + l) - 32) * xb->qs[l];
            int sumi = w[b].scales[2 * i] * half[0] + w[b].scales[2 * i + 1] * half[1];
            sum += (float)sumi * (d * mllm_fp16_to_fp32(xb->d));
        }
    }
    return sum;
}

float mllm_vec_dot_k_ref(int32_t type, const void *w, const void *x, int64_t nb) {
    return type == MLLM_TYPE_Q6_K ? dot_q6_K(w, x, nb) : dot_q45_K(type, w, x, nb);
}
