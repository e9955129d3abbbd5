/* Baseline aarch64 kernels (Armv8-A Advanced SIMD, present on every aarch64 CPU): quantized dots
 * with widening multiplies, f32/f16/bf16 weights with fma, activation quantizers byte-identical
 * to the reference, and the vector helpers. kernels_neon_dotprod.c replaces the quantized dots
 * on CPUs with the dot product extension. */
#include "cpu/kernels.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include "quant/fp16_inline.h"

#include <arm_neon.h>

/* Sum of the 16 byte products of a and b added into acc: 8 + 8 exact int16 products (at most
 * 128 * 128 = 16384), added pairwise into the int32 lanes. */
static inline __attribute__((always_inline)) int32x4_t dot_s8x16(int32x4_t acc, int8x16_t a, int8x16_t b) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_high_s8(a, b));
}
#include "cpu/kernels_neon_body.h"

/* ---- float weights (activations f32) -------------------------------------------------------- */

NEON_INLINE float32x4_t ld4_f32(const void *w, int64_t i) { return vld1q_f32((const float *)w + i); }
NEON_INLINE float32x4_t ld4_f16(const void *w, int64_t i) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)w + i)));
}
NEON_INLINE float32x4_t ld4_bf16(const void *w, int64_t i) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16((const uint16_t *)w + i), 16));
}
NEON_INLINE float ld1_f32(const void *w, int64_t i) { return ((const float *)w)[i]; }
NEON_INLINE float ld1_f16(const void *w, int64_t i) { return nh2f(((const uint16_t *)w)[i]); }
NEON_INLINE float ld1_bf16(const void *w, int64_t i) { return mllm_bf16_to_fp32_inline(((const uint16_t *)w)[i]); }

/* Four accumulators (16 lanes) per activation row: every lane sums at most k / 16 + 3 products,
 * and the fma latency is hidden even for one row. */
#define NEON_FLOAT_BODY(LD4, LD1)                                                               \
    const float *x[MLLM_DOT_MAX_NX];                                                            \
    float32x4_t a0[MLLM_DOT_MAX_NX], a1[MLLM_DOT_MAX_NX], a2[MLLM_DOT_MAX_NX], a3[MLLM_DOT_MAX_NX]; \
    for (int j = 0; j < NX; j++) {                                                              \
        x[j] = (const float *)((const char *)xv + (size_t)j * xs);                              \
        a0[j] = a1[j] = a2[j] = a3[j] = vdupq_n_f32(0.0f);                                      \
    }                                                                                           \
    int64_t i = 0;                                                                              \
    for (; i + 16 <= k; i += 16) {                                                              \
        float32x4_t w0 = LD4(w, i), w1 = LD4(w, i + 4), w2 = LD4(w, i + 8), w3 = LD4(w, i + 12); \
        for (int j = 0; j < NX; j++) {                                                          \
            a0[j] = vfmaq_f32(a0[j], w0, vld1q_f32(x[j] + i));                                  \
            a1[j] = vfmaq_f32(a1[j], w1, vld1q_f32(x[j] + i + 4));                              \
            a2[j] = vfmaq_f32(a2[j], w2, vld1q_f32(x[j] + i + 8));                              \
            a3[j] = vfmaq_f32(a3[j], w3, vld1q_f32(x[j] + i + 12));                             \
        }                                                                                       \
    }                                                                                           \
    for (; i + 4 <= k; i += 4) {                                                                \
        float32x4_t w0 = LD4(w, i);                                                             \
        for (int j = 0; j < NX; j++) a0[j] = vfmaq_f32(a0[j], w0, vld1q_f32(x[j] + i));         \
    }                                                                                           \
    for (int j = 0; j < NX; j++) {                                                              \
        float s = vaddvq_f32(vaddq_f32(vaddq_f32(a0[j], a1[j]), vaddq_f32(a2[j], a3[j])));      \
        for (int64_t t = i; t < k; t++) s += LD1(w, t) * x[j][t];                               \
        out[j] = s;                                                                             \
    }

NEON_INLINE void nf_f32_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX) {
    NEON_FLOAT_BODY(ld4_f32, ld1_f32)
}
NEON_INLINE void nf_f16_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX) {
    NEON_FLOAT_BODY(ld4_f16, ld1_f16)
}
NEON_INLINE void nf_bf16_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX) {
    NEON_FLOAT_BODY(ld4_bf16, ld1_bf16)
}
MLLM_DOT_ENTRY(nf_f32)
MLLM_DOT_ENTRY(nf_f16)
MLLM_DOT_ENTRY(nf_bf16)

/* ---- activation quantizers (bytes identical to the reference) -------------------------------- */

