/* Per-session KV cache: for each applied layer, n_ctx rows of K and of V (n_head_kv*head_dim
 * values each), in f16 or f32. Cache row p holds the token at position p (RoPE already applied
 * to K). The storage is memory of the model's device (graph/backend.h): host memory the CPU ops
 * read directly, or GPU memory that only the device's kernels touch and the functions below copy
 * through the device. */
#ifndef MLLM_KV_CACHE_H
#define MLLM_KV_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "graph/backend.h"
#include "mobilellm.h"

#define MLLM_KV_MAX_ROW 8192 /* n_head_kv * head_dim limit (MobileLLM: 320..384) */

typedef struct mllm_kv_cache {
    int32_t type;      /* mllm_kv_type */
    int32_t n_layer;
    int32_t n_ctx;
    int32_t row;       /* values per row: n_head_kv * head_dim */
    int32_t head_dim;
    size_t row_bytes;
    mllm_device *dev;
    mllm_buffer *kbuf, *vbuf; /* [n_layer][n_ctx][row] each, owned */
    uint8_t *k, *v;    /* their host addresses; NULL when the cache lives in device memory */
} mllm_kv_cache;

mllm_status mllm_kv_cache_create(mllm_device *dev, int32_t type, int32_t n_layer, int32_t n_ctx, int32_t n_head_kv,
                                 int32_t head_dim, mllm_kv_cache **out);
void mllm_kv_cache_free(mllm_kv_cache *kv);

/* Host address of a row (only for caches in host memory: kv->k, kv->v non-NULL). */
static inline void *mllm_kv_k_row(const mllm_kv_cache *kv, int32_t layer, int32_t pos) {
    return kv->k + ((size_t)layer * (size_t)kv->n_ctx + (size_t)pos) * kv->row_bytes;
}
static inline void *mllm_kv_v_row(const mllm_kv_cache *kv, int32_t layer, int32_t pos) {
    return kv->v + ((size_t)layer * (size_t)kv->n_ctx + (size_t)pos) * kv->row_bytes;
}
/* Byte offset of a row in kbuf / vbuf. */
static inline size_t mllm_kv_offset(const mllm_kv_cache *kv, int32_t layer, int32_t pos) {
    return ((size_t)layer * (size_t)kv->n_ctx + (size_t)pos) * kv->row_bytes;
}

/* Copies rows [pos0, pos0 + n) of one layer's K (v = 0) or V (v = 1) out of / into the cache
 * (n * row_bytes bytes at host). */
mllm_status mllm_kv_cache_read(const mllm_kv_cache *kv, int v, int32_t layer, int32_t pos0, int32_t n, void *host);
mllm_status mllm_kv_cache_write(mllm_kv_cache *kv, int v, int32_t layer, int32_t pos0, int32_t n, const void *host);
/* Copies rows [0, n) of every layer from src into dst (same model, type and row; n <= both n_ctx). */
mllm_status mllm_kv_cache_copy_prefix(mllm_kv_cache *dst, const mllm_kv_cache *src, int32_t n);

/* Context shift: moves rows [src, n_past) to `dst` (< src) in every layer and rotates the moved K
 * rows by (dst - src) positions, so row p again holds a key roped at position p. inv_freq has
 * head_dim/2 entries theta^(-2i/hd). */
mllm_status mllm_kv_cache_shift(mllm_kv_cache *kv, int32_t dst, int32_t src, int32_t n_past, const double *inv_freq);

#endif
