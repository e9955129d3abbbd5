/* The transformer as a graph, one node per step, the same for every backend: embedding lookup,
 * n_layer pre-norm blocks (GQA attention, positioned as each layer's mllm_attn_layer says, and
 * SwiGLU FFN) and the output norm + head. Each
 * residual add is part of the RMS norm after it. Which nodes a backend runs as one is the fusion
 * planner's business (graph/fusion.h), not this file's. */
#include "core/types.h"
#include "model/model.h"

/* Matmul nodes over x for weights w[0..n); consecutive weights whose activations are converted
 * to the same type share a node (one conversion, one barrier). */
static int add_matmuls(mllm_graph *g, mllm_tensor *x, const mllm_tensor *const *w, mllm_tensor *const *y, int n) {
    for (int i = 0; i < n;) {
        mllm_node *nd = mllm_graph_add(g, MLLM_OP_MATMUL);
        if (!nd) return -1;
        nd->src[0] = x;
        int j = i;
        while (j < n && mllm_type_traits_of(w[j]->type)->vec_dot_type == mllm_type_traits_of(w[i]->type)->vec_dot_type) {
            nd->src[1 + nd->n_w] = w[j];
            nd->dst[nd->n_w] = y[j];
            nd->n_w++;
            j++;
        }
        i = j;
    }
    return 0;
}

static mllm_node *add_norm(mllm_graph *g, mllm_tensor *x, const mllm_tensor *w, const mllm_tensor *res, mllm_tensor *dst,
                           int32_t row0, int32_t n_rows, float eps) {
    mllm_node *nd = mllm_graph_add(g, MLLM_OP_RMS_NORM);
    if (!nd) return NULL;
    nd->src[0] = x;
    nd->src[1] = w;
    nd->src[2] = res;
    nd->dst[0] = dst;
    nd->row0 = row0;
    nd->n_rows = n_rows;
    nd->eps = eps;
    return nd;
}

