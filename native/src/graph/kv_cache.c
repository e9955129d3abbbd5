/* KV cache storage in device memory, row copies in and out, prefix copies and the context-shift
 * re-rotation. */
#include "graph/kv_cache.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "quant/quant.h"

mllm_status mllm_kv_cache_create(mllm_device *dev, int32_t type, int32_t n_layer, int32_t n_ctx, int32_t n_head_kv,
                                 int32_t head_dim, mllm_kv_cache **out) {
    *out = NULL;
    if (type != MLLM_KV_F16 && type != MLLM_KV_F32) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "unknown kv_type %d", type);
    if ((int64_t)n_head_kv * head_dim > MLLM_KV_MAX_ROW) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "KV row of %d x %d values exceeds the supported %d", n_head_kv, head_dim,
                         MLLM_KV_MAX_ROW);
    }
    mllm_kv_cache *kv = calloc(1, sizeof *kv);
    if (!kv) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for the KV cache");
    kv->type = type;
    kv->n_layer = n_layer;
    kv->n_ctx = n_ctx;
    kv->row = n_head_kv * head_dim;
    kv->head_dim = head_dim;
    kv->row_bytes = (size_t)kv->row * (type == MLLM_KV_F16 ? 2 : 4);
    kv->dev = dev;
    const size_t bytes = kv->row_bytes * (size_t)n_ctx * (size_t)n_layer;
    mllm_status st = dev->iface->buffer_alloc(dev, bytes, MLLM_MEM_KV, &kv->kbuf);
    if (!st) st = dev->iface->buffer_alloc(dev, bytes, MLLM_MEM_KV, &kv->vbuf);
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
    free(kv);
}

mllm_status mllm_kv_cache_read(const mllm_kv_cache *kv, int v, int32_t layer, int32_t pos0, int32_t n, void *host) {
    const mllm_buffer *b = v ? kv->vbuf : kv->kbuf;
    const size_t off = mllm_kv_offset(kv, layer, pos0), bytes = (size_t)n * kv->row_bytes;
    if (b->host) {
        memcpy(host, (const char *)b->host + off, bytes);
        return MLLM_OK;
    }
    return kv->dev->iface->buffer_read(kv->dev, b, off, host, bytes);
}

mllm_status mllm_kv_cache_write(mllm_kv_cache *kv, int v, int32_t layer, int32_t pos0, int32_t n, const void *host) {
    mllm_buffer *b = v ? kv->vbuf : kv->kbuf;
    const size_t off = mllm_kv_offset(kv, layer, pos0), bytes = (size_t)n * kv->row_bytes;
    if (b->host) {
        memcpy((char *)b->host + off, host, bytes);
        return MLLM_OK;
    }
    return kv->dev->iface->buffer_write(kv->dev, b, off, host, bytes);
}

mllm_status mllm_kv_cache_copy_prefix(mllm_kv_cache *dst, const mllm_kv_cache *src, int32_t n) {
    const size_t bytes = (size_t)n * src->row_bytes;
    for (int32_t l = 0; l < src->n_layer; l++) {
        for (int v = 0; v < 2; v++) {
            mllm_buffer *d = v ? dst->vbuf : dst->kbuf;
            const mllm_buffer *s = v ? src->vbuf : src->kbuf;
            const size_t doff = mllm_kv_offset(dst, l, 0), soff = mllm_kv_offset(src, l, 0);
            if (d->host && s->host) {
                memcpy((char *)d->host + doff, (const char *)s->host + soff, bytes);
                continue;
            }
            mllm_status st = dst->dev->iface->buffer_copy(dst->dev, d, doff, s, soff, bytes);
            if (st) return st;
        }
    }
    return MLLM_OK;
}

static void load_row(const mllm_kv_cache *kv, const void *src, float *dst) {
    if (kv->type == MLLM_KV_F16) {
        const uint16_t *h = src;
        for (int32_t i = 0; i < kv->row; i++) dst[i] = mllm_fp16_to_fp32(h[i]);
    } else {
        memcpy(dst, src, kv->row_bytes);
    }
}

static void store_row(const mllm_kv_cache *kv, const float *src, void *dst) {
    if (kv->type == MLLM_KV_F16) {
        uint16_t *h = dst;
        for (int32_t i = 0; i < kv->row; i++) h[i] = mllm_fp32_to_fp16(src[i]);
    } else {
        memcpy(dst, src, kv->row_bytes);
    }
}

mllm_status mllm_kv_cache_shift(mllm_kv_cache *kv, int32_t dst, int32_t src, int32_t n_past, const double *inv_freq) {
    const int32_t hd = kv->head_dim, half = hd / 2, n_heads = kv->row / hd, n = n_past - src;
    const int32_t delta = dst - src;
    if (n <= 0) return MLLM_OK;
    /* Rotations compose: rotating a key roped at p by delta gives the key roped at p + delta. */
    float cs[MLLM_KV_MAX_ROW / 2], sn[MLLM_KV_MAX_ROW / 2], row[MLLM_KV_MAX_ROW];
    for (int32_t i = 0; i < half; i++) {
        double a = (double)delta * inv_freq[i];
        cs[i] = (float)cos(a);
        sn[i] = (float)sin(a);
    }
    /* rows go through a host copy of the moved range: the cache may be device memory, and the
     * source and destination ranges overlap */
    uint8_t *tmp = malloc((size_t)n * kv->row_bytes);
    if (!tmp) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory shifting the KV cache");
    mllm_status st = MLLM_OK;
    for (int32_t l = 0; l < kv->n_layer && !st; l++) {
        st = mllm_kv_cache_read(kv, 1, l, src, n, tmp);
        if (!st) st = mllm_kv_cache_write(kv, 1, l, dst, n, tmp);
        if (!st) st = mllm_kv_cache_read(kv, 0, l, src, n, tmp);
        for (int32_t p = 0; p < n && !st; p++) {
            uint8_t *r = tmp + (size_t)p * kv->row_bytes;
            load_row(kv, r, row);
            for (int32_t h = 0; h < n_heads; h++) {
                float *x = row + h * hd;
                for (int32_t i = 0; i < half; i++) {
                    float x0 = x[2 * i], x1 = x[2 * i + 1];
                    x[2 * i] = x0 * cs[i] - x1 * sn[i];
                    x[2 * i + 1] = x0 * sn[i] + x1 * cs[i];
                }
            }
            store_row(kv, row, r);
        }
        if (!st) st = mllm_kv_cache_write(kv, 0, l, dst, n, tmp);
    }
    free(tmp);
    return st;
}
