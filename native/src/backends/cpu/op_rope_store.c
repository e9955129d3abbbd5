/* Positions q and k as the layer says (RoPE on adjacent pairs with the run's angle tables, then
 * QK-norm; temperature tuning of q on NoPE layers), then k and v are written to the KV cache rows
 * of their positions, each row in its own sequence's cache. Split over tokens. */
#include <math.h>
#include <string.h>

#include "backends/cpu/ops.h"
#include "graph/kv_cache.h"
#include "quant/quant.h"

void mllm_cpu_kv_store(const mllm_kernels *K, const mllm_kv_cache *kv, int v, int32_t layer, int32_t pos, const float *src,
                       int64_t lo, int64_t hi) {
    const int32_t r = mllm_kv_row_of(kv, layer, pos);
    for (int32_t c = 0; c < mllm_kv_copies(kv, layer); c++) {
        const int32_t rc = r + c * kv->layers[layer].rows;
        char *row = v ? mllm_kv_v_at(kv, layer, rc) : mllm_kv_k_at(kv, layer, rc);
        switch (kv->type) {
        case MLLM_KV_F16: K->f32_to_f16((uint16_t *)row + lo, src + lo, hi - lo); break;
        case MLLM_KV_Q8_0: K->quantize_q8_0(src + lo, row + lo / QK8_0 * (int64_t)sizeof(block_q8_0), hi - lo); break;
        default: memcpy((float *)row + lo, src + lo, (size_t)(hi - lo) * sizeof(float)); break;
        }
    }
}

/* x /= sqrt(mean(x^2) + eps): Llama 4's weightless L2 norm of one head */
static void rms_head(const mllm_kernels *K, float *x, int32_t hd, float eps) {
    const double ss = K->sum_sq_f32(x, hd);
    const float scale = (float)(1.0 / sqrt(ss / hd + (double)eps));
    for (int32_t i = 0; i < hd; i++) x[i] *= scale;
}

void mllm_op_rope_store(const mllm_node *n, const mllm_cpu_run *run, int ith, int nth) {
    static const mllm_attn_layer plain = {.rope = 1};
    const mllm_exec *ex = run->ex;
    const mllm_attn_layer *at = n->attn ? n->attn : &plain;
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
        const float temp = at->temp_tuning ? mllm_attn_temperature(at, pos) : 1.0f;
        float *qr = mllm_tensor_row(q, t), *kr = mllm_tensor_row(k, t);
        for (int64_t h = 0; h < n_head + n_kv; h++) {
            float *x = h < n_head ? qr + h * hd : kr + (h - n_head) * hd;
            if (at->rope) run->kernels->rope_pairs(x, cs, sn, half);
            if (at->qk_norm) rms_head(run->kernels, x, hd, at->eps);
            if (h < n_head && at->temp_tuning)
                for (int32_t i = 0; i < hd; i++) x[i] *= temp;
        }
        mllm_cpu_kv_store(run->kernels, kv, 0, n->layer, pos, kr, 0, kv->row);
        mllm_cpu_kv_store(run->kernels, kv, 1, n->layer, pos, mllm_tensor_row(v, t), 0, kv->row);
    }
}