mllm_graph *mllm_model_build_graph(const mllm_model *m, float *const act[MLLM_ACT_COUNT], int32_t n, int32_t n_out,
                                   int32_t out_hidden, int32_t gather_out) {
    const mllm_hparams *hp = &m->hp;
    mllm_graph *g = mllm_graph_create(mllm_model_graph_nodes(m));
    if (!g) return NULL;
    g->n_tokens = n;
    g->n_out = n_out;
    g->out_hidden = out_hidden;
    g->gather_out = gather_out;
    mllm_tensor *a = g->acts;
    const int64_t q = (int64_t)hp->n_head * hp->head_dim, kv = (int64_t)hp->n_head_kv * hp->head_dim;
    mllm_tensor_f32(&a[MLLM_ACT_X], hp->n_embd, n, act[MLLM_ACT_X]);
    mllm_tensor_f32(&a[MLLM_ACT_H], hp->n_embd, n, act[MLLM_ACT_H]);
    mllm_tensor_f32(&a[MLLM_ACT_Q], q, n, act[MLLM_ACT_Q]);
    mllm_tensor_f32(&a[MLLM_ACT_K], kv, n, act[MLLM_ACT_K]);
    mllm_tensor_f32(&a[MLLM_ACT_V], kv, n, act[MLLM_ACT_V]);
    mllm_tensor_f32(&a[MLLM_ACT_ATT], q, n, act[MLLM_ACT_ATT]);
    mllm_tensor_f32(&a[MLLM_ACT_TMP], hp->n_embd, n, act[MLLM_ACT_TMP]);
    mllm_tensor_f32(&a[MLLM_ACT_GATE], hp->n_ff, n, act[MLLM_ACT_GATE]);
    mllm_tensor_f32(&a[MLLM_ACT_UP], hp->n_ff, n, act[MLLM_ACT_UP]);
    mllm_tensor_f32(&a[MLLM_ACT_H_OUT], hp->n_embd, n_out, act[MLLM_ACT_H]);
    mllm_tensor_f32(&a[MLLM_ACT_OUT], out_hidden ? hp->n_embd : hp->n_vocab, n_out, act[MLLM_ACT_OUT]);
    mllm_tensor *x = &a[MLLM_ACT_X]; /* the residual stream */

    mllm_node *nd = mllm_graph_add(g, MLLM_OP_GET_ROWS);
    nd->src[0] = &m->tok_embd;
    nd->dst[0] = &a[MLLM_ACT_X];
    for (int32_t l = 0; l < hp->n_layer; l++) {
        const mllm_block *b = mllm_model_layer(m, l);
        /* the previous layer's FFN output joins the residual here */
        if (!add_norm(g, x, &b->attn_norm, l ? &a[MLLM_ACT_TMP] : NULL, &a[MLLM_ACT_H], 0, n, hp->eps)) goto fail;
        const mllm_tensor *wqkv[3] = {&b->wq, &b->wk, &b->wv};
        mllm_tensor *yqkv[3] = {&a[MLLM_ACT_Q], &a[MLLM_ACT_K], &a[MLLM_ACT_V]};
        if (add_matmuls(g, &a[MLLM_ACT_H], wqkv, yqkv, 3)) goto fail;
        if (!(nd = mllm_graph_add(g, MLLM_OP_ROPE_STORE))) goto fail;
        nd->src[0] = &a[MLLM_ACT_Q];
        nd->src[1] = &a[MLLM_ACT_K];
        nd->src[2] = &a[MLLM_ACT_V];
        nd->layer = l;
        nd->attn = &m->attn[l];
        if (!(nd = mllm_graph_add(g, MLLM_OP_ATTENTION))) goto fail;
        nd->src[0] = &a[MLLM_ACT_Q];
        nd->dst[0] = &a[MLLM_ACT_ATT];
        nd->layer = l;
        nd->attn = &m->attn[l];
        const mllm_tensor *wo[1] = {&b->wo};
        mllm_tensor *yo[1] = {&a[MLLM_ACT_TMP]};
        if (add_matmuls(g, &a[MLLM_ACT_ATT], wo, yo, 1)) goto fail;
        if (!add_norm(g, x, &b->ffn_norm, &a[MLLM_ACT_TMP], &a[MLLM_ACT_H], 0, n, hp->eps)) goto fail;
        const mllm_tensor *wgu[2] = {&b->gate, &b->up};
        mllm_tensor *ygu[2] = {&a[MLLM_ACT_GATE], &a[MLLM_ACT_UP]};
        if (add_matmuls(g, &a[MLLM_ACT_H], wgu, ygu, 2)) goto fail;
        if (!(nd = mllm_graph_add(g, MLLM_OP_SWIGLU))) goto fail;
        nd->dst[0] = &a[MLLM_ACT_GATE];
        nd->src[1] = &a[MLLM_ACT_UP];
        const mllm_tensor *wd[1] = {&b->down};
        mllm_tensor *yd[1] = {&a[MLLM_ACT_TMP]};
        if (add_matmuls(g, &a[MLLM_ACT_GATE], wd, yd, 1)) goto fail;
    }
    if (n_out > 0) {
        mllm_tensor *dst = out_hidden ? &a[MLLM_ACT_OUT] : &a[MLLM_ACT_H_OUT];
        if (!(nd = add_norm(g, x, &m->output_norm, &a[MLLM_ACT_TMP], dst, n - n_out, n_out, hp->eps))) goto fail;
        nd->gather = gather_out;
        if (!out_hidden) {
            const mllm_tensor *wout[1] = {&m->output};
            mllm_tensor *yout[1] = {&a[MLLM_ACT_OUT]};
            if (add_matmuls(g, &a[MLLM_ACT_H_OUT], wout, yout, 1)) goto fail;
        }
    }
    return g;
fail:
    mllm_graph_free(g);
    return NULL;
}
