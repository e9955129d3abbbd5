/* Matrix multiplication of a weight matrix W [n_rows x k] (any supported type, row-major, rows of
 * mllm_row_bytes(wt, k) bytes) with m activation rows X [m x k] (f32): Y[m x n_rows] = X * W^T.
 *
 * Two phases so the activation conversion happens once per matmul, not once per thread:
 *   1. every thread calls mllm_matmul_prepare(.., ith, nth) (converts its share of X rows into
 *      the weight type's vec_dot_type in `wdata`),
 *   2. barrier,
 *   3. every thread calls mllm_matmul_compute on its own range of weight rows.
 * Kernels are chosen at run time from mllm_cpu_current(). Activation types: q8_0 for q8_0/q4_0/q5_0/
 * q6_k weights, q8_1 for q4_1/q5_1/q4_k/q5_k, f32 (a plain copy) for f32/f16/bf16 weights, which are
 * widened to f32 inside the kernels. `wdata` always holds the reference bytes (mllm_quantize_row_ref) whatever the
 * level, so a level change between the two phases is harmless; after them come kernel-private
 * float scales, so `wdata` must be at least 4-byte (ideally 64-byte) aligned. One prepare serves
 * any number of computes whose weights share the activation type, k and m. Unsupported (wt, k)
 * pairs (see mllm_matmul_supported) make these functions do nothing. */
#ifndef MLLM_MATMUL_H
#define MLLM_MATMUL_H

#include <stddef.h>
#include <stdint.h>

/* 1 if a matmul exists for weight type wt with rows of k elements (k a multiple of the block: 256
 * for the K-quants). The engine checks this when loading a model; the functions below assume it
 * holds. */
int mllm_matmul_supported(int32_t wt, int64_t k);

/* Bytes of scratch `wdata` needed for m rows of k activations against weight type wt (0 if
 * unsupported). */
size_t mllm_matmul_wsize(int32_t wt, int64_t k, int64_t m);

void mllm_matmul_prepare(int32_t wt, const float *x, int64_t ldx /* floats between X rows */,
                         int64_t k, int64_t m, void *wdata, int ith, int nth);

/* Converts activation rows [i0, i1) of an m-row conversion into wdata; x points at row i0. */
void mllm_matmul_prepare_rows(int32_t wt, const float *x, int64_t ldx, int64_t k, int64_t m, void *wdata,
                              int64_t i0, int64_t i1);

/* Computes Y[i][r] for all i < m and r in [row_begin, row_end). ldy = floats between Y rows. */
void mllm_matmul_compute(int32_t wt, const void *w, int64_t k, const void *wdata, int64_t m,
                         float *y, int64_t ldy, int64_t row_begin, int64_t row_end);

/* mllm_matmul_compute for weights packed into panels (cpu/panel.h); w points at the tensor's first
 * panel. Ranges that start and end on panel boundaries take the panel kernels. */
void mllm_matmul_compute_panel(int32_t wt, const void *w, int64_t k, const void *wdata, int64_t m, float *y,
                               int64_t ldy, int64_t row_begin, int64_t row_end);

/* Same result as the two phases above, single-threaded, using only scalar reference kernels.
 * The oracle for tests. */
void mllm_matmul_ref(int32_t wt, const void *w, int64_t n_rows, int64_t k, const float *x,
                     int64_t ldx, int64_t m, float *y, int64_t ldy);

/* Vectorised f32 helpers used by ops (dispatch like the matmul). */
float mllm_vec_dot_f32(const float *a, const float *b, int64_t n);
float mllm_vec_dot_f16_f32(const uint16_t *a_f16, const float *b, int64_t n);
/* y += a * x, with x in f16 (for attention over an f16 V cache) */
void mllm_vec_axpy_f16(float *y, const uint16_t *x_f16, float a, int64_t n);
void mllm_vec_axpy_f32(float *y, const float *x, float a, int64_t n);
void mllm_vec_f32_to_f16(uint16_t *dst, const float *src, int64_t n);
/* g = silu(g) * u, n elements */
void mllm_vec_swiglu(float *g, const float *u, int64_t n);
/* One attention head over an f16 KV cache (see mllm_kernels.attn_f16 in kernels.h). */
void mllm_attn_head_f16(const float *q, const uint16_t *k, const uint16_t *v, size_t stride, int32_t n, int32_t hd,
                        float scale, float *s, float *out);

/* nq query heads (hd floats apart in q and out) over one KV head, where the level has a kernel for
 * it (kernels.h attn_f16_gqa); 0 when it did nothing (the caller then goes head by head). */
int mllm_attn_heads_f16(const float *q, int nq, const uint16_t *k, const uint16_t *v, size_t stride, int32_t n, int32_t hd,
                        float scale, float *out);

#endif
