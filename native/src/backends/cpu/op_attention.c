/* Causal attention with grouped KV heads: query head h reads KV head h / (n_head / n_kv); each
 * row attends over its own sequence's KV cache, over the keys of positions first..pos
 * (mllm_kv_first_key: all earlier positions, or the layer's sliding window), which lie in
 * consecutive cache rows. Scores are scaled by 1/sqrt(hd) and soft-maxed in f32. Work items are
 * (token, KV head, run of query heads) where the level has a grouped kernel for the cache's type,
 * (token, head) otherwise. Key ranges longer than a chunk (mllm_exec.att_chunk) are computed chunk by
 * chunk and merged in order; a decode step of few sequences over long contexts hands the chunks
 * themselves to the threads, which a second pass merges (one barrier). */
#include <math.h>
#include <string.h>

#include "backends/cpu/ops.h"
#include "graph/kv_cache.h"
#include "quant/quant.h"

#define GQA_RUN MLLM_ATT_HEADS_PER_ITEM /* query heads per work item (the kernels' limit) */
_Static_assert(GQA_RUN == MLLM_ATT_GQA_MAX, "work items take as many heads as the grouped kernels");

/* One head over n keys from rows k0 / v0 (row_bytes apart) of an f32 or q8_0 cache; s: n floats. */
static void attn_head(const mllm_kernels *K, const mllm_kv_cache *kv, const float *qh, const char *k0, const char *v0,
                      size_t head_off, int32_t n, float scale, float *s, float *o, float *ml) {
    const int32_t hd = kv->head_dim;
    const int q8 = kv->type == MLLM_KV_Q8_0;
    float mx = -INFINITY;
    for (int32_t j = 0; j < n; j++) {
        const char *kr = k0 + (size_t)j * kv->row_bytes + head_off;
        s[j] = (q8 ? K->vec_dot_q8_0_f32(kr, qh, hd) : K->vec_dot_f32((const float *)kr, qh, hd)) * scale;
        if (s[j] > mx) mx = s[j];
    }
    float sum = 0.0f;
    for (int32_t j = 0; j < n; j++) {
        s[j] = expf(s[j] - mx);
        sum += s[j];
    }
    memset(o, 0, (size_t)hd * sizeof(float));
    for (int32_t j = 0; j < n; j++) {
        const char *vr = v0 + (size_t)j * kv->row_bytes + head_off;
        if (q8) K->axpy_q8_0(o, vr, s[j], hd);
        else K->axpy_f32(o, (const float *)vr, s[j], hd);
    }
    const float inv = 1.0f / sum;
    for (int32_t i = 0; i < hd; i++) o[i] *= inv;
    ml[0] = mx, ml[1] = sum;
}

/* Whether the level has a kernel that serves several query heads of a KV head with one pass over
 * the keys (then work items take GQA_RUN heads). */
static int grouped(const mllm_kernels *K, const mllm_kv_cache *kv) {
    return (kv->type == MLLM_KV_F16 && K->attn_f16_gqa) || (kv->type == MLLM_KV_F32 && K->attn_f32_gqa);
}

/* Query heads q (nq of them, hd apart) of KV head g over keys [j0, j1) of a range that starts at
 * position `first` of layer l (consecutive rows, kv_cache.h): normalized outputs at o (hd apart), each
 * head's score max and exp-sum at ml (2 per head). s: scratch for j1 - j0 scores. */
