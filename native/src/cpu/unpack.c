/* Scalar unpacking of block rows for the prompt tile kernels (unpack.h). Portable: it runs once
 * per row chunk, not in the inner loop. */
#include "cpu/unpack.h"

#include <string.h>

#include "quant/kquant.h"
#include "quant/quant.h"

int mllm_unpack_info(int32_t wt, int *off, int *has_min) {
    switch (wt) {
    case MLLM_TYPE_Q4_0: *off = 8; *has_min = 0; return 1;
    case MLLM_TYPE_Q5_0: *off = 16; *has_min = 0; return 1;
    case MLLM_TYPE_Q6_K: *off = 32; *has_min = 0; return 1;
    case MLLM_TYPE_Q4_1:
    case MLLM_TYPE_Q5_1: *off = 0; *has_min = 2; return 1;
    case MLLM_TYPE_Q4_K:
    case MLLM_TYPE_Q5_K: *off = 0; *has_min = 1; return 1;
    default: return 0;
    }
}

size_t mllm_unpack_row_bytes(int32_t wt, int64_t k) {
    int off, has_min;
    if (!mllm_unpack_info(wt, &off, &has_min)) return 0;
    return (size_t)(k / 64) * (has_min ? 192 : 128);
}

/* Block b (32 elements) of a row: its quants, and the scale and min of each 4-element lane. */
static void unpack_block(int32_t wt, const uint8_t *row, int64_t b, uint8_t q[32], float sc[8], float mn[8]) {
    switch (wt) {
    case MLLM_TYPE_Q4_0: {
        const block_q4_0 *blk = (const block_q4_0 *)row + b;
        for (int j = 0; j < 16; j++) {
            q[j] = blk->qs[j] & 15;
            q[j + 16] = blk->qs[j] >> 4;
        }
        for (int l = 0; l < 8; l++) sc[l] = mllm_fp16_to_fp32(blk->d);
        return;
    }
    case MLLM_TYPE_Q4_1: {
        const block_q4_1 *blk = (const block_q4_1 *)row + b;
        for (int j = 0; j < 16; j++) {
            q[j] = blk->qs[j] & 15;
            q[j + 16] = blk->qs[j] >> 4;
        }
        for (int l = 0; l < 8; l++) {
            sc[l] = mllm_fp16_to_fp32(blk->d);
            mn[l] = mllm_fp16_to_fp32(blk->m);
        }
        return;
    }
    case MLLM_TYPE_Q5_0:
    case MLLM_TYPE_Q5_1: {
        const int q5_1 = wt == MLLM_TYPE_Q5_1;
        const uint8_t *qh = q5_1 ? ((const block_q5_1 *)row + b)->qh : ((const block_q5_0 *)row + b)->qh;
        const uint8_t *qs = q5_1 ? ((const block_q5_1 *)row + b)->qs : ((const block_q5_0 *)row + b)->qs;
        const float d = mllm_fp16_to_fp32(q5_1 ? ((const block_q5_1 *)row + b)->d : ((const block_q5_0 *)row + b)->d);
        const float m = q5_1 ? mllm_fp16_to_fp32(((const block_q5_1 *)row + b)->m) : 0.0f;
        uint32_t h;
        memcpy(&h, qh, 4); /* little-endian: bit j = element j */
        for (int j = 0; j < 16; j++) {
            q[j] = (uint8_t)((qs[j] & 15) | ((h >> j) & 1) << 4);
            q[j + 16] = (uint8_t)((qs[j] >> 4) | ((h >> (j + 16)) & 1) << 4);
        }
        for (int l = 0; l < 8; l++) {
            sc[l] = d;
            mn[l] = m;
        }
        return;
    }
    case MLLM_TYPE_Q4_K:
    case MLLM_TYPE_Q5_K: {
        const int64_t s = b / 8;
        const int i = (int)(b % 8);
        uint8_t scs[8], ms[8];
        float d, dmin;
        if (wt == MLLM_TYPE_Q4_K) {
            const block_q4_K *blk = (const block_q4_K *)row + s;
            kq_scales_unpack(blk->scales, scs, ms);
            d = mllm_fp16_to_fp32(blk->d);
            dmin = mllm_fp16_to_fp32(blk->dmin);
            for (int j = 0; j < 32; j++) q[j] = (uint8_t)kq_q4(blk->qs, 32 * i + j);
        } else {
            const block_q5_K *blk = (const block_q5_K *)row + s;
            kq_scales_unpack(blk->scales, scs, ms);
            d = mllm_fp16_to_fp32(blk->d);
            dmin = mllm_fp16_to_fp32(blk->dmin);
            for (int j = 0; j < 32; j++) q[j] = (uint8_t)kq_q5(blk, 32 * i + j);
        }
        for (int l = 0; l < 8; l++) {
            sc[l] = d * (float)scs[i];
            mn[l] = -(dmin * (float)ms[i]);
        }
        return;
    }
    case MLLM_TYPE_Q6_K: {
        const block_q6_K *blk = (const block_q6_K *)row + b / 8;
        const int i = (int)(b % 8);
        const float d = mllm_fp16_to_fp32(blk->d);
        for (int j = 0; j < 32; j++) q[j] = (uint8_t)kq_q6(blk, 32 * i + j);
        for (int l = 0; l < 8; l++) { /* 16-element sub-blocks: lanes 0..3 and 4..7 */
            sc[l] = d * (float)blk->scales[2 * i + l / 4];
            mn[l] = 0.0f;
        }
        return;
    }
    default: memset(q, 0, 32); return;
    }
}

void mllm_unpack_rows(int32_t wt, const void *w, size_t wrb, int64_t n_rows, int64_t k, uint8_t *dst) {
    int off, has_min;
    if (!mllm_unpack_info(wt, &off, &has_min)) return;
    const size_t pair = has_min ? 192 : 128, rb = mllm_unpack_row_bytes(wt, k);
    for (int64_t r = 0; r < n_rows; r++) {
        const uint8_t *row = (const uint8_t *)w + (size_t)r * wrb;
        uint8_t *o = dst + (size_t)r * rb;
        for (int64_t p = 0; p < k / 64; p++, o += pair) {
            float sc[16], mn[16];
            unpack_block(wt, row, 2 * p, o, sc, mn);
            unpack_block(wt, row, 2 * p + 1, o + 32, sc + 8, mn + 8);
            memcpy(o + 64, sc, sizeof sc);
            if (has_min) memcpy(o + 128, mn, sizeof mn);
        }
    }
}
