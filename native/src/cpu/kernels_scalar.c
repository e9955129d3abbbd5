/* Portable kernels: the baseline table every level starts from. */
#include "cpu/kernels.h"
#include "quant/quant.h"

#define SCALAR_DOT(name, type)                                                                  \
    static void name(int64_t k, const void *w, const void *x, size_t xs, int nx, float *out) { \
        for (int j = 0; j < nx; j++)                                                            \
            out[j] = mllm_vec_dot_ref(type, w, (const char *)x + (size_t)j * xs, k);             \
    }
SCALAR_DOT(dot_f32, MLLM_TYPE_F32)
SCALAR_DOT(dot_f16, MLLM_TYPE_F16)
SCALAR_DOT(dot_bf16, MLLM_TYPE_BF16)
SCALAR_DOT(dot_q8_0, MLLM_TYPE_Q8_0)
SCALAR_DOT(dot_q4_0, MLLM_TYPE_Q4_0)
SCALAR_DOT(dot_q4_1, MLLM_TYPE_Q4_1)
SCALAR_DOT(dot_q5_0, MLLM_TYPE_Q5_0)
SCALAR_DOT(dot_q5_1, MLLM_TYPE_Q5_1)

static void quantize_q8_0(const float *x, void *y, int64_t k) { mllm_quantize_row_ref(MLLM_TYPE_Q8_0, x, y, k); }
static void quantize_q8_1(const float *x, void *y, int64_t k) { mllm_quantize_row_ref(MLLM_TYPE_Q8_1, x, y, k); }

static float vec_dot_f32(const float *a, const float *b, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static float vec_dot_f16_f32(const uint16_t *a, const float *b, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += mllm_fp16_to_fp32(a[i]) * b[i];
    return s;
}

static void axpy_f16(float *y, const uint16_t *x, float a, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += a * mllm_fp16_to_fp32(x[i]);
}

static void axpy_f32(float *y, const float *x, float a, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

static void f32_to_f16(uint16_t *dst, const float *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = mllm_fp32_to_fp16(src[i]);
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
    k->quantize_q8_0 = quantize_q8_0;
    k->quantize_q8_1 = quantize_q8_1;
    k->vec_dot_f32 = vec_dot_f32;
    k->vec_dot_f16_f32 = vec_dot_f16_f32;
    k->axpy_f16 = axpy_f16;
    k->axpy_f32 = axpy_f32;
    k->f32_to_f16 = f32_to_f16;
}
