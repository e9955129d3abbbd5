/* aarch64 kernels, written once and instantiated by kernels_neon.c (MLLM_DOTPROD 0: baseline
 * Armv8-A, widening multiplies vmull_s8 + pairwise accumulate vpadalq_s16) and
 * kernels_neon_dotprod.c (MLLM_DOTPROD 1: Armv8.2-A dotprod, vdotq_s32); each defines the fill
 * function named MLLM_FILL_FN. Quantized dots, f32/f16/bf16 weights with fma, activation
 * quantizers byte-identical to the reference, and the vector helpers.
 *
 * Each dot kernel loads a weight block once and multiplies it with up to MLLM_DOT_MAX_NX
 * activation rows. Per block the integer sum is exact (|sum| <= 32 * 128 * 127 < 2^24, so its
 * float conversion is exact too); it is scaled by d_w * d_x in float and accumulated in four
 * float lanes, reduced at the end. */
#ifndef MLLM_DOTPROD
#error "define MLLM_DOTPROD and MLLM_FILL_FN before including kernels_neon_body.h"
#endif

#include <arm_neon.h>
#include <string.h>

#include "cpu/kernels.h"
#include "quant/fp16_inline.h"
#include "quant/quant.h"

#define NEON_INLINE static inline __attribute__((always_inline))

/* Adds to each int32 lane of acc a sum of byte products of a and b, each of the 16 products
 * counted once (lane assignment may differ: only the total matters). Without dotprod: 8 + 8
 * exact int16 products (at most 128 * 128 = 16384), added pairwise into the int32 lanes. */
NEON_INLINE int32x4_t dot_s8x16(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if MLLM_DOTPROD
    return vdotq_s32(acc, a, b);
#else
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_high_s8(a, b));
#endif
}

/* IEEE half -> float in one instruction (fcvt); exact, NaNs quieted with their payload. */
NEON_INLINE float nh2f(mllm_fp16 h) {
    __fp16 v;
    memcpy(&v, &h, sizeof(v));
    return (float)v;
}

/* 16 packed bytes -> low nibbles (elements 0..15) and high nibbles (elements 16..31). */
NEON_INLINE void unpack_nib(const uint8_t *qs, uint8x16_t *lo, uint8x16_t *hi) {
    uint8x16_t v = vld1q_u8(qs);
    *lo = vandq_u8(v, vdupq_n_u8(0x0f));
    *hi = vshrq_n_u8(v, 4);
}

/* q5 fifth bits: bit j of the little-endian 32-bit qh belongs to element j. Returns 0x10 in the
 * bytes of elements whose bit is set: *lo for elements 0..15, *hi for 16..31. */
