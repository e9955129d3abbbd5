/* Scalar reference dequantizers: x = d * q (+ m) per the block layouts in quant.h. */
#include <string.h>

#include "quant/kquant.h"
#include "quant/quant.h"

static inline uint32_t load_qh(const uint8_t qh[4]) {
    return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
}

void mllm_dequantize_row_ref(int32_t type, const void *x, float *y, int64_t n) {
    switch (type) {
    case MLLM_TYPE_F32: memcpy(y, x, (size_t)n * sizeof(float)); break;
    case MLLM_TYPE_F16:
        for (int64_t i = 0; i < n; i++) y[i] = mllm_fp16_to_fp32(((const mllm_fp16 *)x)[i]);
        break;
    case MLLM_TYPE_BF16:
        for (int64_t i = 0; i < n; i++) y[i] = mllm_bf16_to_fp32(((const mllm_bf16 *)x)[i]);
        break;
    case MLLM_TYPE_Q8_0:
        for (int64_t b = 0; b < n / QK8_0; b++, y += QK8_0) {
            const block_q8_0 *blk = (const block_q8_0 *)x + b;
            float d = mllm_fp16_to_fp32(blk->d);
            for (int j = 0; j < QK8_0; j++) y[j] = blk->qs[j] * d;
        }
        break;
    case MLLM_TYPE_Q8_1:
        for (int64_t b = 0; b < n / QK8_1; b++, y += QK8_1) {
            const block_q8_1 *blk = (const block_q8_1 *)x + b;
            float d = mllm_fp16_to_fp32(blk->d);
            for (int j = 0; j < QK8_1; j++) y[j] = blk->qs[j] * d;
        }
        break;
    case MLLM_TYPE_Q4_0:
        for (int64_t b = 0; b < n / QK4_0; b++, y += QK4_0) {
            const block_q4_0 *blk = (const block_q4_0 *)x + b;
            float d = mllm_fp16_to_fp32(blk->d);
            for (int j = 0; j < QK4_0 / 2; j++) {
                y[j] = ((blk->qs[j] & 15) - 8) * d;
                y[j + QK4_0 / 2] = ((blk->qs[j] >> 4) - 8) * d;
            }
        }
        break;
    case MLLM_TYPE_Q4_1:
        for (int64_t b = 0; b < n / QK4_1; b++, y += QK4_1) {
            const block_q4_1 *blk = (const block_q4_1 *)x + b;
            float d = mllm_fp16_to_fp32(blk->d), m = mllm_fp16_to_fp32(blk->m);
            for (int j = 0; j < QK4_1 / 2; j++) {
                y[j] = (blk->qs[j] & 15) * d + m;
                y[j + QK4_1 / 2] = (blk->qs[j] >> 4) * d + m;
            }
        }
        break;
    case MLLM_TYPE_Q5_0:
        for (int64_t b = 0; b < n / QK5_0; b++, y += QK5_0) {
            const block_q5_0 *blk = (const block_q5_0 *)x + b;
            float d = mllm_fp16_to_fp32(blk->d);
            uint32_t qh = load_qh(blk->qh);
            for (int j = 0; j < QK5_0 / 2; j++) {
                int q0 = (blk->qs[j] & 15) | (int)((qh >> j) & 1) << 4;
                int q1 = (blk->qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
                y[j] = (q0 - 16) * d;
                y[j + QK5_0 / 2] = (q1 - 16) * d;
            }
        }
        break;
    case MLLM_TYPE_Q5_1:
        for (int64_t b = 0; b < n / QK5_1; b++, y += QK5_1) {
            const block_q5_1 *blk = (const block_q5_1 *)x + b;
            float d = mllm_fp16_to_fp32(blk->d), m = mllm_fp16_to_fp32(blk->m);
            uint32_t qh = load_qh(blk->qh);
            for (int j = 0; j < QK5_1 / 2; j++) {
                int q0 = (blk->qs[j] & 15) | (int)((qh >> j) & 1) << 4;
                int q1 = (blk->qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
                y[j] = q0 * d + m;
                y[j + QK5_1 / 2] = q1 * d + m;
            }
        }
        break;
    case MLLM_TYPE_Q4_K:
    case MLLM_TYPE_Q5_K:
    case MLLM_TYPE_Q6_K: mllm_dequantize_k_ref(type, x, y, n / QK_K); break; /* kquant_ref.c */
    default: break;
    }
}
