/* Per-session KV cache: for each applied layer, rows of K and of V (n_head_kv*head_dim values each)
 * in f32, f16 or q8_0 (blocks of 32, ggml's layout), RoPE already applied to K where the layer has
 * it. The storage is memory of the model's device (graph/backend.h): host memory the CPU ops read
 * directly, or GPU memory that only the device's kernels touch and the functions below copy through
 * the device.
 *
 * A layer with full attention holds n_ctx rows: row p holds position p. A sliding-window layer
 * whose window is shorter than the context holds a ring of `rows` positions instead (window +
 * n_batch - 1: what one chunk of evaluation can read and write before its earliest query is done),
 * so its memory does not grow with the context: position p lives in row p % rows, written twice (rows
 * r and r + rows), which keeps the keys of any run of at most `rows` consecutive positions in
 * consecutive rows, as the attention kernels read them. Every sequence has a cache of its own, so a
 * ring holds one sequence's positions however many sequences share a run. */
#ifndef MLLM_KV_CACHE_H
#define MLLM_KV_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "graph/backend.h"
#include "graph/graph.h"
#include "mobilellm.h"

#define MLLM_KV_MAX_ROW 8192 /* n_head_kv * head_dim limit (MobileLLM: 256..384) */

typedef struct mllm_kv_layer {
    int32_t rows;   /* positions held: n_ctx, or the ring's size */
    int32_t ring;   /* 1: a ring of `rows` positions, each stored twice */
    int32_t window; /* the layer's sliding window, 0 for full attention */
    int32_t rope;   /* 1: keys are rotated (and re-rotated by a context shift) */
    size_t offset;  /* bytes from k (and from v) to the layer's row 0 */
} mllm_kv_layer;

typedef struct mllm_kv_cache {
    int32_t type;      /* mllm_kv_type */
    int32_t n_layer;
    int32_t n_ctx;
    int32_t row;       /* values per row: n_head_kv * head_dim */
    int32_t head_dim;
    size_t row_bytes;
    size_t bytes;      /* of k, and of v */
    mllm_kv_layer *layers; /* n_layer, owned */
    /* Rings hold positions from ring_lo on (raised by context shifts and truncations), and only the
     * last `rows` of those written so far: ring_hi is one past the highest position written. */
    int32_t ring_lo, ring_hi;
    mllm_device *dev;
    mllm_buffer *kbuf, *vbuf; /* `bytes` each, owned */
    uint8_t *k, *v;    /* their host addresses; NULL when the cache lives in device memory */
} mllm_kv_cache;

/* Bytes of one row of `row` values in a KV type (-1: unknown type, or q8_0 and row not a multiple of 32). */
int64_t mllm_kv_row_bytes(int32_t type, int32_t row);
/* Positions a layer with this window holds: n_ctx, or window + n_batch - 1 when that is smaller. */
int32_t mllm_kv_layer_rows(int32_t window, int32_t n_ctx, int32_t n_batch);

/* attn: the n_layer applied layers (window and rope of each). */
mllm_status mllm_kv_cache_create(mllm_device *dev, int32_t type, int32_t n_layer, int32_t n_ctx, int32_t n_batch,
                                 int32_t n_head_kv, int32_t head_dim, const mllm_attn_layer *attn, mllm_kv_cache **out);
void mllm_kv_cache_free(mllm_kv_cache *kv);

/* Row index of position pos in layer l (its first copy in a ring). */
static inline int32_t mllm_kv_row_of(const mllm_kv_cache *kv, int32_t l, int32_t pos) {
    return kv->layers[l].ring ? pos % kv->layers[l].rows : pos;
}
/* Copies of every position a layer stores: 2 in a ring (rows r and r + rows), else 1. */
static inline int32_t mllm_kv_copies(const mllm_kv_cache *kv, int32_t l) { return kv->layers[l].ring ? 2 : 1; }

