/* KV cache storage and the context-shift re-rotation. */
#include "graph/kv_cache.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "quant/quant.h"

mllm_status mllm_kv_cache_create(int32_t type, int32_t n_layer, int32_t n_ctx, int32_t n_head_kv, int32_t head_dim,
                                 mllm_kv_cache **out) {
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
    size_t bytes = kv->row_bytes * (size_t)n_ctx * (size_t)n_layer;
    kv->k = calloc(1, bytes);
    kv->v = calloc(1, bytes);
    if (!kv->k || !kv->v) {
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
    free(kv);
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

void mllm_kv_cache_shift(mllm_kv_cache *kv, int32_t dst, int32_t src, int32_t n_past, const double *inv_freq) {
    const int32_t hd = kv->head_dim, half = hd / 2, n_heads = kv->row / hd;
    const int32_t delta = dst - src;
    /* Rotations compose: rotating a key roped at p by delta gives the key roped at p + delta. */
    float cs[MLLM_KV_MAX_ROW / 2], sn[MLLM_KV_MAX_ROW / 2], row[MLLM_KV_MAX_ROW];
    for (int32_t i = 0; i < half; i++) {
        double a = (double)delta * inv_freq[i];
        cs[i] = (float)cos(a);
        sn[i] = (float)sin(a);
    }
    for (int32_t l = 0; l < kv->n_layer; l++) {
        for (int32_t p = src; p < n_past; p++) {
            memmove(mllm_kv_v_row(kv, l, p + delta), mllm_kv_v_row(kv, l, p), kv->row_bytes);
            load_row(kv, mllm_kv_k_row(kv, l, p), row);
            for (int32_t h = 0; h < n_heads; h++) {
                float *x = row + h * hd;
                for (int32_t i = 0; i < half; i++) {
                    float x0 = x[2 * i], x1 = x[2 * i + 1];
                    x[2 * i] = x0 * cs[i] - x1 * sn[i];
                    x[2 * i + 1] = x0 * sn[i] + x1 * cs[i];
                }
            }
            store_row(kv, row, mllm_kv_k_row(kv, l, p + delta));
        }
    }
}