NEON_INLINE void expand_qh5(const uint8_t qh[4], uint8x16_t *lo, uint8x16_t *hi) {
    static const uint8_t idx_lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
    static const uint8_t idx_hi[16] = {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
    static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint32_t h;
    memcpy(&h, qh, 4);
    uint8x16_t src = vreinterpretq_u8_u32(vdupq_n_u32(h)); /* bytes 0..3 = qh[0..3] (little endian) */
    uint8x16_t b = vld1q_u8(bit), sixteen = vdupq_n_u8(0x10);
    *lo = vandq_u8(vtstq_u8(vqtbl1q_u8(src, vld1q_u8(idx_lo)), b), sixteen);
    *hi = vandq_u8(vtstq_u8(vqtbl1q_u8(src, vld1q_u8(idx_hi)), b), sixteen);
}

/* Block b of weights of type T as two 16-byte halves (elements 0..15, 16..31): signed for the
 * symmetric q8_0, q4_0, q5_0; 0..15 / 0..31 for q4_1, q5_1 (also valid int8). Its scale d and
 * (q4_1, q5_1) its min m. */
NEON_INLINE void weight_quants(const void *w, int64_t b, int8x16_t *lo, int8x16_t *hi, const int T) {
    uint8x16_t l, h, ql, qh;
    switch (T) {
    case MLLM_TYPE_Q8_0: {
        const int8_t *qs = ((const block_q8_0 *)w)[b].qs;
        *lo = vld1q_s8(qs);
        *hi = vld1q_s8(qs + 16);
        return;
    }
    case MLLM_TYPE_Q4_0:
        unpack_nib(((const block_q4_0 *)w)[b].qs, &l, &h);
        *lo = vsubq_s8(vreinterpretq_s8_u8(l), vdupq_n_s8(8));
        *hi = vsubq_s8(vreinterpretq_s8_u8(h), vdupq_n_s8(8));
        return;
    case MLLM_TYPE_Q5_0: {
        const block_q5_0 *blk = (const block_q5_0 *)w + b;
        unpack_nib(blk->qs, &l, &h);
        expand_qh5(blk->qh, &ql, &qh);
        *lo = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(l, ql)), vdupq_n_s8(16));
        *hi = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(h, qh)), vdupq_n_s8(16));
        return;
    }
    case MLLM_TYPE_Q4_1:
        unpack_nib(((const block_q4_1 *)w)[b].qs, &l, &h);
        *lo = vreinterpretq_s8_u8(l);
        *hi = vreinterpretq_s8_u8(h);
        return;
    default: { /* q5_1 */
        const block_q5_1 *blk = (const block_q5_1 *)w + b;
        unpack_nib(blk->qs, &l, &h);
        expand_qh5(blk->qh, &ql, &qh);
        *lo = vreinterpretq_s8_u8(vorrq_u8(l, ql));
        *hi = vreinterpretq_s8_u8(vorrq_u8(h, qh));
        return;
    }
    }
}
NEON_INLINE float weight_scale(const void *w, int64_t b, const int T) { return nh2f(mllm_block_d(w, b, T)); }
NEON_INLINE float weight_min(const void *w, int64_t b, const int T) { return nh2f(mllm_block_m(w, b, T)); }

/* ---- float weights (activations f32) -------------------------------------------------------- */

/* 4 (load4) or 1 (load1) weights of type T from element i, widened to f32. */
NEON_INLINE float32x4_t load4(const void *w, int64_t i, const int T) {
    switch (T) {
    case MLLM_TYPE_F32: return vld1q_f32((const float *)w + i);
    case MLLM_TYPE_F16: return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)w + i)));
    default: return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16((const uint16_t *)w + i), 16)); /* bf16 */
    }
}
NEON_INLINE float load1(const void *w, int64_t i, const int T) {
    switch (T) {
    case MLLM_TYPE_F32: return ((const float *)w)[i];
    case MLLM_TYPE_F16: return nh2f(((const uint16_t *)w)[i]);
    default: return mllm_bf16_to_fp32_inline(((const uint16_t *)w)[i]);
    }
}

/* Four accumulators (16 lanes) per activation row: every lane sums at most k / 16 + 3 products,
 * and the fma latency is hidden even for one row. */
NEON_INLINE void dot_float_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX,
                             const int T) {
    const float *x[MLLM_DOT_MAX_NX];
    float32x4_t a0[MLLM_DOT_MAX_NX], a1[MLLM_DOT_MAX_NX], a2[MLLM_DOT_MAX_NX], a3[MLLM_DOT_MAX_NX];
    for (int j = 0; j < NX; j++) {
        x[j] = (const float *)((const char *)xv + (size_t)j * xs);
        a0[j] = a1[j] = a2[j] = a3[j] = vdupq_n_f32(0.0f);
    }
    int64_t i = 0;
    for (; i + 16 <= k; i += 16) {
        float32x4_t w0 = load4(w, i, T), w1 = load4(w, i + 4, T), w2 = load4(w, i + 8, T), w3 = load4(w, i + 12, T);
        for (int j = 0; j < NX; j++) {
            a0[j] = vfmaq_f32(a0[j], w0, vld1q_f32(x[j] + i));
            a1[j] = vfmaq_f32(a1[j], w1, vld1q_f32(x[j] + i + 4));
            a2[j] = vfmaq_f32(a2[j], w2, vld1q_f32(x[j] + i + 8));
            a3[j] = vfmaq_f32(a3[j], w3, vld1q_f32(x[j] + i + 12));
        }
    }
    for (; i + 4 <= k; i += 4) {
        float32x4_t w0 = load4(w, i, T);
        for (int j = 0; j < NX; j++) a0[j] = vfmaq_f32(a0[j], w0, vld1q_f32(x[j] + i));
    }
    for (int j = 0; j < NX; j++) {
        float s = vaddvq_f32(vaddq_f32(vaddq_f32(a0[j], a1[j]), vaddq_f32(a2[j], a3[j])));
        for (int64_t t = i; t < k; t++) s += load1(w, t, T) * x[j][t];
        out[j] = s;
    }
}