/* Byte offset of row r of layer l in kbuf / vbuf. */
static inline size_t mllm_kv_offset(const mllm_kv_cache *kv, int32_t l, int32_t r) {
    return kv->layers[l].offset + (size_t)r * kv->row_bytes;
}
/* Host addresses (only for caches in host memory: kv->k, kv->v non-NULL). */
static inline void *mllm_kv_k_at(const mllm_kv_cache *kv, int32_t l, int32_t r) { return kv->k + mllm_kv_offset(kv, l, r); }
static inline void *mllm_kv_v_at(const mllm_kv_cache *kv, int32_t l, int32_t r) { return kv->v + mllm_kv_offset(kv, l, r); }
/* The K / V row of position pos in layer l. */
static inline void *mllm_kv_k_row(const mllm_kv_cache *kv, int32_t l, int32_t pos) {
    return mllm_kv_k_at(kv, l, mllm_kv_row_of(kv, l, pos));
}
static inline void *mllm_kv_v_row(const mllm_kv_cache *kv, int32_t l, int32_t pos) {
    return mllm_kv_v_at(kv, l, mllm_kv_row_of(kv, l, pos));
}

/* Whether any layer is a ring: then one run may write at most n_batch (the session's) positions of
 * the sequence, or it would overwrite keys its own earliest query still reads. */
static inline int mllm_kv_cache_has_ring(const mllm_kv_cache *kv) {
    for (int32_t l = 0; l < kv->n_layer; l++)
        if (kv->layers[l].ring) return 1;
    return 0;
}

/* Whether every ring has room for positions [0, n) without wrapping (true without rings). */
int mllm_kv_cache_rings_fit(const mllm_kv_cache *kv, int32_t n);
/* Whether positions [0, n) are all held, each in row p of every layer (and of its ring copy): true
 * for caches without rings, and for rings that have not wrapped or been shifted. What the state
 * copies below need. */
int mllm_kv_cache_holds_prefix(const mllm_kv_cache *kv, int32_t n);

/* Copies positions [0, n) of one layer's K (v = 0) or V (v = 1) out of / into the cache (n * row_bytes
 * bytes at host). Needs mllm_kv_cache_holds_prefix(kv, n) for reading; writing also fills a ring's
 * second copy and makes the rings hold exactly [0, n) once every layer is written. */
mllm_status mllm_kv_cache_read(const mllm_kv_cache *kv, int v, int32_t layer, int32_t n, void *host);
mllm_status mllm_kv_cache_write(mllm_kv_cache *kv, int v, int32_t layer, int32_t n, const void *host);
/* Copies positions [0, n) of every layer from src into dst (same model, type, row and rings; n <= both
 * n_ctx). MLLM_ERR_UNSUPPORTED when a ring of src no longer holds them all. */
mllm_status mllm_kv_cache_copy_prefix(mllm_kv_cache *dst, const mllm_kv_cache *src, int32_t n);

/* The first position the query at pos attends to in layer l (a window's start, and in a ring no
 * earlier than ring_lo); its keys are those of positions first..pos, in consecutive rows from
 * mllm_kv_row_of(first). */
static inline int32_t mllm_kv_first_key(const mllm_kv_cache *kv, int32_t l, int32_t pos) {
    const mllm_kv_layer *L = &kv->layers[l];
    int32_t first = L->window ? pos - L->window + 1 : 0;
    if (L->ring && first < kv->ring_lo) first = kv->ring_lo;
    return first < 0 ? 0 : first;
}

/* Records that positions up to n_past - 1 have been written. */
static inline void mllm_kv_cache_advance(mllm_kv_cache *kv, int32_t n_past) {
    if (n_past > kv->ring_hi) kv->ring_hi = n_past;
}

/* How many of the first n_keep positions the cache can keep for further evaluation: n_keep, or 0
 * when a ring no longer holds keys that the next positions' windows need (the sequence must then be
 * evaluated again from its start). Updates the rings' bookkeeping for the result. */
int32_t mllm_kv_cache_keep(mllm_kv_cache *kv, int32_t n_keep);

/* Context shift: positions [src, n_past) move to dst (< src), [dst, src) are dropped. Moved keys of
 * RoPE layers are rotated by (dst - src) positions, so a key again carries its (new) position.
 * inv_freq has head_dim/2 entries. Rings keep what they hold; positions they no longer hold stay
 * absent (ring_lo). A cache in device memory goes through a host copy. MLLM_ERR_OUT_OF_MEMORY if
 * the scratch cannot be allocated. */
mllm_status mllm_kv_cache_shift(mllm_kv_cache *kv, int32_t dst, int32_t src, int32_t n_past, const double *inv_freq);

#endif
