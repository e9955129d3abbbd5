/* The fusion planner. One forward pass: for each matmul, first what feeds its input (an RMS norm or
 * a SwiGLU right before it, or the attention that can write it quantized), then what consumes its
 * output (the RoPE + KV store or SwiGLU right after it, or the residual add of the RMS norm after
 * it). A norm that gathers its rows (the output norm of a batch whose outputs are scattered) is
 * never folded. Order matters: a matmul that takes over a norm's residual add leaves that norm free
 * to be folded into the next matmul. A node is folded only when the tensor between the two is read
 * by no other node, so skipping it changes nothing another node sees. Only plain RoPE layers fuse their RoPE + KV store into the matmul:
 * QK-norm needs whole heads, which the matmul's row chunks do not keep together. */
#include "graph/fusion.h"

#include <stddef.h>

/* Whether n reads the tensor at data d (in-place ops read what they write). */
static int reads(const mllm_node *n, const void *d) {
    for (int i = 0; i < MLLM_MAX_SRC; i++)
        if (n->src[i] && n->src[i]->data == d) return 1;
    return n->op == MLLM_OP_SWIGLU && n->dst[0]->data == d;
}

static int writes(const mllm_node *n, const void *d) {
    for (int i = 0; i < MLLM_MAX_DST; i++)
        if (n->dst[i] && n->dst[i]->data == d) return 1;
    return 0;
}

/* Whether no node after node j reads d before d is written afresh, and d is not the graph's
 * output (read by the host after the run). */
static int unread_after(const mllm_graph *g, int32_t j, const void *d) {
    if (d == g->acts[MLLM_ACT_OUT].data) return 0;
    for (int32_t k = j + 1; k < g->n_nodes; k++) {
        if (reads(&g->nodes[k], d)) return 0;
        if (writes(&g->nodes[k], d)) return 1;
    }
    return 1;
}

static int64_t input_rows(const mllm_node *mm) { return mm->src[0]->ne[1]; }

static int types_in(const mllm_node *mm, uint64_t types) {
    for (int w = 0; w < mm->n_w; w++)
        if (!(types >> mm->src[1 + w]->type & 1)) return 0;
    return 1;
}

/* The fusion kinds a backend with caps can apply to matmul mm (0: none). */
static uint32_t kinds_for(const mllm_node *mm, const mllm_fusion_caps *caps) {
    const int64_t rows = input_rows(mm), k = mm->src[0]->ne[0];
    if ((!caps->max_rows || rows <= caps->max_rows) && (!caps->max_k || k <= caps->max_k)) return caps->kinds;
    if (rows > caps->max_rows && rows <= caps->wide_rows && k <= caps->wide_k && types_in(mm, caps->wide_types)) return caps->kinds;
    if (rows > caps->max_rows && rows > caps->wide_rows && rows <= caps->batch_rows && types_in(mm, caps->batch_types))
        return caps->batch_kinds;
    return 0;
}

static int free_node(const mllm_node *n, mllm_op op) { return n && n->op == op && !n->fused.done_by; }

/* The matmul at index i reads the output of the norm, SwiGLU or attention before it. */
static void fuse_input(mllm_graph *g, int32_t i, uint32_t kinds) {
    mllm_node *mm = &g->nodes[i], *prev = i > 0 ? &g->nodes[i - 1] : NULL;
    if (!prev || !unread_after(g, i, mm->src[0]->data)) return;
    if ((kinds & MLLM_FUSE_PRE_NORM) && free_node(prev, MLLM_OP_RMS_NORM) && !prev->gather && prev->dst[0]->data == mm->src[0]->data &&
        prev->n_rows == input_rows(mm) && (!prev->src[2] || prev->fused.residual_added)) {
        mm->fused.pre_norm = prev;
        prev->fused.done_by = mm;
    } else if ((kinds & MLLM_FUSE_SWIGLU_BEFORE) && free_node(prev, MLLM_OP_SWIGLU) &&
               prev->dst[0]->data == mm->src[0]->data) {
        mm->fused.pre_swiglu = prev;
        prev->fused.done_by = mm;
    } else if ((kinds & MLLM_FUSE_ATTN_QUANT) && free_node(prev, MLLM_OP_ATTENTION) && prev->dst[0]->data == mm->src[0]->data) {
        prev->fused.quant_for = mm;
        mm->fused.input_quantized = 1;
    }
}

static int rope_rows_ok(const mllm_node *mm, const mllm_fusion_caps *caps) {
    for (int w = 0; w < mm->n_w; w++)
        if (caps->rope_rows && mm->src[1 + w]->ne[1] % caps->rope_rows != 0) return 0;
    return 1;
}

/* The matmul at index i does the work of the node after it on its output rows. */
static void fuse_output(mllm_graph *g, int32_t i, uint32_t kinds, const mllm_fusion_caps *caps) {
    mllm_node *mm = &g->nodes[i], *next = i + 1 < g->n_nodes ? &g->nodes[i + 1] : NULL;
    if ((kinds & MLLM_FUSE_ROPE_STORE) && free_node(next, MLLM_OP_ROPE_STORE) && mm->n_w == 3 &&
        (!next->attn || mllm_attn_is_plain(next->attn)) &&
        next->src[0]->data == mm->dst[0]->data && next->src[1]->data == mm->dst[1]->data &&
        next->src[2]->data == mm->dst[2]->data && rope_rows_ok(mm, caps)) {
        mm->fused.post = next;
        next->fused.done_by = mm;
    } else if ((kinds & MLLM_FUSE_SWIGLU_AFTER) && free_node(next, MLLM_OP_SWIGLU) && mm->n_w == 2 &&
               next->dst[0]->data == mm->dst[0]->data && next->src[1]->data == mm->dst[1]->data &&
               mm->src[1]->ne[1] == mm->src[2]->ne[1]) {
        mm->fused.post = next; /* gate and up rows are computed together, then combined */
        next->fused.done_by = mm;
    } else if ((kinds & MLLM_FUSE_ADD_RESIDUAL) && free_node(next, MLLM_OP_RMS_NORM) && !next->gather && mm->n_w == 1 && next->src[2] &&
               next->src[2]->data == mm->dst[0]->data && next->src[0]->ne[0] == mm->dst[0]->ne[0] &&
               unread_after(g, i + 1, mm->dst[0]->data)) {
        mm->fused.post = next;
        next->fused.residual_added = 1;
    }
}

void mllm_graph_plan_fusions(mllm_graph *g, const mllm_fusion_caps *caps) {
    for (int32_t i = 0; i < g->n_nodes; i++) {
        mllm_node *n = &g->nodes[i];
        const uint32_t kinds = n->op == MLLM_OP_MATMUL ? kinds_for(n, caps) : 0;
        if (!kinds) continue;
        fuse_input(g, i, kinds);
        fuse_output(g, i, kinds, caps);
    }
}