/* Largest |x| of a 32-float block; maxnm ignores quiet NaNs like the reference's fmaxf. */
NEON_INLINE float absmax32(const float *x) {
    float32x4_t m = vabsq_f32(vld1q_f32(x));
    for (int i = 1; i < 8; i++) m = vmaxnmq_f32(m, vabsq_f32(vld1q_f32(x + 4 * i)));
    return vmaxnmvq_f32(m);
}

/* qs = roundf(x * id) for 32 floats (vcvtaq rounds to nearest, ties away from zero, as roundf);
 * returns the sum of the quants. */
NEON_INLINE int quant32(const float *x, float id, int8_t *qs) {
    int32x4_t sum = vdupq_n_s32(0);
    for (int i = 0; i < 32; i += 16) {
        int32x4_t q0 = vcvtaq_s32_f32(vmulq_n_f32(vld1q_f32(x + i), id));
        int32x4_t q1 = vcvtaq_s32_f32(vmulq_n_f32(vld1q_f32(x + i + 4), id));
        int32x4_t q2 = vcvtaq_s32_f32(vmulq_n_f32(vld1q_f32(x + i + 8), id));
        int32x4_t q3 = vcvtaq_s32_f32(vmulq_n_f32(vld1q_f32(x + i + 12), id));
        sum = vaddq_s32(sum, vaddq_s32(vaddq_s32(q0, q1), vaddq_s32(q2, q3)));
        int16x8_t h0 = vcombine_s16(vmovn_s32(q0), vmovn_s32(q1));
        int16x8_t h1 = vcombine_s16(vmovn_s32(q2), vmovn_s32(q3));
        vst1q_s8(qs + i, vcombine_s8(vmovn_s16(h0), vmovn_s16(h1)));
    }
    return vaddvq_s32(sum);
}

static void quantize_q8_0(const float *x, void *yv, int64_t k) {
    block_q8_0 *y = yv;
    for (int64_t b = 0; b < k / 32; b++, x += 32) {
        float d = absmax32(x) / 127.0f;
        y[b].d = mllm_fp32_to_fp16(d);
        quant32(x, d != 0.0f ? 1.0f / d : 0.0f, y[b].qs);
    }
}

static void quantize_q8_1(const float *x, void *yv, int64_t k) {
    block_q8_1 *y = yv;
    for (int64_t b = 0; b < k / 32; b++, x += 32) {
        float d = absmax32(x) / 127.0f;
        int sum = quant32(x, d != 0.0f ? 1.0f / d : 0.0f, y[b].qs);
        y[b].d = mllm_fp32_to_fp16(d);
        y[b].s = mllm_fp32_to_fp16((float)sum * d);
    }
}

/* ---- vector helpers --------------------------------------------------------------------------- */

static float vec_dot_f32(const float *a, const float *b, int64_t n) {
    float out;
    nf_f32_n(n, a, b, 0, NULL, &out, 1);
    return out;
}

static float vec_dot_f16_f32(const uint16_t *a, const float *b, int64_t n) {
    float out;
    nf_f16_n(n, a, b, 0, NULL, &out, 1);
    return out;
}

static void axpy_f32(float *y, const float *x, float a, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), a));
    for (; i < n; i++) y[i] += a * x[i];
}

static void axpy_f16(float *y, const uint16_t *x, float a, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), ld4_f16(x, i), a));
    for (; i < n; i++) y[i] += a * nh2f(x[i]);
}

/* fcvtn rounds to nearest even (the default FPCR mode) and keeps subnormal halves: bit-identical
 * to mllm_fp32_to_fp16. */
static void f32_to_f16(uint16_t *dst, const float *src, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1_u16(dst + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(src + i))));
    for (; i < n; i++) dst[i] = mllm_fp32_to_fp16(src[i]);
}

void mllm_kernels_fill_neon(mllm_kernels *k) {
    k->dot[MLLM_KSLOT_F32] = nf_f32;
    k->dot[MLLM_KSLOT_F16] = nf_f16;
    k->dot[MLLM_KSLOT_BF16] = nf_bf16;
    neon_fill_quant_dots(k);
    k->quantize_q8_0 = quantize_q8_0;
    k->quantize_q8_1 = quantize_q8_1;
    k->vec_dot_f32 = vec_dot_f32;
    k->vec_dot_f16_f32 = vec_dot_f16_f32;
    k->axpy_f32 = axpy_f32;
    k->axpy_f16 = axpy_f16;
    k->f32_to_f16 = f32_to_f16;
}

#elif defined(__aarch64__)
/* Built without NEON (not a normal aarch64 toolchain): keep the scalar kernels. */
void mllm_kernels_fill_neon(mllm_kernels *k) { (void)k; }
#endif
