/* The transformer as a graph: embedding lookup, n_layer pre-norm blocks (GQA attention and
 * SwiGLU FFN) and the output norm + head. Residual adds are fused into the next RMS norm. */
#include "model/session.h"
#include "quant/quant.h"

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

/* One matmul node over all of w[0..n) when they share the activation type (NULL otherwise, or
 * when out of nodes), for fusions that need every weight in the same node. */
static mllm_node *add_joint_matmul(mllm_graph *g, mllm_tensor *x, const mllm_tensor *const *w, mllm_tensor *const *y, int n) {
    for (int i = 1; i < n; i++)
        if (mllm_type_traits_of(w[i]->type)->vec_dot_type != mllm_type_traits_of(w[0]->type)->vec_dot_type) return NULL;
    mllm_node *nd = mllm_graph_add(g, MLLM_OP_MATMUL);
    if (!nd) return NULL;
    nd->src[0] = x;
    for (int i = 0; i < n; i++) {
        nd->src[1 + i] = w[i];
        nd->dst[i] = y[i];
    }
    nd->n_w = n;
    return nd;
}

static int same_act_type(const mllm_tensor *const *w, int n) {
    for (int i = 1; i < n; i++)
        if (mllm_type_traits_of(w[i]->type)->vec_dot_type != mllm_type_traits_of(w[0]->type)->vec_dot_type) return 0;
    return 1;
}

