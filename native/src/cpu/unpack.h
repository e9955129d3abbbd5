/* Weights unpacked for the prompt tile kernels (kernels.h: gemm4u_*), for the block types whose
 * quants need unpacking (q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k). Per pair of
 * 32-element blocks: 64 bytes of unsigned quants in element order, 16 floats of lane scales (lane
 * l covers elements 4l..4l+3 of the pair, the lanes of vpdpbusd), and for types with a min term
 * 16 floats of lane mins: value = scale * (q - off) + min. Unpacking costs a pass over a row
 * chunk; the tile kernel then runs over it once per 4 activation rows. */
#ifndef MLLM_UNPACK_H
#define MLLM_UNPACK_H

#include <stddef.h>
#include <stdint.h>

/* 1 if wt can be unpacked; *off is the quant offset, *has_min whether lane mins follow: 1 = the
 * min multiplies the exact activation sums (the K-quants' reference), 2 = the q8_1 blocks' fp16
 * s (q4_1 / q5_1, as ggml defines their dot product). */
int mllm_unpack_info(int32_t wt, int *off, int *has_min);
/* Bytes of one unpacked row of k elements (k a multiple of 64). */
size_t mllm_unpack_row_bytes(int32_t wt, int64_t k);
/* n_rows rows of wt (w_row_bytes apart) into dst, mllm_unpack_row_bytes(wt, k) bytes apart. */
void mllm_unpack_rows(int32_t wt, const void *w, size_t w_row_bytes, int64_t n_rows, int64_t k, uint8_t *dst);

#endif
