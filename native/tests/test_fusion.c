/* The fusion planner (graph/fusion.h) on the graph of one transformer layer plus the output head,
 * built node by node as model_graph.c builds it, against the marks worked out by hand for the CPU
 * backend's capabilities (every fusion, any batch) and the Vulkan backend's (decode only, SwiGLU
 * before the down projection, rows up to a limit; larger batches by a rule of their own). Also the cases where fusing would change what
 * another node reads: a norm output read by two matmuls, and the graph's output tensor. */
#include <string.h>

#include "graph/fusion.h"
#include "util/test_check.h"

enum { DIM = 8, FFN = 16, VOCAB = 32 };

/* Distinct buffers for every tensor (the planner compares data pointers). */
typedef struct layer_graph {
    float x[4 * DIM], h[4 * DIM], q[4 * DIM], k[4 * DIM], v[4 * DIM], att[4 * DIM], tmp[4 * DIM];
    float gate[4 * FFN], up[4 * FFN], out[4 * VOCAB];
    float w[9][DIM * FFN];
    mllm_tensor tw[9];
    mllm_graph *g;
    mllm_node *norm1, *qkv, *qkv2, *rope, *attn, *wo, *norm2, *gu, *swiglu, *down, *norm_out, *head;
} layer_graph;

static mllm_node *add(layer_graph *lg, mllm_op op) { return mllm_graph_add(lg->g, op); }

/* n tokens; split_qkv: q in one matmul node, k and v in another (mixed activation types). */
static void build(layer_graph *lg, int n, int split_qkv) {
    memset(lg, 0, sizeof *lg);
    lg->g = mllm_graph_create(32);
    mllm_tensor *a = lg->g->acts;
    mllm_tensor_f32(&a[MLLM_ACT_X], DIM, n, lg->x);
    mllm_tensor_f32(&a[MLLM_ACT_H], DIM, n, lg->h);
    mllm_tensor_f32(&a[MLLM_ACT_Q], DIM, n, lg->q);
    mllm_tensor_f32(&a[MLLM_ACT_K], DIM, n, lg->k);
    mllm_tensor_f32(&a[MLLM_ACT_V], DIM, n, lg->v);
    mllm_tensor_f32(&a[MLLM_ACT_ATT], DIM, n, lg->att);
    mllm_tensor_f32(&a[MLLM_ACT_TMP], DIM, n, lg->tmp);
    mllm_tensor_f32(&a[MLLM_ACT_GATE], FFN, n, lg->gate);
    mllm_tensor_f32(&a[MLLM_ACT_UP], FFN, n, lg->up);
    mllm_tensor_f32(&a[MLLM_ACT_H_OUT], DIM, 1, lg->h);
    mllm_tensor_f32(&a[MLLM_ACT_OUT], VOCAB, 1, lg->out);
    const int64_t rows[9] = {DIM, DIM, DIM, DIM, FFN, FFN, DIM, VOCAB, 1};
    for (int i = 0; i < 9; i++) mllm_tensor_f32(&lg->tw[i], i == 6 ? FFN : DIM, rows[i], lg->w[i]);

    mllm_node *nd = lg->norm1 = add(lg, MLLM_OP_RMS_NORM); /* with the previous layer's residual */
    nd->src[0] = &a[MLLM_ACT_X], nd->src[1] = &lg->tw[8], nd->src[2] = &a[MLLM_ACT_TMP], nd->dst[0] = &a[MLLM_ACT_H];
    nd->n_rows = n;
    nd = lg->qkv = add(lg, MLLM_OP_MATMUL);
    nd->src[0] = &a[MLLM_ACT_H], nd->src[1] = &lg->tw[0], nd->dst[0] = &a[MLLM_ACT_Q], nd->n_w = 1;
    if (split_qkv) nd = lg->qkv2 = add(lg, MLLM_OP_MATMUL), nd->src[0] = &a[MLLM_ACT_H];
    nd->src[1 + nd->n_w] = &lg->tw[1], nd->dst[nd->n_w++] = &a[MLLM_ACT_K];
    nd->src[1 + nd->n_w] = &lg->tw[2], nd->dst[nd->n_w++] = &a[MLLM_ACT_V];
    nd = lg->rope = add(lg, MLLM_OP_ROPE_STORE);
    nd->src[0] = &a[MLLM_ACT_Q], nd->src[1] = &a[MLLM_ACT_K], nd->src[2] = &a[MLLM_ACT_V];
    nd = lg->attn = add(lg, MLLM_OP_ATTENTION);
    nd->src[0] = &a[MLLM_ACT_Q], nd->dst[0] = &a[MLLM_ACT_ATT];
    nd = lg->wo = add(lg, MLLM_OP_MATMUL);
    nd->src[0] = &a[MLLM_ACT_ATT], nd->src[1] = &lg->tw[3], nd->dst[0] = &a[MLLM_ACT_TMP], nd->n_w = 1;
    nd = lg->norm2 = add(lg, MLLM_OP_RMS_NORM);
    nd->src[0] = &a[MLLM_ACT_X], nd->src[1] = &lg->tw[8], nd->src[2] = &a[MLLM_ACT_TMP], nd->dst[0] = &a[MLLM_ACT_H];
    nd->n_rows = n;
    nd = lg->gu = add(lg, MLLM_OP_MATMUL);
    nd->src[0] = &a[MLLM_ACT_H], nd->src[1] = &lg->tw[4], nd->src[2] = &lg->tw[5], nd->n_w = 2;
    nd->dst[0] = &a[MLLM_ACT_GATE], nd->dst[1] = &a[MLLM_ACT_UP];
    nd = lg->swiglu = add(lg, MLLM_OP_SWIGLU);
    nd->dst[0] = &a[MLLM_ACT_GATE], nd->src[1] = &a[MLLM_ACT_UP];
    nd = lg->down = add(lg, MLLM_OP_MATMUL);
    nd->src[0] = &a[MLLM_ACT_GATE], nd->src[1] = &lg->tw[6], nd->dst[0] = &a[MLLM_ACT_TMP], nd->n_w = 1;
    nd = lg->norm_out = add(lg, MLLM_OP_RMS_NORM); /* the last row, for the head */
    nd->src[0] = &a[MLLM_ACT_X], nd->src[1] = &lg->tw[8], nd->src[2] = &a[MLLM_ACT_TMP], nd->dst[0] = &a[MLLM_ACT_H_OUT];
    nd->row0 = n - 1, nd->n_rows = 1;
    nd = lg->head = add(lg, MLLM_OP_MATMUL);
    nd->src[0] = &a[MLLM_ACT_H_OUT], nd->src[1] = &lg->tw[7], nd->dst[0] = &a[MLLM_ACT_OUT], nd->n_w = 1;
}