static void set_pre_norm(mllm_node *nd, const mllm_tensor *norm, const mllm_tensor *res, mllm_tensor *xout, int32_t row0,
                         int32_t n_rows, float eps) {
    nd->pre_norm = norm;
    nd->pre_res = res;
    nd->pre_xout = xout;
    nd->row0 = row0;
    nd->n_rows = n_rows;
    nd->eps = eps;
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

/* Fused form for the CPU backend: per layer four matmul nodes and the attention, so five
 * barriers per layer. The residual stream alternates between X and X2 because every thread
 * reads a whole row of it while others write their slices of the next one. Sub-layers whose
 * weights need different activation types fall back to the unfused nodes. */
static int build_fused_layer(mllm_graph *g, const mllm_model *m, int32_t l, int32_t n, mllm_tensor **xcur, mllm_tensor *xalt) {
    const mllm_hparams *hp = &m->hp;
    const mllm_block *b = mllm_model_layer(m, l);
    mllm_tensor *a = g->acts;
    mllm_tensor *xother = *xcur == &a[MLLM_ACT_X] ? xalt : &a[MLLM_ACT_X];
    const mllm_tensor *wqkv[3] = {&b->wq, &b->wk, &b->wv};
    mllm_tensor *yqkv[3] = {&a[MLLM_ACT_Q], &a[MLLM_ACT_K], &a[MLLM_ACT_V]};
    const mllm_tensor *wgu[2] = {&b->gate, &b->up};
    mllm_tensor *ygu[2] = {&a[MLLM_ACT_GATE], &a[MLLM_ACT_UP]};
    mllm_node *nd;
    if (!same_act_type(wqkv, 3) || !same_act_type(wgu, 2)) return 1; /* caller builds it unfused */
    if (!(nd = add_joint_matmul(g, &a[MLLM_ACT_H], wqkv, yqkv, 3))) return -1;
    nd->src[0] = *xcur;
    /* layer 0 reads the embeddings as they are; later layers add the last FFN output first */
    set_pre_norm(nd, &b->attn_norm, l ? &a[MLLM_ACT_TMP] : NULL, l ? xother : NULL, 0, n, hp->eps);
    nd->epilogue = MLLM_EPI_ROPE_STORE;
    nd->layer = l;
    if (l) {
        *xcur = xother;
        xother = *xcur == &a[MLLM_ACT_X] ? xalt : &a[MLLM_ACT_X];
    }
    if (!(nd = mllm_graph_add(g, MLLM_OP_ATTENTION))) return -1;
    nd->src[0] = &a[MLLM_ACT_Q];
    nd->dst[0] = &a[MLLM_ACT_ATT];
    nd->layer = l;
    const mllm_tensor *wo[1] = {&b->wo};
    mllm_tensor *yo[1] = {&a[MLLM_ACT_TMP]};
    if (add_matmuls(g, &a[MLLM_ACT_ATT], wo, yo, 1)) return -1;
    if (!(nd = add_joint_matmul(g, *xcur, wgu, ygu, 2))) return -1;
    set_pre_norm(nd, &b->ffn_norm, &a[MLLM_ACT_TMP], xother, 0, n, hp->eps);
    nd->epilogue = MLLM_EPI_SWIGLU;
    *xcur = xother;
    const mllm_tensor *wd[1] = {&b->down};
    mllm_tensor *yd[1] = {&a[MLLM_ACT_TMP]};
    if (add_matmuls(g, &a[MLLM_ACT_GATE], wd, yd, 1)) return -1;
    return 0;
}

mllm_graph *mllm_model_build_graph(const mllm_model *m, float *const act[MLLM_ACT_COUNT], int32_t n, int32_t n_out,
                                   int32_t out_hidden, int32_t fused) {
    const mllm_hparams *hp = &m->hp;
    mllm_graph *g = mllm_graph_create(4 + hp->n_layer * 14);
    if (!g) return NULL;
    g->n_tokens = n;
    g->n_out = n_out;
    g->out_hidden = out_hidden;
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
    if (fused && !act[MLLM_ACT_X2]) fused = 0;
    if (fused) mllm_tensor_f32(&a[MLLM_ACT_X2], hp->n_embd, n, act[MLLM_ACT_X2]);
    mllm_tensor *xcur = &a[MLLM_ACT_X]; /* the residual stream (fused graphs alternate buffers) */

    mllm_node *nd = mllm_graph_add(g, MLLM_OP_GET_ROWS);
    nd->src[0] = &m->tok_embd;
    nd->dst[0] = &a[MLLM_ACT_X];
    for (int32_t l = 0; l < hp->n_layer; l++) {
        const mllm_block *b = mllm_model_layer(m, l);
        if (fused) {
            int r = build_fused_layer(g, m, l, n, &xcur, &a[MLLM_ACT_X2]);
            if (r < 0) goto fail;
            if (r == 0) continue;
            /* mixed activation types: unfused layer over the current residual buffer */
        }
        /* the previous layer's FFN output joins the residual here */
        if (!add_norm(g, xcur, &b->attn_norm, l ? &a[MLLM_ACT_TMP] : NULL, &a[MLLM_ACT_H], 0, n, hp->eps)) goto fail;
        const mllm_tensor *wqkv[3] = {&b->wq, &b->wk, &b->wv};
        mllm_tensor *yqkv[3] = {&a[MLLM_ACT_Q], &a[MLLM_ACT_K], &a[MLLM_ACT_V]};
        if (add_matmuls(g, &a[MLLM_ACT_H], wqkv, yqkv, 3)) goto fail;
        if (!(nd = mllm_graph_add(g, MLLM_OP_ROPE_STORE))) goto fail;
        nd->src[0] = &a[MLLM_ACT_Q];
        nd->src[1] = &a[MLLM_ACT_K];
        nd->src[2] = &a[MLLM_ACT_V];
        nd->layer = l;
        if (!(nd = mllm_graph_add(g, MLLM_OP_ATTENTION))) goto fail;
        nd->src[0] = &a[MLLM_ACT_Q];
        nd->dst[0] = &a[MLLM_ACT_ATT];
        nd->layer = l;
        const mllm_tensor *wo[1] = {&b->wo};
        mllm_tensor *yo[1] = {&a[MLLM_ACT_TMP]};
        if (add_matmuls(g, &a[MLLM_ACT_ATT], wo, yo, 1)) goto fail;
        if (!add_norm(g, xcur, &b->ffn_norm, &a[MLLM_ACT_TMP], &a[MLLM_ACT_H], 0, n, hp->eps)) goto fail;
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
        if (fused && !out_hidden) {
            const mllm_tensor *wout[1] = {&m->output};
            mllm_tensor *yout[1] = {&a[MLLM_ACT_OUT]};
            if (!(nd = add_joint_matmul(g, xcur, wout, yout, 1))) goto fail;
            set_pre_norm(nd, &m->output_norm, &a[MLLM_ACT_TMP], NULL, n - n_out, n_out, hp->eps);
            return g;
        }
        mllm_tensor *dst = out_hidden ? &a[MLLM_ACT_OUT] : &a[MLLM_ACT_H_OUT];
        if (!add_norm(g, xcur, &m->output_norm, &a[MLLM_ACT_TMP], dst, n - n_out, n_out, hp->eps)) goto fail;
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