static void attend(const mllm_kernels *K, const mllm_kv_cache *kv, int32_t l, int32_t first, const float *q, int64_t g, int nq,
                   int32_t j0, int32_t j1, float scale, float *s, float *o, float *ml) {
    const int32_t hd = kv->head_dim, n = j1 - j0;
    const size_t skip = (size_t)j0 * kv->row_bytes, stride = (size_t)kv->row;
    const char *k0 = (const char *)mllm_kv_k_row(kv, l, first) + skip, *v0 = (const char *)mllm_kv_v_row(kv, l, first) + skip;
    if (kv->type == MLLM_KV_F16) {
        const uint16_t *k = (const uint16_t *)k0 + g * hd, *v = (const uint16_t *)v0 + g * hd;
        if (K->attn_f16_gqa && K->attn_f16_gqa(q, nq, k, v, stride, n, hd, scale, o, ml)) return;
        for (int i = 0; i < nq; i++) K->attn_f16(q + i * hd, k, v, stride, n, hd, scale, s, o + i * hd, ml + 2 * i);
        return;
    }
    if (kv->type == MLLM_KV_F32 && K->attn_f32_gqa &&
        K->attn_f32_gqa(q, nq, (const float *)k0 + g * hd, (const float *)v0 + g * hd, stride, n, hd, scale, o, ml))
        return;
    /* f32 and q8_0 caches head by head: a head's values start head_off bytes into a row */
    const size_t head_off = (size_t)g * (kv->row_bytes / (size_t)(kv->row / hd));
    for (int i = 0; i < nq; i++) attn_head(K, kv, q + i * hd, k0, v0, head_off, n, scale, s, o + i * hd, ml + 2 * i);
}

/* Folds the results of a later key range (oc, mlc) into the running ones (o, ml) of nq heads: the
 * softmax over both ranges, as each range's exp-sum rescaled to the larger max weighs it. */
static void merge(float *o, float *ml, const float *oc, const float *mlc, int nq, int32_t hd) {
    for (int h = 0; h < nq; h++, o += hd, oc += hd) {
        const float m = ml[2 * h] > mlc[2 * h] ? ml[2 * h] : mlc[2 * h];
        const float a = ml[2 * h + 1] * expf(ml[2 * h] - m), b = mlc[2 * h + 1] * expf(mlc[2 * h] - m), inv = 1.0f / (a + b);
        for (int32_t i = 0; i < hd; i++) o[i] = (a * o[i] + b * oc[i]) * inv;
        ml[2 * h] = m, ml[2 * h + 1] = a + b;
    }
}

/* The keys row t attends to in layer l: their count, and the position of the first at *first. */
static int32_t row_keys(const mllm_exec *ex, int64_t t, int32_t l, int32_t *first) {
    const mllm_seq_rows *seq = mllm_exec_seq(ex, t);
    const int32_t pos = mllm_exec_pos(seq, t);
    *first = mllm_kv_first_key(seq->kv, l, pos);
    return pos - *first + 1;
}

/* A work item's place: token row t, KV head g, its first query head h0 and their count nq. */
typedef struct unit { int64_t t, g, h0; int nq; } unit;
static unit unit_at(int64_t u, int64_t n_kv, int64_t per_g, int64_t run, int64_t group) {
    const int64_t r = u % per_g, h0 = u / per_g % n_kv * group + r * run;
    return (unit){u / (n_kv * per_g), u / per_g % n_kv, h0, (int)(group - r * run < run ? group - r * run : run)};
}

