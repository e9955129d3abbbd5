/* Matrix multiplication of a weight matrix W [n_rows x k] (any supported type, row-major, rows of
 * mllm_row_bytes(wt, k) bytes) with m activation rows X [m x k] (f32): Y[m x n_rows] = X * W^T.
 *
 * Two phases so the activation conversion happens once per matmul, not once per thread:
 *   1. every thread calls mllm_matmul_prepare(.., ith, nth) (converts its share of X rows into
 *      the weight type's vec_dot_type in `wdata`),
 *   2. barrier,
 *   3. every thread calls mllm_matmul_compute on its own range of weight rows.
 * Kernels come from the table passed in (mllm_kernels_for a level, kernels.h). Activation types: q8_0 for q8_0/q4_0/q5_0/
 * q6_k weights, q8_1 for q4_1/q5_1/q4_k/q5_k, f32 (a plain copy) for f32/f16/bf16 weights, which are
 * widened to f32 inside the kernels. `wdata` holds the reference bytes (mllm_quantize_row_ref) whatever the
 * level; after them come kernel-private float scales and layouts (prepare builds those its table's
 * kernels read, so prepare and compute take the same table), so `wdata` must be at least 4-byte
 * (ideally 64-byte) aligned. One prepare serves
 * any number of computes whose weights share the activation type, k and m. Unsupported (wt, k)
 * pairs (see mllm_matmul_supported) make these functions do nothing. */
#ifndef MLLM_MATMUL_H
#define MLLM_MATMUL_H

#include <stddef.h>
#include <stdint.h>

#include "cpu/kernels.h"

/* 1 if a matmul exists for weight type wt with rows of k elements (k a multiple of the block: 256
 * for the K-quants). The engine checks this when loading a model; the functions below assume it
 * holds. */
int mllm_matmul_supported(int32_t wt, int64_t k);

/* Bytes of scratch `wdata` needed for m rows of k activations against weight type wt (0 if
 * unsupported). */
size_t mllm_matmul_wsize(int32_t wt, int64_t k, int64_t m);

void mllm_matmul_prepare(const mllm_kernels *K, int32_t wt, const float *x, int64_t ldx /* floats between X rows */,
                         int64_t k, int64_t m, void *wdata, int ith, int nth);

/* Converts activation rows [i0, i1) of an m-row conversion into wdata; x points at row i0. */
void mllm_matmul_prepare_rows(const mllm_kernels *K, int32_t wt, const float *x, int64_t ldx, int64_t k, int64_t m, void *wdata,
                              int64_t i0, int64_t i1);

/* Computes Y[i][r] for all i < m and r in [row_begin, row_end). ldy = floats between Y rows. */
void mllm_matmul_compute(const mllm_kernels *K, int32_t wt, const void *w, int64_t k, const void *wdata, int64_t m,
                         float *y, int64_t ldy, int64_t row_begin, int64_t row_end);

/* mllm_matmul_compute for weights packed into panels (cpu/panel.h); w points at the tensor's first
 * panel. Ranges that start and end on panel boundaries take the panel kernels. */
void mllm_matmul_compute_panel(const mllm_kernels *K, int32_t wt, const void *w, int64_t k, const void *wdata, int64_t m,
                               float *y, int64_t ldy, int64_t row_begin, int64_t row_end);

/* Same result as the two phases above, single-threaded, using only scalar reference kernels.
 * The oracle for tests. */
void mllm_matmul_ref(int32_t wt, const void *w, int64_t n_rows, int64_t k, const float *x,
                     int64_t ldx, int64_t m, float *y, int64_t ldy);

#endif
