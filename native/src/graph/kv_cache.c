/* KV cache storage, the rings' bookkeeping and the context-shift re-rotation. */
#include "graph/kv_cache.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "quant/quant.h"

int64_t mllm_kv_row_bytes(int32_t type, int32_t row) {
    switch (type) {
    case MLLM_KV_F32: return (int64_t)row * 4;
    case MLLM_KV_F16: return (int64_t)row * 2;
    case MLLM_KV_Q8_0: return row % QK8_0 ? -1 : (int64_t)row / QK8_0 * (int64_t)sizeof(block_q8_0);
    default: return -1;
    }
}

int32_t mllm_kv_layer_rows(int32_t window, int32_t n_ctx, int32_t n_batch) {
    int64_t ring = (int64_t)window + n_batch - 1;
    return window > 0 && ring < n_ctx ? (int32_t)ring : n_ctx;
}

mllm_status mllm_kv_cache_create(int32_t type, int32_t n_layer, int32_t n_ctx, int32_t n_batch, int32_t n_head_kv,
                                 int32_t head_dim, const mllm_attn_layer *attn, mllm_kv_cache **out) {
    *out = NULL;
    if (type != MLLM_KV_F16 && type != MLLM_KV_F32 && type != MLLM_KV_Q8_0) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "unknown kv_type %d", type);
    }
    if ((int64_t)n_head_kv * head_dim > MLLM_KV_MAX_ROW) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "KV row of %d x %d values exceeds the supported %d", n_head_kv, head_dim,
                         MLLM_KV_MAX_ROW);
    }
    const int64_t row_bytes = mllm_kv_row_bytes(type, n_head_kv * head_dim);
    if (row_bytes < 0 || (type == MLLM_KV_Q8_0 && head_dim % QK8_0 != 0)) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "a q8_0 KV cache needs a head dimension that is a multiple of 32 (this model's is %d)",
                         head_dim);
    }
    mllm_kv_cache *kv = calloc(1, sizeof *kv);
    if (!kv || !(kv->layers = calloc((size_t)n_layer, sizeof *kv->layers))) {
        free(kv);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for the KV cache");
    }
    kv->type = type;
    kv->n_layer = n_layer;
    kv->n_ctx = n_ctx;
    kv->row = n_head_kv * head_dim;
    kv->head_dim = head_dim;
    kv->row_bytes = (size_t)row_bytes;
    for (int32_t l = 0; l < n_layer; l++) {
        mllm_kv_layer *L = &kv->layers[l];
        L->window = attn[l].window;
        L->rope = attn[l].rope;
        L->rows = mllm_kv_layer_rows(L->window, n_ctx, n_batch);
        L->ring = L->rows < n_ctx;
        L->offset = kv->bytes;
        kv->bytes += (size_t)L->rows * (size_t)mllm_kv_copies(kv, l) * kv->row_bytes;
    }
    kv->k = calloc(1, kv->bytes);
    kv->v = calloc(1, kv->bytes);
    if (!kv->k || !kv->v) {
        size_t bytes = kv->bytes;
        mllm_kv_cache_free(kv);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "cannot allocate 2 x %zu bytes for the KV cache", bytes);
    }
    *out = kv;
    return MLLM_OK;
}

void mllm_kv_cache_free(mllm_kv_cache *kv) {
    if (!kv) return;
    free(kv->k);
    free(kv->v);
    free(kv->layers);
    free(kv);
}

/* Positions from which every ring holds what was written: ring_lo, or later where the ring has
 * been written over since. */
static int32_t held_from(const mllm_kv_cache *kv, const mllm_kv_layer *L) {
    int32_t lo = kv->ring_hi - L->rows;
    return lo > kv->ring_lo ? lo : kv->ring_lo;
}

int32_t mllm_kv_cache_keep(mllm_kv_cache *kv, int32_t n_keep) {
    int32_t lo = kv->ring_lo;
    for (int32_t l = 0; l < kv->n_layer && n_keep > 0; l++) {
        const mllm_kv_layer *L = &kv->layers[l];
        if (!L->ring) continue;
        const int32_t from = held_from(kv, L);
        const int32_t need = n_keep - L->window + 1; /* the earliest key the next position reads */
        if ((need > 0 ? need : 0) < from) n_keep = 0;
        if (from > lo) lo = from;
    }
    if (n_keep == 0) kv->ring_lo = kv->ring_hi = 0;
    else kv->ring_lo = lo;
    return n_keep;
}

static void load_row(const mllm_kv_cache *kv, const void *src, float *dst) {
    if (kv->type == MLLM_KV_F16) {
        const uint16_t *h = src;
        for (int32_t i = 0; i < kv->row; i++) dst[i] = mllm_fp16_to_fp32(h[i]);
    } else if (kv->type == MLLM_KV_Q8_0) {
        mllm_dequantize_row_ref(MLLM_TYPE_Q8_0, src, dst, kv->row);
    } else {
        memcpy(dst, src, kv->row_bytes);
    }
}

