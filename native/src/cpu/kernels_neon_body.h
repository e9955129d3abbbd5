/* Quantized dot kernels for aarch64, written once and instantiated by kernels_neon.c (baseline
 * Armv8-A: widening multiplies vmull_s8 + pairwise accumulate vpadalq_s16) and
 * kernels_neon_dotprod.c (Armv8.2-A dotprod: vdotq_s32). The includer defines
 *   static inline int32x4_t dot_s8x16(int32x4_t acc, int8x16_t a, int8x16_t b)
 * which adds to each int32 lane of acc a sum of products of a and b, every one of the 16 byte
 * products counted exactly once (lane assignment may differ: only the total matters).
 *
 * Each dot kernel loads a weight block once and multiplies it with up to MLLM_DOT_MAX_NX
 * activation rows. Per block the integer sum is exact (|sum| <= 32 * 128 * 127 < 2^24, so its
 * float conversion is exact too); it is scaled by d_w * d_x in float and accumulated in four
 * float lanes, reduced at the end. */
#ifndef MLLM_KERNELS_NEON_BODY_H
#define MLLM_KERNELS_NEON_BODY_H

#include <arm_neon.h>
#include <string.h>

#include "cpu/kernels.h"
#include "quant/quant.h"

#define NEON_INLINE static inline __attribute__((always_inline))

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

/* Weight block b as two signed 16-byte halves (elements 0..15, 16..31). */
NEON_INLINE void wq_q8_0(const void *w, int64_t b, int8x16_t *lo, int8x16_t *hi) {
    const int8_t *qs = ((const block_q8_0 *)w)[b].qs;
    *lo = vld1q_s8(qs);
    *hi = vld1q_s8(qs + 16);
}
NEON_INLINE void wq_q4_0(const void *w, int64_t b, int8x16_t *lo, int8x16_t *hi) {
    uint8x16_t l, h;
    unpack_nib(((const block_q4_0 *)w)[b].qs, &l, &h);
    int8x16_t eight = vdupq_n_s8(8);
    *lo = vsubq_s8(vreinterpretq_s8_u8(l), eight);
    *hi = vsubq_s8(vreinterpretq_s8_u8(h), eight);
}
NEON_INLINE void wq_q5_0(const void *w, int64_t b, int8x16_t *lo, int8x16_t *hi) {
    const block_q5_0 *blk = (const block_q5_0 *)w + b;
    uint8x16_t l, h, ql, qh;
    unpack_nib(blk->qs, &l, &h);
    expand_qh5(blk->qh, &ql, &qh);
    int8x16_t sixteen = vdupq_n_s8(16);
    *lo = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(l, ql)), sixteen);
    *hi = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(h, qh)), sixteen);
}
/* Offset types: unsigned quants 0..15 / 0..31, which are also valid int8. */
NEON_INLINE void wq_q4_1(const void *w, int64_t b, int8x16_t *lo, int8x16_t *hi) {
    uint8x16_t l, h;
    unpack_nib(((const block_q4_1 *)w)[b].qs, &l, &h);
    *lo = vreinterpretq_s8_u8(l);
    *hi = vreinterpretq_s8_u8(h);
}
NEON_INLINE void wq_q5_1(const void *w, int64_t b, int8x16_t *lo, int8x16_t *hi) {
    const block_q5_1 *blk = (const block_q5_1 *)w + b;
    uint8x16_t l, h, ql, qh;
    unpack_nib(blk->qs, &l, &h);
    expand_qh5(blk->qh, &ql, &qh);
    *lo = vreinterpretq_s8_u8(vorrq_u8(l, ql));
    *hi = vreinterpretq_s8_u8(vorrq_u8(h, qh));
}
NEON_INLINE float wd_q8_0(const void *w, int64_t b) { return nh2f(((const block_q8_0 *)w)[b].d); }
NEON_INLINE float wd_q4_0(const void *w, int64_t b) { return nh2f(((const block_q4_0 *)w)[b].d); }
NEON_INLINE float wd_q5_0(const void *w, int64_t b) { return nh2f(((const block_q5_0 *)w)[b].d); }
NEON_INLINE float wd_q4_1(const void *w, int64_t b) { return nh2f(((const block_q4_1 *)w)[b].d); }
NEON_INLINE float wd_q5_1(const void *w, int64_t b) { return nh2f(((const block_q5_1 *)w)[b].d); }
NEON_INLINE float wm_q4_1(const void *w, int64_t b) { return nh2f(((const block_q4_1 *)w)[b].m); }
NEON_INLINE float wm_q5_1(const void *w, int64_t b) { return nh2f(((const block_q5_1 *)w)[b].m); }

/* One block of symmetric weights against NX q8_0 rows, into ACC. */
#define NEON_SYM_STEP(WQ, WD, B, ACC)                                                           \
    do {                                                                                        \
        int8x16_t wl, wh;                                                                       \
        WQ(w, B, &wl, &wh);                                                                     \
        float dw = WD(w, B);                                                                    \
        for (int j = 0; j < NX; j++) {                                                          \
            const int8_t *q = x[j][B].qs;                                                       \
            int32x4_t s = dot_s8x16(vdupq_n_s32(0), wl, vld1q_s8(q));                           \
            s = dot_s8x16(s, wh, vld1q_s8(q + 16));                                             \
            ACC[j] = vfmaq_n_f32(ACC[j], vcvtq_f32_s32(s), dw * xd[j * spr + (B) * MLLM_XD_LANES]); \
        }                                                                                       \
    } while (0)

