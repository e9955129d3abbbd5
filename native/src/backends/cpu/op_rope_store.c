/* RoPE on q and k (adjacent pairs, angles from the run's table), then k and v are written to the
 * KV cache rows of their positions, each row in its own sequence's cache. Split over tokens. */
#include <string.h>

#include "backends/cpu/ops.h"
#include "graph/kv_cache.h"

void mllm_op_rope_store(const mllm_node *n, const mllm_cpu_run *run, int ith, int nth) {
    const mllm_exec *ex = run->ex;
    mllm_tensor *q = (mllm_tensor *)n->src[0];
    mllm_tensor *k = (mllm_tensor *)n->src[1];
    const mllm_tensor *v = n->src[2];
    const int32_t hd = ex->seqs[0].kv->head_dim, half = hd / 2;
    const int64_t n_head = q->ne[0] / hd, n_kv = k->ne[0] / hd;
    int64_t b, e;
    mllm_split(q->ne[1], ith, nth, &b, &e);
    for (int64_t t = b; t < e; t++) {
        const mllm_seq_rows *seq = mllm_exec_seq(ex, t);
        const mllm_kv_cache *kv = seq->kv;
        const int32_t pos = mllm_exec_pos(seq, t);
        const float *cs = ex->rope_cos + (size_t)pos * half, *sn = ex->rope_sin + (size_t)pos * half;
        float *qr = mllm_tensor_row(q, t), *kr = mllm_tensor_row(k, t);
        const float *vr = mllm_tensor_row(v, t);
        for (int64_t h = 0; h < n_head; h++) mllm_rope_head(qr + h * hd, cs, sn, half);
        for (int64_t h = 0; h < n_kv; h++) mllm_rope_head(kr + h * hd, cs, sn, half);
        void *kd = mllm_kv_k_row(kv, n->layer, pos), *vd = mllm_kv_v_row(kv, n->layer, pos);
        if (kv->type == MLLM_KV_F16) {
            run->kernels->f32_to_f16(kd, kr, kv->row);
            run->kernels->f32_to_f16(vd, vr, kv->row);
        } else {
            memcpy(kd, kr, kv->row_bytes);
            memcpy(vd, vr, kv->row_bytes);
        }
    }
}