static const mllm_fusion_caps k_cpu = {.kinds = MLLM_FUSE_PRE_NORM | MLLM_FUSE_ADD_RESIDUAL | MLLM_FUSE_ROPE_STORE |
                                                MLLM_FUSE_SWIGLU_AFTER};
static const mllm_fusion_caps k_vulkan = {.kinds = MLLM_FUSE_PRE_NORM | MLLM_FUSE_ADD_RESIDUAL | MLLM_FUSE_ROPE_STORE |
                                                   MLLM_FUSE_SWIGLU_BEFORE,
                                          .max_rows = 1, .max_k = 3584, .rope_rows = 4};

static void test_cpu(void) {
    layer_graph lg;
    build(&lg, 5, 0);
    mllm_graph_plan_fusions(lg.g, &k_cpu);
    /* the first norm keeps its residual (nothing before it adds it), so it cannot be folded */
    CHECK(!lg.norm1->fused.done_by && !lg.norm1->fused.residual_added && !lg.qkv->fused.pre_norm);
    CHECK(lg.qkv->fused.post == lg.rope && lg.rope->fused.done_by == lg.qkv);
    CHECK(!lg.attn->fused.done_by);
    CHECK(lg.wo->fused.post == lg.norm2 && lg.norm2->fused.residual_added);
    CHECK(lg.gu->fused.pre_norm == lg.norm2 && lg.norm2->fused.done_by == lg.gu);
    CHECK(lg.gu->fused.post == lg.swiglu && lg.swiglu->fused.done_by == lg.gu);
    CHECK(!lg.down->fused.pre_swiglu && lg.down->fused.post == lg.norm_out && lg.norm_out->fused.residual_added);
    CHECK(lg.head->fused.pre_norm == lg.norm_out && lg.norm_out->fused.done_by == lg.head);
    mllm_graph_free(lg.g);
}

static void test_vulkan_decode(void) {
    layer_graph lg;
    build(&lg, 1, 0);
    mllm_graph_plan_fusions(lg.g, &k_vulkan);
    CHECK(lg.qkv->fused.post == lg.rope && lg.rope->fused.done_by == lg.qkv);
    CHECK(lg.wo->fused.post == lg.norm2 && lg.norm2->fused.residual_added && lg.gu->fused.pre_norm == lg.norm2);
    /* no SwiGLU epilogue on Vulkan: the down projection computes it while reading its input */
    CHECK(!lg.gu->fused.post && lg.down->fused.pre_swiglu == lg.swiglu && lg.swiglu->fused.done_by == lg.down);
    CHECK(lg.down->fused.post == lg.norm_out && lg.head->fused.pre_norm == lg.norm_out);
    mllm_graph_free(lg.g);
}

