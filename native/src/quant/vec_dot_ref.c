/* Scalar reference dot products of one weight row with one activation row (already converted to
 * the weight type's vec_dot_type). Quantized types: exact integer sum per block, then scaled in
 * float, blocks accumulated in order. Float types accumulate in double: the most accurate oracle. */
#include "quant/kquant.h"
#include "quant/quant.h"

static inline uint32_t load_qh(const uint8_t qh[4]) {
    return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
}

static float dot_q8_0(const block_q8_0 *w, const block_q8_0 *x, int64_t nb) {
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int sumi = 0;
        for (int j = 0; j < QK8_0; j++) sumi += w[b].qs[j] * x[b].qs[j];
        sum += (float)sumi * (mllm_fp16_to_fp32(w[b].d) * mllm_fp16_to_fp32(x[b].d));
    }
    return sum;
}

static float dot_q4_0(const block_q4_0 *w, const block_q8_0 *x, int64_t nb) {
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int sumi = 0;
        for (int j = 0; j < QK4_0 / 2; j++) {
            sumi += ((w[b].qs[j] & 15) - 8) * x[b].qs[j];
            sumi += ((w[b].qs[j] >> 4) - 8) * x[b].qs[j + QK4_0 / 2];
        }
        sum += (float)sumi * (mllm_fp16_to_fp32(w[b].d) * mllm_fp16_to_fp32(x[b].d));
    }
    return sum;
}

static float dot_q5_0(const block_q5_0 *w, const block_q8_0 *x, int64_t nb) {
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        uint32_t qh = load_qh(w[b].qh);
        int sumi = 0;
        for (int j = 0; j < QK5_0 / 2; j++) {
            int q0 = ((w[b].qs[j] & 15) | (int)((qh >> j) & 1) << 4) - 16;
            int q1 = ((w[b].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4) - 16;
            sumi += q0 * x[b].qs[j] + q1 * x[b].qs[j + QK5_0 / 2];
        }
        sum += (float)sumi * (mllm_fp16_to_fp32(w[b].d) * mllm_fp16_to_fp32(x[b].d));
    }
    return sum;
}

/* q4_1 / q5_1: sum_j (d q_j + m) * dx qx_j = d dx sum(q qx) + m * (dx sum(qx)) = ... + m * s */
static float dot_q4_1(const block_q4_1 *w, const block_q8_1 *x, int64_t nb) {
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int sumi = 0;
        for (int j = 0; j < QK4_1 / 2; j++)
            sumi += (w[b].qs[j] & 15) * x[b].qs[j] + (w[b].qs[j] >> 4) * x[b].qs[j + QK4_1 / 2];
        sum += (float)sumi * (mllm_fp16_to_fp32(w[b].d) * mllm_fp16_to_fp32(x[b].d))
             + mllm_fp16_to_fp32(w[b].m) * mllm_fp16_to_fp32(x[b].s);
    }
    return sum;
}

static float dot_q5_1(const block_q5_1 *w, const block_q8_1 *x, int64_t nb) {
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        uint32_t qh = load_qh(w[b].qh);
        int sumi = 0;
        for (int j = 0; j < QK5_1 / 2; j++) {
            int q0 = (w[b].qs[j] & 15) | (int)((qh >> j) & 1) << 4;
            int q1 = (w[b].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            sumi += q0 * x[b].qs[j] + q1 * x[b].qs[j + QK5_1 / 2];
        }
        sum += (float)sumi * (mllm_fp16_to_fp32(w[b].d) * mllm_fp16_to_fp32(x[b].d))
             + mllm_fp16_to_fp32(w[b].m) * mllm_fp16_to_fp32(x[b].s);
    }
    return sum;
}

float mllm_vec_dot_ref(int32_t wt, const void *w_row, const void *x_row, int64_t n) {
    const float *x = x_row;
    double acc = 0.0;
    switch (wt) {
    case MLLM_TYPE_F32:
        for (int64_t i = 0; i < n; i++) acc += (double)((const float *)w_row)[i] * x[i];
        return (float)acc;
    case MLLM_TYPE_F16:
        for (int64_t i = 0; i < n; i++) acc += (double)mllm_fp16_to_fp32(((const mllm_fp16 *)w_row)[i]) * x[i];
        return (float)acc;
    case MLLM_TYPE_BF16:
        for (int64_t i = 0; i < n; i++) acc += (double)mllm_bf16_to_fp32(((const mllm_bf16 *)w_row)[i]) * x[i];
        return (float)acc;
    case MLLM_TYPE_Q8_0: return dot_q8_0(w_row, x_row, n / QK8_0);
    case MLLM_TYPE_Q4_0: return dot_q4_0(w_row, x_row, n / QK4_0);
    case MLLM_TYPE_Q5_0: return dot_q5_0(w_row, x_row, n / QK5_0);
    case MLLM_TYPE_Q4_1: return dot_q4_1(w_row, x_row, n / QK4_1);
    case MLLM_TYPE_Q5_1: return dot_q5_1(w_row, x_row, n / QK5_1);
    case MLLM_TYPE_Q4_K:
    case MLLM_TYPE_Q5_K:
    case MLLM_TYPE_Q6_K: return mllm_vec_dot_k_ref(wt, w_row, x_row, n / QK_K); /* kquant_ref.c */
    default: return 0.0f;
    }
}
