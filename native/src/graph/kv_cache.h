/* Per-session KV cache: for each applied layer, n_ctx rows of K and of V (n_head_kv*head_dim
 * values each), in f16 or f32. Cache row p holds the token at position p (RoPE already applied
 * to K). */
#ifndef MLLM_KV_CACHE_H
#define MLLM_KV_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "mobilellm.h"

#define MLLM_KV_MAX_ROW 8192 /* n_head_kv * head_dim limit (MobileLLM: 320..384) */

typedef struct mllm_kv_cache {
    int32_t type;      /* mllm_kv_type */
    int32_t n_layer;
    int32_t n_ctx;
    int32_t row;       /* values per row: n_head_kv * head_dim */
    int32_t head_dim;
    size_t row_bytes;
    uint8_t *k, *v;    /* [n_layer][n_ctx][row], owned */
} mllm_kv_cache;

mllm_status mllm_kv_cache_create(int32_t type, int32_t n_layer, int32_t n_ctx, int32_t n_head_kv, int32_t head_dim,
                                 mllm_kv_cache **out);
void mllm_kv_cache_free(mllm_kv_cache *kv);

static inline void *mllm_kv_k_row(const mllm_kv_cache *kv, int32_t layer, int32_t pos) {
    return kv->k + ((size_t)layer * (size_t)kv->n_ctx + (size_t)pos) * kv->row_bytes;
}
static inline void *mllm_kv_v_row(const mllm_kv_cache *kv, int32_t layer, int32_t pos) {
    return kv->v + ((size_t)layer * (size_t)kv->n_ctx + (size_t)pos) * kv->row_bytes;
}

/* Context shift: moves rows [src, n_past) to `dst` (< src) in every layer and rotates the moved K
 * rows by (dst - src) positions, so row p again holds a key roped at position p. inv_freq has
 * head_dim/2 entries theta^(-2i/hd). */
void mllm_kv_cache_shift(mllm_kv_cache *kv, int32_t dst, int32_t src, int32_t n_past, const double *inv_freq);

#endif