static void test_vulkan_prompt(void) {
    layer_graph lg;
    build(&lg, 5, 0);
    mllm_graph_plan_fusions(lg.g, &k_vulkan);
    /* 5 rows exceed max_rows: nothing fused but the head, whose input is one row; its norm keeps
     * the residual the (unfused) down projection left, so it stays a node of its own */
    for (int32_t i = 0; i < lg.g->n_nodes; i++) {
        const mllm_node_fusion *f = &lg.g->nodes[i].fused;
        CHECK(!f->done_by && !f->pre_norm && !f->pre_swiglu && !f->post && !f->residual_added, "node %d", i);
    }
    mllm_graph_free(lg.g);
}

/* The batch rule: more rows than the fused kernels stage, at most batch_rows, weights of the batch
 * types: the batch kinds, the attention quantizing wo's input among them. */
static void test_vulkan_batch(void) {
    mllm_fusion_caps caps = k_vulkan;
    caps.batch_rows = 16;
    caps.batch_kinds = MLLM_FUSE_PRE_NORM | MLLM_FUSE_ADD_RESIDUAL | MLLM_FUSE_ROPE_STORE | MLLM_FUSE_SWIGLU_BEFORE |
                       MLLM_FUSE_ATTN_QUANT;
    caps.batch_types = 1ull << MLLM_TYPE_F32;
    layer_graph lg;
    build(&lg, 5, 0);
    mllm_graph_plan_fusions(lg.g, &caps);
    CHECK(!lg.norm1->fused.done_by && lg.qkv->fused.post == lg.rope && lg.rope->fused.done_by == lg.qkv);
    CHECK(lg.attn->fused.quant_for == lg.wo && lg.wo->fused.input_quantized && !lg.attn->fused.done_by);
    CHECK(lg.wo->fused.post == lg.norm2 && lg.norm2->fused.residual_added && lg.gu->fused.pre_norm == lg.norm2);
    CHECK(!lg.gu->fused.post && lg.down->fused.pre_swiglu == lg.swiglu && lg.down->fused.post == lg.norm_out);
    CHECK(lg.head->fused.pre_norm == lg.norm_out); /* one row: the decode rule */
    mllm_graph_free(lg.g);
    /* more rows than batch_rows, or weights of another type: as before, nothing fused */
    for (int t = 0; t < 2; t++) {
        build(&lg, t ? 5 : 17, 0);
        if (t) caps.batch_types = 1ull << MLLM_TYPE_Q8_0;
        mllm_graph_plan_fusions(lg.g, &caps);
        CHECK(!lg.qkv->fused.post && !lg.attn->fused.quant_for && !lg.wo->fused.input_quantized && !lg.wo->fused.post);
        CHECK(!lg.gu->fused.pre_norm && !lg.down->fused.pre_swiglu);
        mllm_graph_free(lg.g);
    }
}

static void test_not_fused(void) {
    layer_graph lg;
    /* q and k/v in separate matmuls: both read the norm's output (first layer: no residual), and
     * the RoPE needs all three */
    build(&lg, 1, 1);
    lg.norm1->src[2] = NULL;
    mllm_graph_plan_fusions(lg.g, &k_cpu);
    CHECK(!lg.qkv->fused.pre_norm && !lg.norm1->fused.done_by);
    CHECK(!lg.qkv->fused.post && !lg.qkv2->fused.post && !lg.rope->fused.done_by);
    mllm_graph_free(lg.g);
    /* RoPE rows not a multiple of the backend's group (DIM = 8 rows, groups of 16) */
    build(&lg, 1, 0);
    mllm_fusion_caps caps = k_vulkan;
    caps.rope_rows = 16;
    mllm_graph_plan_fusions(lg.g, &caps);
    CHECK(!lg.qkv->fused.post && !lg.rope->fused.done_by);
    mllm_graph_free(lg.g);
    /* the head's norm writing the graph's output (hidden states read by the host): kept */
    build(&lg, 1, 0);
    lg.norm_out->dst[0] = &lg.g->acts[MLLM_ACT_OUT];
    lg.head->src[0] = &lg.g->acts[MLLM_ACT_OUT];
    mllm_graph_plan_fusions(lg.g, &k_cpu);
    CHECK(!lg.head->fused.pre_norm && !lg.norm_out->fused.done_by);
    mllm_graph_free(lg.g);
}

int main(void) {
    test_cpu();
    test_vulkan_decode();
    test_vulkan_prompt();
    test_vulkan_batch();
    test_not_fused();
    return test_result("test_fusion");
}
