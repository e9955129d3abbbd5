/* Scalar reference quantizers. The 32-element types reproduce ggml's reference quantizers byte for
 * byte (same scale formulas, multiply by the reciprocal, same rounding and clamping), so our GGUF
 * files and llama.cpp's agree; the K-quants (quantize_k.c) are our own algorithm in ggml's layout. */
#include <math.h>
#include <string.h>

#include "quant/kquant.h"
#include "quant/quant.h"

static float block_absmax(const float *x, int n) {
    float amax = 0.0f;
    for (int j = 0; j < n; j++) amax = fmaxf(amax, fabsf(x[j]));
    return amax;
}

/* The element of largest magnitude, with its sign (first one wins on ties). */
static float block_signed_max(const float *x, int n) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++) {
        if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
    }
    return max;
}

static void block_min_max(const float *x, int n, float *mn, float *mx) {
    float lo = INFINITY, hi = -INFINITY;
    for (int j = 0; j < n; j++) { lo = fminf(lo, x[j]); hi = fmaxf(hi, x[j]); }
    *mn = lo; *mx = hi;
}

/* roundf (half away from zero) without the C library's: some runtimes' roundf (Wine's msvcrt)
 * computes floor(v + 0.5), which rounds 0.49999997 up to 1. Truncate, then step away from zero
 * when the dropped fraction is >= 0.5 (exact: |v| < 2^23). Values beyond that are integers already,
 * and NaN passes through, as from roundf. */
static float round_half_away(float v) {
    if (!(fabsf(v) < 8388608.0f)) return v;
    const float t = (float)(int32_t)v;
    return fabsf(v - t) >= 0.5f ? t + copysignf(1.0f, v) : t;
}

static void quantize_q8_0(const float *x, block_q8_0 *y, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, x += QK8_0) {
        float d = block_absmax(x, QK8_0) / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = mllm_fp32_to_fp16(d);
        for (int j = 0; j < QK8_0; j++) y[b].qs[j] = (int8_t)round_half_away(x[j] * id);
    }
}

static void quantize_q8_1(const float *x, block_q8_1 *y, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, x += QK8_1) {
        float d = block_absmax(x, QK8_1) / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int j = 0; j < QK8_1; j++) {
            y[b].qs[j] = (int8_t)round_half_away(x[j] * id);
            sum += y[b].qs[j];
        }
        y[b].d = mllm_fp32_to_fp16(d);
        y[b].s = mllm_fp32_to_fp16((float)sum * d);
    }
}

static void quantize_q4_0(const float *x, block_q4_0 *y, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, x += QK4_0) {
        float d = block_signed_max(x, QK4_0) / -8.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = mllm_fp32_to_fp16(d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            int q0 = (int8_t)(x[j] * id + 8.5f), q1 = (int8_t)(x[j + QK4_0 / 2] * id + 8.5f);
            q0 = q0 < 15 ? q0 : 15;
            q1 = q1 < 15 ? q1 : 15;
            y[b].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

static void quantize_q4_1(const float *x, block_q4_1 *y, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, x += QK4_1) {
        float mn, mx;
        block_min_max(x, QK4_1, &mn, &mx);
        float d = (mx - mn) / 15.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = mllm_fp32_to_fp16(d);
        y[b].m = mllm_fp32_to_fp16(mn);
        for (int j = 0; j < QK4_1 / 2; j++) {
            int q0 = (int8_t)((x[j] - mn) * id + 0.5f), q1 = (int8_t)((x[j + QK4_1 / 2] - mn) * id + 0.5f);
            q0 = q0 < 15 ? q0 : 15;
            q1 = q1 < 15 ? q1 : 15;
            y[b].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

static void quantize_q5_0(const float *x, block_q5_0 *y, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, x += QK5_0) {
        float d = block_signed_max(x, QK5_0) / -16.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        uint32_t qh = 0;
        y[b].d = mllm_fp32_to_fp16(d);
        for (int j = 0; j < QK5_0 / 2; j++) {
            int q0 = (int8_t)(x[j] * id + 16.5f), q1 = (int8_t)(x[j + QK5_0 / 2] * id + 16.5f);
            q0 = q0 < 31 ? q0 : 31;
            q1 = q1 < 31 ? q1 : 31;
            y[b].qs[j] = (uint8_t)((q0 & 15) | ((q1 & 15) << 4));
            qh |= (uint32_t)((q0 >> 4) & 1) << j;
            qh |= (uint32_t)((q1 >> 4) & 1) << (j + QK5_0 / 2);
        }
        for (int i = 0; i < 4; i++) y[b].qh[i] = (uint8_t)(qh >> (8 * i)); /* little-endian */
    }
}

static void quantize_q5_1(const float *x, block_q5_1 *y, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, x += QK5_1) {
        float mn, mx;
        block_min_max(x, QK5_1, &mn, &mx);
        float d = (mx - mn) / 31.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        uint32_t qh = 0;
        y[b].d = mllm_fp32_to_fp16(d);
        y[b].m = mllm_fp32_to_fp16(mn);
        for (int j = 0; j < QK5_1 / 2; j++) {
            int q0 = (uint8_t)((x[j] - mn) * id + 0.5f), q1 = (uint8_t)((x[j + QK5_1 / 2] - mn) * id + 0.5f);
            q0 = q0 < 31 ? q0 : 31;
            q1 = q1 < 31 ? q1 : 31;
            y[b].qs[j] = (uint8_t)((q0 & 15) | ((q1 & 15) << 4));
            qh |= (uint32_t)((q0 >> 4) & 1) << j;
            qh |= (uint32_t)((q1 >> 4) & 1) << (j + QK5_1 / 2);
        }
        for (int i = 0; i < 4; i++) y[b].qh[i] = (uint8_t)(qh >> (8 * i));
    }
}

void mllm_quantize_row_ref(int32_t type, const float *x, void *y, int64_t n) {
    switch (type) {
    case MLLM_TYPE_F32: memcpy(y, x, (size_t)n * sizeof(float)); break;
    case MLLM_TYPE_F16:
        for (int64_t i = 0; i < n; i++) ((mllm_fp16 *)y)[i] = mllm_fp32_to_fp16(x[i]);
        break;
    case MLLM_TYPE_BF16:
        for (int64_t i = 0; i < n; i++) ((mllm_bf16 *)y)[i] = mllm_fp32_to_bf16(x[i]);
        break;
    case MLLM_TYPE_Q8_0: quantize_q8_0(x, y, n / QK8_0); break;
    case MLLM_TYPE_Q8_1: quantize_q8_1(x, y, n / QK8_1); break;
    case MLLM_TYPE_Q4_0: quantize_q4_0(x, y, n / QK4_0); break;
    case MLLM_TYPE_Q4_1: quantize_q4_1(x, y, n / QK4_1); break;
    case MLLM_TYPE_Q5_0: quantize_q5_0(x, y, n / QK5_0); break;
    case MLLM_TYPE_Q5_1: quantize_q5_1(x, y, n / QK5_1); break;
    case MLLM_TYPE_Q4_K: mllm_quantize_q4_K_ref(x, y, n / QK_K); break; /* ours: quantize_k.c */
    case MLLM_TYPE_Q5_K: mllm_quantize_q5_K_ref(x, y, n / QK_K); break;
    case MLLM_TYPE_Q6_K: mllm_quantize_q6_K_ref(x, y, n / QK_K); break;
    default: break; /* callers check traits->has_ref first */
    }
}