/* Even and odd blocks go to two accumulators (hides the fma latency in decode, NX = 1). Every NX
 * does the same float operations per row, so a row's result does not depend on how many rows
 * share the call: token-by-token decode and batched prompt evaluation give identical bits. */
#define NEON_SYM_BODY(WQ, WD)                                                                   \
    const block_q8_0 *x[MLLM_DOT_MAX_NX];                                                       \
    float32x4_t acc[MLLM_DOT_MAX_NX], acc2[MLLM_DOT_MAX_NX];                                   \
    for (int j = 0; j < NX; j++) {                                                              \
        x[j] = (const block_q8_0 *)((const char *)xv + (size_t)j * xs);                         \
        acc[j] = acc2[j] = vdupq_n_f32(0.0f);                                                   \
    }                                                                                           \
    const int64_t nb = k / 32, spr = nb * MLLM_XD_LANES; /* xd floats per row */                \
    int64_t b = 0;                                                                              \
    for (; b + 2 <= nb; b += 2) {                                                               \
        NEON_SYM_STEP(WQ, WD, b, acc);                                                          \
        NEON_SYM_STEP(WQ, WD, b + 1, acc2);                                                     \
    }                                                                                           \
    for (; b < nb; b++) NEON_SYM_STEP(WQ, WD, b, acc);                                          \
    for (int j = 0; j < NX; j++) out[j] = vaddvq_f32(vaddq_f32(acc[j], acc2[j]));

/* Offset weights (x = d q + m) against q8_1 rows: d_w d_x sum(q qx) + m_w s_x per block. */
#define NEON_ASYM_BODY(WQ, WD, WM)                                                              \
    const block_q8_1 *x[MLLM_DOT_MAX_NX];                                                       \
    float32x4_t acc[MLLM_DOT_MAX_NX];                                                           \
    float msum[MLLM_DOT_MAX_NX];                                                                \
    for (int j = 0; j < NX; j++) {                                                              \
        x[j] = (const block_q8_1 *)((const char *)xv + (size_t)j * xs);                         \
        acc[j] = vdupq_n_f32(0.0f);                                                             \
        msum[j] = 0.0f;                                                                         \
    }                                                                                           \
    const int64_t nb = k / 32, spr = MLLM_XD_ROW_Q8_1(k);                                       \
    for (int64_t b = 0; b < nb; b++) {                                                          \
        int8x16_t wl, wh;                                                                       \
        WQ(w, b, &wl, &wh);                                                                     \
        float dw = WD(w, b), mw = WM(w, b);                                                     \
        for (int j = 0; j < NX; j++) {                                                          \
            const int8_t *q = x[j][b].qs;                                                       \
            int32x4_t s = dot_s8x16(vdupq_n_s32(0), wl, vld1q_s8(q));                           \
            s = dot_s8x16(s, wh, vld1q_s8(q + 16));                                             \
            acc[j] = vfmaq_n_f32(acc[j], vcvtq_f32_s32(s), dw * xd[j * spr + b * MLLM_XD_LANES]); \
            msum[j] += mw * nh2f(x[j][b].s);                                                    \
        }                                                                                       \
    }                                                                                           \
    for (int j = 0; j < NX; j++) out[j] = vaddvq_f32(acc[j]) + msum[j];

NEON_INLINE void nq_q8_0_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX) {
    NEON_SYM_BODY(wq_q8_0, wd_q8_0)
}
NEON_INLINE void nq_q4_0_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX) {
    NEON_SYM_BODY(wq_q4_0, wd_q4_0)
}
NEON_INLINE void nq_q5_0_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX) {
    NEON_SYM_BODY(wq_q5_0, wd_q5_0)
}
NEON_INLINE void nq_q4_1_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX) {
    NEON_ASYM_BODY(wq_q4_1, wd_q4_1, wm_q4_1)
}
NEON_INLINE void nq_q5_1_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX) {
    NEON_ASYM_BODY(wq_q5_1, wd_q5_1, wm_q5_1)
}

/* One entry point per type, dispatching on nx to bodies specialised at compile time. */
MLLM_DOT_ENTRY(nq_q8_0)
MLLM_DOT_ENTRY(nq_q4_0)
MLLM_DOT_ENTRY(nq_q5_0)
MLLM_DOT_ENTRY(nq_q4_1)
MLLM_DOT_ENTRY(nq_q5_1)

#include "cpu/kernels_k_neon_body.h"

/* Installs the quantized dots above (and the K-quant ones) into a table. */
static void neon_fill_quant_dots(mllm_kernels *k) {
    k->dot[MLLM_KSLOT_Q8_0] = nq_q8_0;
    k->dot[MLLM_KSLOT_Q4_0] = nq_q4_0;
    k->dot[MLLM_KSLOT_Q5_0] = nq_q5_0;
    k->dot[MLLM_KSLOT_Q4_1] = nq_q4_1;
    k->dot[MLLM_KSLOT_Q5_1] = nq_q5_1;
    k->dot[MLLM_KSLOT_Q4_K] = nk_q4_K;
    k->dot[MLLM_KSLOT_Q5_K] = nk_q5_K;
    k->dot[MLLM_KSLOT_Q6_K] = nk_q6_K;
}

#endif