/* One block of symmetric weights against NX q8_0 rows, into acc. */
NEON_INLINE void sym_step(const void *w, int64_t b, const block_q8_0 *const *x, const float *xd, int64_t spr, float32x4_t *acc,
                          const int NX, const int T) {
    int8x16_t wl, wh;
    weight_quants(w, b, &wl, &wh, T);
    float dw = weight_scale(w, b, T);
    for (int j = 0; j < NX; j++) {
        const int8_t *q = x[j][b].qs;
        int32x4_t s = dot_s8x16(vdupq_n_s32(0), wl, vld1q_s8(q));
        s = dot_s8x16(s, wh, vld1q_s8(q + 16));
        acc[j] = vfmaq_n_f32(acc[j], vcvtq_f32_s32(s), dw * xd[j * spr + b * MLLM_XD_LANES]);
    }
}

/* Even and odd blocks go to two accumulators (hides the fma latency in decode, NX = 1). Every NX
 * does the same float operations per row, so a row's result does not depend on how many rows
 * share the call: token-by-token decode and batched prompt evaluation give identical bits. */
NEON_INLINE void dot_sym_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX,
                           const int T) {
    const block_q8_0 *x[MLLM_DOT_MAX_NX];
    float32x4_t acc[MLLM_DOT_MAX_NX], acc2[MLLM_DOT_MAX_NX];
    for (int j = 0; j < NX; j++) {
        x[j] = (const block_q8_0 *)((const char *)xv + (size_t)j * xs);
        acc[j] = acc2[j] = vdupq_n_f32(0.0f);
    }
    const int64_t nb = k / 32, spr = nb * MLLM_XD_LANES; /* xd floats per row */
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        sym_step(w, b, x, xd, spr, acc, NX, T);
        sym_step(w, b + 1, x, xd, spr, acc2, NX, T);
    }
    for (; b < nb; b++) sym_step(w, b, x, xd, spr, acc, NX, T);
    for (int j = 0; j < NX; j++) out[j] = vaddvq_f32(vaddq_f32(acc[j], acc2[j]));
}

/* Offset weights (x = d q + m) against q8_1 rows: d_w d_x sum(q qx) + m_w s_x per block. */
NEON_INLINE void dot_asym_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX,
                            const int T) {
    const block_q8_1 *x[MLLM_DOT_MAX_NX];
    float32x4_t acc[MLLM_DOT_MAX_NX];
    float msum[MLLM_DOT_MAX_NX];
    for (int j = 0; j < NX; j++) {
        x[j] = (const block_q8_1 *)((const char *)xv + (size_t)j * xs);
        acc[j] = vdupq_n_f32(0.0f);
        msum[j] = 0.0f;
    }
    const int64_t nb = k / 32, spr = MLLM_XD_ROW_Q8_1(k);
    for (int64_t b = 0; b < nb; b++) {
        int8x16_t wl, wh;
        weight_quants(w, b, &wl, &wh, T);
        float dw = weight_scale(w, b, T), mw = weight_min(w, b, T);
        for (int j = 0; j < NX; j++) {
            const int8_t *q = x[j][b].qs;
            int32x4_t s = dot_s8x16(vdupq_n_s32(0), wl, vld1q_s8(q));
            s = dot_s8x16(s, wh, vld1q_s8(q + 16));
            acc[j] = vfmaq_n_f32(acc[j], vcvtq_f32_s32(s), dw * xd[j * spr + b * MLLM_XD_LANES]);
            msum[j] += mw * nh2f(x[j][b].s);
        }
    }
    for (int j = 0; j < NX; j++) out[j] = vaddvq_f32(acc[j]) + msum[j];
}

