/* KV cache storage in device memory, the rings' bookkeeping, row copies in and out, prefix copies
 * and the context-shift re-rotation. */
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

mllm_status mllm_kv_cache_create(mllm_device *dev, int32_t type, int32_t n_layer, int32_t n_ctx, int32_t n_batch,
                                 int32_t n_head_kv, int32_t head_dim, const mllm_attn_layer *attn, mllm_kv_cache **out) {
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
    kv->dev = dev;
    for (int32_t l = 0; l < n_layer; l++) {
        mllm_kv_layer *L = &kv->layers[l];
        L->window = attn[l].window;
        L->rope = attn[l].rope;
        L->rows = mllm_kv_layer_rows(L->window, n_ctx, n_batch);
        L->ring = L->rows < n_ctx;
        L->offset = kv->bytes;
        kv->bytes += (size_t)L->rows * (size_t)mllm_kv_copies(kv, l) * kv->row_bytes;
    }
    mllm_status st = dev->iface->buffer_alloc(dev, kv->bytes, MLLM_MEM_KV, &kv->kbuf);
    if (!st) st = dev->iface->buffer_alloc(dev, kv->bytes, MLLM_MEM_KV, &kv->vbuf);
    if (st) {
        mllm_kv_cache_free(kv);
        return st;
    }
    kv->k = kv->kbuf->host;
    kv->v = kv->vbuf->host;
    *out = kv;
    return MLLM_OK;
}

void mllm_kv_cache_free(mllm_kv_cache *kv) {
    if (!kv) return;
    if (kv->kbuf) kv->dev->iface->buffer_free(kv->dev, kv->kbuf);
    if (kv->vbuf) kv->dev->iface->buffer_free(kv->dev, kv->vbuf);
    free(kv->layers);
    free(kv);
}

int mllm_kv_cache_rings_fit(const mllm_kv_cache *kv, int32_t n) {
    for (int32_t l = 0; l < kv->n_layer; l++)
        if (kv->layers[l].ring && n > kv->layers[l].rows) return 0;
    return 1;
}

int mllm_kv_cache_holds_prefix(const mllm_kv_cache *kv, int32_t n) {
    for (int32_t l = 0; l < kv->n_layer; l++) {
        const mllm_kv_layer *L = &kv->layers[l];
        if (L->ring && (kv->ring_lo > 0 || kv->ring_hi > L->rows)) return 0;
    }
    return mllm_kv_cache_rings_fit(kv, n);
}

/* Bytes [off, off + bytes) of one of the cache's buffers to / from host memory. */
static mllm_status copy_bytes(const mllm_kv_cache *kv, int v, size_t off, void *host, size_t bytes, int to_cache) {
    mllm_buffer *b = v ? kv->vbuf : kv->kbuf;
    if (b->host) {
        if (to_cache) memcpy((char *)b->host + off, host, bytes);
        else memcpy(host, (const char *)b->host + off, bytes);
        return MLLM_OK;
    }
    return to_cache ? kv->dev->iface->buffer_write(kv->dev, b, off, host, bytes)
                    : kv->dev->iface->buffer_read(kv->dev, b, off, host, bytes);
}

mllm_status mllm_kv_cache_read(const mllm_kv_cache *kv, int v, int32_t layer, int32_t n, void *host) {
    if (!mllm_kv_cache_holds_prefix(kv, n)) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED,
                         "the sliding-window layers no longer hold positions 0..%d (their ring has wrapped or been shifted)", n - 1);
    }
    return copy_bytes(kv, v, mllm_kv_offset(kv, layer, 0), host, (size_t)n * kv->row_bytes, 0);
}

mllm_status mllm_kv_cache_write(mllm_kv_cache *kv, int v, int32_t layer, int32_t n, const void *host) {
    const mllm_kv_layer *L = &kv->layers[layer];
    if (!mllm_kv_cache_rings_fit(kv, n)) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "%d positions do not fit the %d a sliding-window layer of this session holds", n,
                         L->rows);
    }
    mllm_status st = MLLM_OK;
    for (int32_t c = 0; c < mllm_kv_copies(kv, layer) && !st; c++) {
        st = copy_bytes(kv, v, mllm_kv_offset(kv, layer, c * L->rows), (void *)host, (size_t)n * kv->row_bytes, 1);
    }
    kv->ring_lo = 0;
    kv->ring_hi = n;
    return st;
}

mllm_status mllm_kv_cache_copy_prefix(mllm_kv_cache *dst, const mllm_kv_cache *src, int32_t n) {
    if (!mllm_kv_cache_holds_prefix(src, n) || !mllm_kv_cache_rings_fit(dst, n)) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED,
                         "cannot copy positions 0..%d: a sliding-window layer's ring no longer holds them all", n - 1);
    }
    const size_t bytes = (size_t)n * src->row_bytes;
    for (int32_t l = 0; l < src->n_layer; l++) {
        for (int32_t c = 0; c < mllm_kv_copies(dst, l); c++) {
            for (int v = 0; v < 2; v++) {
                mllm_buffer *d = v ? dst->vbuf : dst->kbuf;
                const mllm_buffer *s = v ? src->vbuf : src->kbuf;
                const size_t doff = mllm_kv_offset(dst, l, c * dst->layers[l].rows), soff = mllm_kv_offset(src, l, 0);
                if (d->host && s->host) {
                    memcpy((char *)d->host + doff, (const char *)s->host + soff, bytes);
                    continue;
                }
                mllm_status st = dst->dev->iface->buffer_copy(dst->dev, d, doff, s, soff, bytes);
                if (st) return st;
            }
        }
    }
    dst->ring_lo = 0;
    dst->ring_hi = n;
    return MLLM_OK;
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

static mllm_status shift_host(mllm_kv_cache *kv, int32_t dst, int32_t src, int32_t n_past, const double *inv_freq) {
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

mllm_status mllm_kv_cache_shift(mllm_kv_cache *kv, int32_t dst, int32_t src, int32_t n_past, const double *inv_freq) {
    if (kv->k) return shift_host(kv, dst, src, n_past, inv_freq);
    /* device memory: the whole cache through a host copy (shifts are rare: once per full context) */
    uint8_t *k = malloc(kv->bytes), *v = malloc(kv->bytes);
    mllm_status st = k && v ? MLLM_OK : mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory shifting the KV cache");
    if (!st) st = copy_bytes(kv, 0, 0, k, kv->bytes, 0);
    if (!st) st = copy_bytes(kv, 1, 0, v, kv->bytes, 0);
    if (!st) {
        kv->k = k;
        kv->v = v;
        st = shift_host(kv, dst, src, n_past, inv_freq);
        kv->k = kv->v = NULL;
    }
    if (!st) st = copy_bytes(kv, 0, 0, k, kv->bytes, 1);
    if (!st) st = copy_bytes(kv, 1, 0, v, kv->bytes, 1);
    free(k);
    free(v);
    return st;
}
