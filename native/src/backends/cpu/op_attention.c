/* Causal attention with grouped KV heads: query head h reads KV head h / (n_head / n_kv); each
 * row attends over its own sequence's KV cache, up to its own position.
 * Scores are scaled by 1/sqrt(hd) and soft-maxed in f32; work is split over (token, KV head, run of
 * query heads) for the f16 cache, over (token, head) for the f32 one. */
#include <math.h>
#include <string.h>

#include "backends/cpu/ops.h"
#include "graph/kv_cache.h"

#define GQA_RUN 4 /* query heads per work item (the kernels' limit) */

void mllm_op_attention(const mllm_node *n, const mllm_cpu_run *run, int ith, int nth) {
    const mllm_exec *ex = run->ex;
    const mllm_kernels *K = run->kernels;
    const mllm_tensor *q = n->src[0];
    mllm_tensor *out = n->dst[0];
    const mllm_kv_cache *kv0 = ex->seqs[0].kv; /* every sequence's cache has the model's shape and the same type */
    const int32_t hd = kv0->head_dim;
    const int64_t n_head = q->ne[0] / hd, n_kv = kv0->row / hd, group = n_head / n_kv;
    const float scale = 1.0f / sqrtf((float)hd);
    float *s = ex->att_scratch + (size_t)ith * (size_t)ex->att_stride;
    const int f16 = kv0->type == MLLM_KV_F16;
    int64_t b, e;
    if (f16) { /* work items: (token, KV head, run of query heads); rows of one layer are contiguous,
                * key j at k0 + j * row */
        /* runs of up to GQA_RUN heads share each key and value conversion; single heads when that
         * would leave too few items to keep every thread busy (decode) */
        int64_t run = GQA_RUN, per_g = (group + GQA_RUN - 1) / GQA_RUN;
        if (q->ne[1] * n_kv * per_g < 4 * (int64_t)nth) run = 1, per_g = group;
        mllm_split(q->ne[1] * n_kv * per_g, ith, nth, &b, &e);
        for (int64_t u = b; u < e; u++) {
            const int64_t t = u / (n_kv * per_g), g = u / per_g % n_kv, h0 = g * group + u % per_g * run;
            const int nq = (int)(group - u % per_g * run < run ? group - u % per_g * run : run);
            const mllm_seq_rows *seq = mllm_exec_seq(ex, t);
            const mllm_kv_cache *kv = seq->kv;
            const int32_t n_keys = mllm_exec_pos(seq, t) + 1;
            const float *qh = (const float *)mllm_tensor_row(q, t) + h0 * hd;
            float *o = (float *)mllm_tensor_row(out, t) + h0 * hd;
            const uint16_t *k0 = (const uint16_t *)mllm_kv_k_row(kv, n->layer, 0) + g * hd;
            const uint16_t *v0 = (const uint16_t *)mllm_kv_v_row(kv, n->layer, 0) + g * hd;
            if (K->attn_f16_gqa && K->attn_f16_gqa(qh, nq, k0, v0, (size_t)kv->row, n_keys, hd, scale, o)) continue;
            for (int i = 0; i < nq; i++) K->attn_f16(qh + i * hd, k0, v0, (size_t)kv->row, n_keys, hd, scale, s, o + i * hd);
        }
        return;
    }
    mllm_split(q->ne[1] * n_head, ith, nth, &b, &e); /* f32 cache: head by head */
    for (int64_t u = b; u < e; u++) {
        const int64_t t = u / n_head, h = u % n_head, g = h / group;
        const mllm_seq_rows *seq = mllm_exec_seq(ex, t);
        const mllm_kv_cache *kv = seq->kv;
        const int32_t n_keys = mllm_exec_pos(seq, t) + 1; /* causal: positions 0..pos */
        const float *qh = (const float *)mllm_tensor_row(q, t) + h * hd;
        float *o = (float *)mllm_tensor_row(out, t) + h * hd;
        float mx = -INFINITY;
        for (int32_t j = 0; j < n_keys; j++) {
            const void *kr = mllm_kv_k_row(kv, n->layer, j);
            float d = K->vec_dot_f32((const float *)kr + g * hd, qh, hd);
            s[j] = d * scale;
            if (s[j] > mx) mx = s[j];
        }
        float sum = 0.0f;
        for (int32_t j = 0; j < n_keys; j++) {
            s[j] = expf(s[j] - mx);
            sum += s[j];
        }
        memset(o, 0, (size_t)hd * sizeof(float));
        for (int32_t j = 0; j < n_keys; j++) {
            const void *vr = mllm_kv_v_row(kv, n->layer, j);
            K->axpy_f32(o, (const float *)vr + g * hd, s[j], hd);
        }
        const float inv = 1.0f / sum;
        for (int32_t i = 0; i < hd; i++) o[i] *= inv;
    }
}
