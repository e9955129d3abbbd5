/* Embedding lookup: one (dequantized) row of the embedding matrix per token. */
#include <string.h>

#include "backends/cpu/ops.h"
#include "cpu/panel.h"
#include "mobilellm.h"
#include "quant/quant.h"

/* A row of a panel-packed matrix (the tied output head), copied out a few blocks at a time (blocks
 * of the type's size: 32 elements, or 256 for the K-quants). */
static void packed_row(const mllm_tensor *w, int64_t r, float *out) {
    _Alignas(64) uint8_t seg[1024];
    const mllm_type_traits *t = mllm_type_traits_of(w->type);
    const size_t bb = t->block_bytes;
    const int64_t bs = t->block_size, nb = w->ne[0] / bs, per_seg = (int64_t)(sizeof seg / bb);
    for (int64_t b0 = 0; b0 < nb; b0 += per_seg) {
        int64_t b1 = b0 + per_seg < nb ? b0 + per_seg : nb;
        for (int64_t b = b0; b < b1; b++) mllm_panel_block(w->type, w->data, w->ne[0], r, b, seg + (size_t)(b - b0) * bb);
        mllm_dequantize_row_ref(w->type, seg, out + b0 * bs, (b1 - b0) * bs);
    }
}

void mllm_op_get_rows(const mllm_node *n, const mllm_cpu_run *run, int ith, int nth) {
    const mllm_exec *ex = run->ex;
    const mllm_tensor *w = n->src[0];
    mllm_tensor *dst = n->dst[0];
    int64_t b, e;
    mllm_split(dst->ne[1], ith, nth, &b, &e);
    for (int64_t i = b; i < e; i++) {
        float *out = mllm_tensor_row(dst, i);
        if (w->layout == MLLM_LAYOUT_PANEL16) {
            packed_row(w, ex->tokens[i], out); /* ids checked by the session */
            continue;
        }
        const void *row = mllm_tensor_row(w, ex->tokens[i]);
        if (w->type == MLLM_TYPE_F32) memcpy(out, row, (size_t)w->ne[0] * sizeof(float));
        else mllm_dequantize_row_ref(w->type, row, out, w->ne[0]);
    }
}