#include "cpu/kernels_k_neon_body.h"

MLLM_DOT_ENTRY(dot_f32, dot_float_n, MLLM_TYPE_F32)
MLLM_DOT_ENTRY(dot_f16, dot_float_n, MLLM_TYPE_F16)
MLLM_DOT_ENTRY(dot_bf16, dot_float_n, MLLM_TYPE_BF16)
MLLM_DOT_ENTRY(dot_q8_0, dot_sym_n, MLLM_TYPE_Q8_0)
MLLM_DOT_ENTRY(dot_q4_0, dot_sym_n, MLLM_TYPE_Q4_0)
MLLM_DOT_ENTRY(dot_q5_0, dot_sym_n, MLLM_TYPE_Q5_0)
MLLM_DOT_ENTRY(dot_q4_1, dot_asym_n, MLLM_TYPE_Q4_1)
MLLM_DOT_ENTRY(dot_q5_1, dot_asym_n, MLLM_TYPE_Q5_1)
MLLM_DOT_ENTRY(dot_q4_K, dot_q45_k_n, MLLM_TYPE_Q4_K)
MLLM_DOT_ENTRY(dot_q5_K, dot_q45_k_n, MLLM_TYPE_Q5_K)
MLLM_DOT_ENTRY(dot_q6_K, dot_q6_k_n, MLLM_TYPE_Q6_K)

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
    dot_float_n(n, a, b, 0, NULL, &out, 1, MLLM_TYPE_F32);
    return out;
}

static float vec_dot_f16_f32(const uint16_t *a, const float *b, int64_t n) {
    float out;
    dot_float_n(n, a, b, 0, NULL, &out, 1, MLLM_TYPE_F16);
    return out;
}

static void axpy_f32(float *y, const float *x, float a, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), a));
    for (; i < n; i++) y[i] += a * x[i];
}

static void axpy_f16(float *y, const uint16_t *x, float a, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), load4(x, i, MLLM_TYPE_F16), a));
    for (; i < n; i++) y[i] += a * nh2f(x[i]);
}

/* fcvtn rounds to nearest even (the default FPCR mode) and keeps subnormal halves: bit-identical
 * to mllm_fp32_to_fp16. */
static void f32_to_f16(uint16_t *dst, const float *src, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1_u16(dst + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(src + i))));
    for (; i < n; i++) dst[i] = mllm_fp32_to_fp16(src[i]);
}

void MLLM_FILL_FN(mllm_kernels *k) {
    k->dot[MLLM_KSLOT_F32] = dot_f32;
    k->dot[MLLM_KSLOT_F16] = dot_f16;
    k->dot[MLLM_KSLOT_BF16] = dot_bf16;
    k->dot[MLLM_KSLOT_Q8_0] = dot_q8_0;
    k->dot[MLLM_KSLOT_Q4_0] = dot_q4_0;
    k->dot[MLLM_KSLOT_Q5_0] = dot_q5_0;
    k->dot[MLLM_KSLOT_Q4_1] = dot_q4_1;
    k->dot[MLLM_KSLOT_Q5_1] = dot_q5_1;
    k->dot[MLLM_KSLOT_Q4_K] = dot_q4_K;
    k->dot[MLLM_KSLOT_Q5_K] = dot_q5_K;
    k->dot[MLLM_KSLOT_Q6_K] = dot_q6_K;
    k->quantize_q8_0 = quantize_q8_0;
    k->quantize_q8_1 = quantize_q8_1;
    k->vec_dot_f32 = vec_dot_f32;
    k->vec_dot_f16_f32 = vec_dot_f16_f32;
    k->axpy_f32 = axpy_f32;
    k->axpy_f16 = axpy_f16;
    k->f32_to_f16 = f32_to_f16;
}
