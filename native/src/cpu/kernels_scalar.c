/* Portable kernels: the baseline table every level starts from (and the whole table on CPUs
 * without our SIMD kernels). Quantized dots are the reference ones; float dots keep 8 independent
 * partial sums so compilers can vectorise them. */
#include <math.h>

#include "cpu/kernels.h"
#include "quant/fp16_inline.h"
#include "quant/quant.h"

#define LANES 8

/* Weight i of a row of type T, widened to f32. */
static inline float load1(const void *w, int64_t i, const int T) {
    switch (T) {
    case MLLM_TYPE_F32: return ((const float *)w)[i];
    case MLLM_TYPE_F16: return mllm_fp16_to_fp32_inline(((const uint16_t *)w)[i]);
    default: return mllm_bf16_to_fp32_inline(((const uint16_t *)w)[i]);
    }
}

/* One row of float weights against one f32 row, in LANES independent partial sums. */
static inline float dot_float_row(const void *w, const float *x, int64_t k, const int T) {
    float acc[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= k; i += LANES)
        for (int l = 0; l < LANES; l++) acc[l] += load1(w, i + l, T) * x[i + l];
    float s = 0.0f;
    for (; i < k; i++) s += load1(w, i, T) * x[i];
    for (int l = 0; l < LANES; l++) s += acc[l];
    return s;
}

static inline void dot_float_n(int64_t k, const void *w, const void *x, size_t xs, const float *xd, float *out, const int NX,
                               const int T) {
    for (int j = 0; j < NX; j++) out[j] = dot_float_row(w, (const float *)((const char *)x + (size_t)j * xs), k, T);
}

/* Quantized weights: the reference dot, row by row. */
static inline void dot_ref_n(int64_t k, const void *w, const void *x, size_t xs, const float *xd, float *out, const int NX,
                             const int T) {
    for (int j = 0; j < NX; j++) out[j] = mllm_vec_dot_ref(T, w, (const char *)x + (size_t)j * xs, k);
}

MLLM_DOT_ENTRY(dot_f32, dot_float_n, MLLM_TYPE_F32)
MLLM_DOT_ENTRY(dot_f16, dot_float_n, MLLM_TYPE_F16)
MLLM_DOT_ENTRY(dot_bf16, dot_float_n, MLLM_TYPE_BF16)
MLLM_DOT_ENTRY(dot_q8_0, dot_ref_n, MLLM_TYPE_Q8_0)
MLLM_DOT_ENTRY(dot_q4_0, dot_ref_n, MLLM_TYPE_Q4_0)
MLLM_DOT_ENTRY(dot_q4_1, dot_ref_n, MLLM_TYPE_Q4_1)
MLLM_DOT_ENTRY(dot_q5_0, dot_ref_n, MLLM_TYPE_Q5_0)
MLLM_DOT_ENTRY(dot_q5_1, dot_ref_n, MLLM_TYPE_Q5_1)
MLLM_DOT_ENTRY(dot_q4_K, dot_ref_n, MLLM_TYPE_Q4_K)
MLLM_DOT_ENTRY(dot_q5_K, dot_ref_n, MLLM_TYPE_Q5_K)
MLLM_DOT_ENTRY(dot_q6_K, dot_ref_n, MLLM_TYPE_Q6_K)

static void quantize_q8_0(const float *x, void *y, int64_t k) { mllm_quantize_row_ref(MLLM_TYPE_Q8_0, x, y, k); }
static void quantize_q8_1(const float *x, void *y, int64_t k) { mllm_quantize_row_ref(MLLM_TYPE_Q8_1, x, y, k); }

static float vec_dot_f32(const float *a, const float *b, int64_t n) { return dot_float_row(a, b, n, MLLM_TYPE_F32); }

static float vec_dot_f16_f32(const uint16_t *a, const float *b, int64_t n) { return dot_float_row(a, b, n, MLLM_TYPE_F16); }

static void axpy_f16(float *y, const uint16_t *x, float a, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += a * mllm_fp16_to_fp32_inline(x[i]);
}