void mllm_op_attention(const mllm_node *n, const mllm_cpu_run *run, int ith, int nth) {
    const mllm_exec *ex = run->ex;
    const mllm_kernels *K = run->kernels;
    const mllm_tensor *q = n->src[0];
    mllm_tensor *out = n->dst[0];
    const mllm_kv_cache *kv0 = ex->seqs[0].kv; /* every sequence's cache has the model's shape and the same type */
    const int32_t hd = kv0->head_dim, l = n->layer, chunk = ex->att_chunk > 0 ? ex->att_chunk : MLLM_ATT_CHUNK;
    const int64_t n_rows = q->ne[1], n_head = q->ne[0] / hd, n_kv = kv0->row / hd, group = n_head / n_kv;
    const float scale = 1.0f / sqrtf((float)hd);
    float *s = ex->att_scratch + (size_t)ith * (size_t)ex->att_stride; /* MLLM_ATT_SCRATCH: scores, one chunk result */

    /* Work items: (token, KV head, run of query heads); runs of GQA_RUN heads share each key and value
     * load (and conversion) where a grouped kernel exists. A step with too few items to keep every
     * thread busy (decode) spreads the chunks of its rows over the threads when a row has more than
     * one (split), and otherwise takes single heads as items. */
    int64_t per_chunks = 0; /* total chunks of the rows' key ranges */
    int long_rows = 0;
    for (int64_t t = 0; t < n_rows; t++) {
        int32_t first;
        const int32_t keys = row_keys(ex, t, l, &first);
        per_chunks += (keys + chunk - 1) / chunk;
        long_rows |= keys > chunk;
    }
    int64_t rn = grouped(K, kv0) ? GQA_RUN : 1, per_g = (group + rn - 1) / rn;
    const int few = n_rows * n_kv * per_g < 4 * (int64_t)nth;
    const int split = few && long_rows && ex->att_part && per_chunks * n_kv * per_g <= ex->att_part_items;
    if (few && !long_rows) rn = 1, per_g = group;
    const int64_t units = n_rows * n_kv * per_g;
    int64_t b, e;
    if (!split) {
        mllm_split(units, ith, nth, &b, &e);
        for (int64_t u = b; u < e; u++) {
            const unit w = unit_at(u, n_kv, per_g, rn, group);
            const mllm_kv_cache *kv = mllm_exec_seq(ex, w.t)->kv;
            int32_t first;
            const int32_t keys = row_keys(ex, w.t, l, &first);
            const float *qh = (const float *)mllm_tensor_row(q, w.t) + w.h0 * hd;
            float *o = (float *)mllm_tensor_row(out, w.t) + w.h0 * hd, ml[2 * GQA_RUN];
            attend(K, kv, l, first, qh, w.g, w.nq, 0, keys < chunk ? keys : chunk, scale, s, o, ml);
            for (int32_t j0 = chunk; j0 < keys; j0 += chunk) {
                float *oc = s + ex->att_stride - MLLM_ATT_PART_ITEM(hd), *mlc = oc + GQA_RUN * hd;
                attend(K, kv, l, first, qh, w.g, w.nq, j0, keys - j0 < chunk ? keys : j0 + chunk, scale, s, oc, mlc);
                merge(o, ml, oc, mlc, w.nq, hd);
            }
        }
        return;
    }
    /* split: item i = chunk c of unit u, in order of u then c; its result at att_part + i * item */
    const size_t item = MLLM_ATT_PART_ITEM(hd);
    mllm_split(per_chunks * n_kv * per_g, ith, nth, &b, &e);
    for (int64_t u = 0, i0 = 0; u < units && i0 < e; u++) {
        const unit w = unit_at(u, n_kv, per_g, rn, group);
        const mllm_kv_cache *kv = mllm_exec_seq(ex, w.t)->kv;
        int32_t first;
        const int32_t keys = row_keys(ex, w.t, l, &first);
        const int64_t nc = (keys + chunk - 1) / chunk;
        for (int64_t c = b > i0 ? b - i0 : 0; c < nc && i0 + c < e; c++) {
            float *r = ex->att_part + (size_t)(i0 + c) * item;
            const int32_t j0 = (int32_t)(c * chunk), j1 = keys - j0 < chunk ? keys : j0 + chunk;
            attend(K, kv, l, first, (const float *)mllm_tensor_row(q, w.t) + w.h0 * hd, w.g, w.nq, j0, j1, scale, s, r,
                   r + GQA_RUN * hd);
        }
        i0 += nc;
    }
    mllm_threadpool_barrier(run->pool);
    /* each unit's chunks merged in order, as the unsplit path does */
    mllm_split(units, ith, nth, &b, &e);
    for (int64_t u = 0, i0 = 0; u < e; u++) {
        const unit w = unit_at(u, n_kv, per_g, rn, group);
        int32_t first;
        const int32_t keys = row_keys(ex, w.t, l, &first);
        const int64_t nc = (keys + chunk - 1) / chunk;
        if (u >= b) {
            const float *r = ex->att_part + (size_t)i0 * item;
            float *o = (float *)mllm_tensor_row(out, w.t) + w.h0 * hd, ml[2 * GQA_RUN];
            memcpy(o, r, (size_t)w.nq * (size_t)hd * sizeof(float));
            memcpy(ml, r + GQA_RUN * hd, 2 * (size_t)w.nq * sizeof(float));
            for (int64_t c = 1; c < nc; c++) merge(o, ml, r + c * item, r + c * item + GQA_RUN * hd, w.nq, hd);
        }
        i0 += nc;
    }
}
