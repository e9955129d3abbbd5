/* Embedding lookup: one (dequantized) row of the embedding matrix per token. */
#include <string.h>

#include "mobilellm.h"
#include "ops/ops.h"

void mllm_op_get_rows(const mllm_node *n, const mllm_exec *ex, int ith, int nth) {
    const mllm_tensor *w = n->src[0];
    mllm_tensor *dst = n->dst[0];
    int64_t b, e;
    mllm_split(dst->ne[1], ith, nth, &b, &e);
    for (int64_t i = b; i < e; i++) {
        const void *row = mllm_tensor_row(w, ex->tokens[i]); /* ids checked by the session */
        float *out = mllm_tensor_row(dst, i);
        if (w->type == MLLM_TYPE_F32) memcpy(out, row, (size_t)w->ne[0] * sizeof(float));
        else mllm_dequantize_row(w->type, row, out, w->ne[0]);
    }
}
