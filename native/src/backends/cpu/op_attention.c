/* Causal attention with grouped KV heads: query head h reads KV head h / (n_head / n_kv); each
 * row attends over its own sequence's KV cache, over the keys of positions first..pos
 * (mllm_kv_first_key: all earlier positions, or the layer's sliding window), which lie in
 * consecutive cache rows. Scores are scaled by 1/sqrt(hd) and soft-maxed in f32; work is split over
 * (token, KV head, run of query heads) for the f16 cache and for the f32 one where the level has a
 * grouped kernel for it, over (token, head) otherwise. */
#include <math.h>
#include <string.h>

#include "backends/cpu/ops.h"
#include "graph/kv_cache.h"
#include "quant/quant.h"

#define GQA_RUN 4 /* query heads per work item (the kernels' limit) */

/* One head over n keys from rows k0 / v0 (row_bytes apart) of an f32 or q8_0 cache; s: n floats. */
static void attn_head(const mllm_kernels *K, const mllm_kv_cache *kv, const float *qh, const char *k0, const char *v0,
                      size_t head_off, int32_t n, float scale, float *s, float *o) {
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
}

void mllm_op_attention(const mllm_node *n, const mllm_cpu_run *run, int ith, int nth) {
    const mllm_exec *ex = run->ex;
    const mllm_kernels *K = run->kernels;
    const mllm_tensor *q = n->src[0];
    mllm_tensor *out = n->dst[0];
    const mllm_kv_cache *kv0 = ex->seqs[0].kv; /* every sequence's cache has the model's shape and the same type */
    const int32_t hd = kv0->head_dim, l = n->layer;
    const int64_t n_head = q->ne[0] / hd, n_kv = kv0->row / hd, group = n_head / n_kv;
    const float scale = 1.0f / sqrtf((float)hd);
    float *s = ex->att_scratch + (size_t)ith * (size_t)ex->att_stride;
    int64_t b, e;
    const int f32_gqa = kv0->type == MLLM_KV_F32 && K->attn_f32_gqa;
    if (kv0->type == MLLM_KV_F16 || f32_gqa) { /* work items: (token, KV head, run of query heads) */
        /* runs of up to GQA_RUN heads share each key and value load (and conversion); single heads
         * when that would leave too few items to keep every thread busy (decode) */
        int64_t run = GQA_RUN, per_g = (group + GQA_RUN - 1) / GQA_RUN;
        if (q->ne[1] * n_kv * per_g < 4 * (int64_t)nth) run = 1, per_g = group;
        mllm_split(q->ne[1] * n_kv * per_g, ith, nth, &b, &e);
        for (int64_t u = b; u < e; u++) {
            const int64_t t = u / (n_kv * per_g), g = u / per_g % n_kv, h0 = g * group + u % per_g * run;
            const int nq = (int)(group - u % per_g * run < run ? group - u % per_g * run : run);
            const mllm_seq_rows *seq = mllm_exec_seq(ex, t);
            const mllm_kv_cache *kv = seq->kv;
            const int32_t pos = mllm_exec_pos(seq, t), first = mllm_kv_first_key(kv, l, pos), n_keys = pos - first + 1;
            const float *qh = (const float *)mllm_tensor_row(q, t) + h0 * hd;
            float *o = (float *)mllm_tensor_row(out, t) + h0 * hd;
            if (f32_gqa) {
                const float *k0 = (const float *)mllm_kv_k_row(kv, l, first) + g * hd;
                const float *v0 = (const float *)mllm_kv_v_row(kv, l, first) + g * hd;
                if (K->attn_f32_gqa(qh, nq, k0, v0, (size_t)kv->row, n_keys, hd, scale, o)) continue;
                for (int i = 0; i < nq; i++)
                    attn_head(K, kv, qh + i * hd, (const char *)k0, (const char *)v0, 0, n_keys, scale, s, o + i * hd);
                continue;
            }
            const uint16_t *k0 = (const uint16_t *)mllm_kv_k_row(kv, l, first) + g * hd;
            const uint16_t *v0 = (const uint16_t *)mllm_kv_v_row(kv, l, first) + g * hd;
            if (K->attn_f16_gqa && K->attn_f16_gqa(qh, nq, k0, v0, (size_t)kv->row, n_keys, hd, scale, o)) continue;
            for (int i = 0; i < nq; i++) K->attn_f16(qh + i * hd, k0, v0, (size_t)kv->row, n_keys, hd, scale, s, o + i * hd);
        }
        return;
    }
    /* f32 and q8_0 caches: head by head; a head's values start head_off bytes into a row */
    const size_t head_bytes = kv0->row_bytes / (size_t)n_kv;
    mllm_split(q->ne[1] * n_head, ith, nth, &b, &e);
    for (int64_t u = b; u < e; u++) {
        const int64_t t = u / n_head, h = u % n_head, g = h / group;
        const mllm_seq_rows *seq = mllm_exec_seq(ex, t);
        const mllm_kv_cache *kv = seq->kv;
        const int32_t pos = mllm_exec_pos(seq, t), first = mllm_kv_first_key(kv, l, pos);
        attn_head(K, kv, (const float *)mllm_tensor_row(q, t) + h * hd, mllm_kv_k_row(kv, l, first), mllm_kv_v_row(kv, l, first),
                  (size_t)g * head_bytes, pos - first + 1, scale, s, (float *)mllm_tensor_row(out, t) + h * hd);
    }
}