static void axpy_f32(float *y, const float *x, float a, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

static double sum_sq_f32(const float *x, int64_t n) {
    double lane[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) lane[l] += (double)x[i + l] * x[i + l];
    return mllm_sum_sq_finish(lane, x, i, n);
}

static float vec_dot_q8_0_f32(const void *x, const float *y, int64_t n) {
    const block_q8_0 *b = x;
    float s = 0.0f;
    for (int64_t i = 0; i < n / QK8_0; i++, y += QK8_0) {
        float acc = 0.0f;
        for (int j = 0; j < QK8_0; j++) acc += (float)b[i].qs[j] * y[j];
        s += mllm_fp16_to_fp32_inline(b[i].d) * acc;
    }
    return s;
}

static void axpy_q8_0(float *y, const void *x, float a, int64_t n) {
    const block_q8_0 *b = x;
    for (int64_t i = 0; i < n / QK8_0; i++, y += QK8_0) {
        const float ad = a * mllm_fp16_to_fp32_inline(b[i].d);
        for (int j = 0; j < QK8_0; j++) y[j] += ad * (float)b[i].qs[j];
    }
}

static void f32_to_f16(uint16_t *dst, const float *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = mllm_fp32_to_fp16(src[i]);
}

static void attn_f16(const float *q, const uint16_t *k, const uint16_t *v, size_t stride, int32_t n, int32_t hd,
                     float scale, float *s, float *out, float *ml) {
    float mx = -INFINITY;
    for (int32_t j = 0; j < n; j++) {
        s[j] = dot_float_row(k + (size_t)j * stride, q, hd, MLLM_TYPE_F16) * scale;
        if (s[j] > mx) mx = s[j];
    }
    float sum = 0.0f;
    for (int32_t j = 0; j < n; j++) {
        s[j] = expf(s[j] - mx);
        sum += s[j];
    }
    for (int32_t i = 0; i < hd; i++) out[i] = 0.0f;
    for (int32_t j = 0; j < n; j++) axpy_f16(out, v + (size_t)j * stride, s[j], hd);
    const float inv = 1.0f / sum;
    for (int32_t i = 0; i < hd; i++) out[i] *= inv;
    if (ml) ml[0] = mx, ml[1] = sum;
}

static void swiglu(float *g, const float *u, int64_t n) {
    for (int64_t i = 0; i < n; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

static void rope_pairs(float *x, const float *cs, const float *sn, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float x0 = x[2 * i], x1 = x[2 * i + 1];
        x[2 * i] = x0 * cs[i] - x1 * sn[i];
        x[2 * i + 1] = x0 * sn[i] + x1 * cs[i];
    }
}

void mllm_kernels_fill_scalar(mllm_kernels *k) {
    k->dot[MLLM_KSLOT_F32] = dot_f32;
    k->dot[MLLM_KSLOT_F16] = dot_f16;
    k->dot[MLLM_KSLOT_BF16] = dot_bf16;
    k->dot[MLLM_KSLOT_Q8_0] = dot_q8_0;
    k->dot[MLLM_KSLOT_Q4_0] = dot_q4_0;
    k->dot[MLLM_KSLOT_Q4_1] = dot_q4_1;
    k->dot[MLLM_KSLOT_Q5_0] = dot_q5_0;
    k->dot[MLLM_KSLOT_Q5_1] = dot_q5_1;
    k->dot[MLLM_KSLOT_Q4_K] = dot_q4_K;
    k->dot[MLLM_KSLOT_Q5_K] = dot_q5_K;
    k->dot[MLLM_KSLOT_Q6_K] = dot_q6_K;
    k->quantize_q8_0 = quantize_q8_0;
    k->quantize_q8_1 = quantize_q8_1;
    k->vec_dot_f32 = vec_dot_f32;
    k->vec_dot_f16_f32 = vec_dot_f16_f32;
    k->axpy_f16 = axpy_f16;
    k->axpy_f32 = axpy_f32;
    k->sum_sq_f32 = sum_sq_f32;
    k->vec_dot_q8_0_f32 = vec_dot_q8_0_f32;
    k->axpy_q8_0 = axpy_q8_0;
    k->f32_to_f16 = f32_to_f16;
    k->attn_f16 = attn_f16;
    k->swiglu = swiglu;
    k->rope_pairs = rope_pairs;
}