static void store_row(const mllm_kv_cache *kv, const float *src, void *dst) {
    if (kv->type == MLLM_KV_F16) {
        uint16_t *h = dst;
        for (int32_t i = 0; i < kv->row; i++) h[i] = mllm_fp32_to_fp16(src[i]);
    } else if (kv->type == MLLM_KV_Q8_0) {
        mllm_quantize_row_ref(MLLM_TYPE_Q8_0, src, dst, kv->row);
    } else {
        memcpy(dst, src, kv->row_bytes);
    }
}

/* Rotates every head of a K row (adjacent pairs) by the angles whose cos/sin are given. */
static void rotate(float *row, int32_t n_heads, int32_t hd, const float *cs, const float *sn) {
    for (int32_t h = 0; h < n_heads; h++) {
        float *x = row + h * hd;
        for (int32_t i = 0; i < hd / 2; i++) {
            float x0 = x[2 * i], x1 = x[2 * i + 1];
            x[2 * i] = x0 * cs[i] - x1 * sn[i];
            x[2 * i + 1] = x0 * sn[i] + x1 * cs[i];
        }
    }
}

/* K row (rotated if the layer has RoPE) and V row of position `from` into row `to` (and its copy). */
static void move_position(mllm_kv_cache *kv, int32_t l, const void *k_src, const void *v_src, int32_t to, float *row,
                          const float *cs, const float *sn) {
    const int32_t r = mllm_kv_row_of(kv, l, to);
    for (int32_t c = 0; c < mllm_kv_copies(kv, l); c++) {
        const int32_t rc = r + c * kv->layers[l].rows;
        memmove(mllm_kv_v_at(kv, l, rc), v_src, kv->row_bytes);
        if (kv->layers[l].rope) {
            if (c == 0) {
                load_row(kv, k_src, row);
                rotate(row, kv->row / kv->head_dim, kv->head_dim, cs, sn);
            }
            store_row(kv, row, mllm_kv_k_at(kv, l, rc));
        } else {
            memmove(mllm_kv_k_at(kv, l, rc), k_src, kv->row_bytes);
        }
    }
}

mllm_status mllm_kv_cache_shift(mllm_kv_cache *kv, int32_t dst, int32_t src, int32_t n_past, const double *inv_freq) {
    const int32_t half = kv->head_dim / 2, delta = dst - src;
    /* Rotations compose: rotating a key roped at p by delta gives the key roped at p + delta. */
    float cs[MLLM_KV_MAX_ROW / 2], sn[MLLM_KV_MAX_ROW / 2], row[MLLM_KV_MAX_ROW];
    for (int32_t i = 0; i < half; i++) {
        double a = (double)delta * inv_freq[i];
        cs[i] = (float)cos(a);
        sn[i] = (float)sin(a);
    }
    /* a ring's rows are gathered first: a moved position's new row may be another's old one */
    int32_t ring_rows = 0;
    for (int32_t l = 0; l < kv->n_layer; l++)
        if (kv->layers[l].ring && kv->layers[l].rows > ring_rows) ring_rows = kv->layers[l].rows;
    uint8_t *gk = NULL, *gv = NULL;
    if (ring_rows) {
        gk = malloc((size_t)ring_rows * kv->row_bytes);
        gv = malloc((size_t)ring_rows * kv->row_bytes);
        if (!gk || !gv) {
            free(gk);
            free(gv);
            return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory shifting the KV cache");
        }
    }
    int32_t new_lo = kv->ring_lo;
    for (int32_t l = 0; l < kv->n_layer; l++) {
        const mllm_kv_layer *L = &kv->layers[l];
        if (!L->ring) {
            for (int32_t p = src; p < n_past; p++) move_position(kv, l, mllm_kv_k_row(kv, l, p), mllm_kv_v_row(kv, l, p), p + delta, row, cs, sn);
            continue;
        }
        const int32_t from = held_from(kv, L), first = from > src ? from : src;
        for (int32_t p = first; p < n_past; p++) {
            memcpy(gk + (size_t)(p - first) * kv->row_bytes, mllm_kv_k_row(kv, l, p), kv->row_bytes);
            memcpy(gv + (size_t)(p - first) * kv->row_bytes, mllm_kv_v_row(kv, l, p), kv->row_bytes);
        }
        for (int32_t p = first; p < n_past; p++) {
            move_position(kv, l, gk + (size_t)(p - first) * kv->row_bytes, gv + (size_t)(p - first) * kv->row_bytes,
                          p + delta, row, cs, sn);
        }
        /* held afterwards: [from, dst) where from < dst, then the moved positions */
        const int32_t lo = from <= dst ? from : first + delta;
        if (lo > new_lo) new_lo = lo;
    }
    free(gk);
    free(gv);
    kv->ring_lo = new_lo;
    kv->ring_hi = n_past + delta;
    return MLLM_OK;
}
