/* The step buffer: what changes from one run of a recorded graph to the next, in 32-bit words;
 * read by the kernels (common.glsl) and written by the host (backend_vulkan.c). First a table of
 * STEP_MAX_SEQS sequences, STEP_SEQ_WORDS each: the device addresses of its K and V cache (two
 * words each, low first); the bytes a full-attention layer takes in them (n_ctx rows) and a
 * sliding-window layer (its ring's rows, twice, or n_ctx rows when it needs no ring); the ring's
 * size (0: none) and ring_lo, the first position the rings hold (graph/kv_cache.h). Then from
 * STEP_ROWS, STEP_ROW_WORDS per row of the run: token id, position, sequence index, and for
 * i < n_out the row whose output is output row i (gathering graphs). */
#ifndef MLLM_VK_STEP_H
#define MLLM_VK_STEP_H

#define STEP_MAX_SEQS 256
#define STEP_SEQ_WORDS 8
#define STEP_ROWS (STEP_MAX_SEQS * STEP_SEQ_WORDS)
#define STEP_ROW_WORDS 4

#endif
