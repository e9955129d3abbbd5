/* Recording a graph into a command buffer: one record_<op> per op, each filling its kernel's
 * push constants (shaders/push_constants.h) and dispatching, a barrier between stages. Nodes the
 * fusion planner folded into a neighbour (mllm_node.fused) are done by that neighbour's kernel:
 * the matvec kernels stage decode input rows in shared memory and compute the fused RMS norm or
 * SwiGLU there, and apply RoPE + KV store or the residual add to their output rows; in larger
 * batches the activation quantization before the matmul computes the norm or SwiGLU, and the decode
 * attention writes wo's quantized input. Nothing of a particular run is recorded: positions,
 * tokens and each row's KV cache come from the step buffer, so a recorded graph serves every run
 * of its shape, whichever sessions take part. */
#ifdef MLLM_HAVE_VULKAN
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backends/vulkan/shaders/push_constants.h"
#include "backends/vulkan/shaders/step.h"
#include "backends/vulkan/vk_context.h"

/* Split-K attention for small batches (decode): the keys of one (head, token) are divided over
 * this many workgroups so that a handful of heads still fills the GPU. */
#define ATT_SPLIT 32
#define ATT_SPLIT_MAX_TOKENS 8
size_t vk_att_part_need(const mllm_graph *g, int32_t head_dim) {
    for (int32_t i = 0; i < g->n_nodes; i++) {
        const mllm_node *nd = &g->nodes[i];
        if (nd->op == MLLM_OP_ATTENTION && nd->src[0]->ne[1] <= ATT_DEC_MAX_TOKENS) {
            return (size_t)nd->src[0]->ne[1] * (size_t)(nd->src[0]->ne[0] / head_dim) * ATT_SPLIT * (size_t)(head_dim + 2) *
                   sizeof(float);
        }
    }
    return 0;
}

static uint32_t stride_f(const mllm_tensor *t) { return (uint32_t)(t->nb[1] / sizeof(float)); }

/* A layer's place in every cache of the run (step_cache in common.glsl): the full-attention layers
 * before it, and in the high half the sliding-window ones (the model's layers, the same in every
 * sequence's cache). */
static uint32_t layer_slot(const mllm_kv_cache *kv, int32_t layer) {
    uint32_t full = 0, win = 0;
    for (int32_t l = 0; l < layer; l++) {
        if (kv->layers[l].window) win++;
        else full++;
    }
    return full | win << 16;
}
static uint32_t min_u32(uint64_t a, uint64_t b) { return (uint32_t)(a < b ? a : b); }

/* Scratch needed by the graph's matmuls with q8_0/q4_0 weights: q8_0 activations + scales. */
size_t vk_qx_need(const mllm_graph *g, size_t *scale_off) {
    size_t need = 0;
    for (int32_t i = 0; i < g->n_nodes; i++) {
        const mllm_node *nd = &g->nodes[i];
        if (nd->op != MLLM_OP_MATMUL) continue;
        int32_t t = nd->src[1]->type;
        if (t != MLLM_TYPE_Q8_0 && t != MLLM_TYPE_Q4_0) continue;
        size_t e = (size_t)nd->src[0]->ne[0] * (size_t)nd->src[0]->ne[1];
        if (e > need) need = e;
    }
    *scale_off = (need + 255) & ~(size_t)255;
    return need ? *scale_off + need / 32 * sizeof(float) : 0;
}

/* What recording one graph needs besides the node at hand. A failure is kept in err: the
 * functions below then record nothing more, and record_graph returns it after the node. */
typedef struct vk_rec {
    vk_run *c;
    const mllm_kv_cache *kv; /* shape and type of the run's caches */
    VkCommandBuffer cb;
    VkDeviceAddress step;  /* the step buffer's device copy */
    size_t qx_scale_off;   /* where the q8_0 activation scales start in c->qx */
    int32_t node;          /* index of the node being recorded */
    mllm_status err;
} vk_rec;

static mllm_status rec_fail(vk_rec *r, mllm_status s, const char *what) {
    if (!r->err) r->err = mllm_fail(s, "Vulkan: node %d: %s", r->node, what);
    return r->err;
}

/* Device address of a tensor's host pointer (a weight or an activation). */
static VkDeviceAddress dev_addr(vk_rec *r, const void *host) {
    VkDeviceAddress a = vk_addr_of(r->c, host);
    if (!a) rec_fail(r, MLLM_ERR_BACKEND, "reads memory unknown to the device");
    return a;
}

static void dispatch(vk_rec *r, vk_pipe p, const void *pc, uint32_t pc_bytes, uint32_t x, uint32_t y, uint32_t z) {
    vk_run *c = r->c;
    if (r->err) return;
    if (c->prof.on) snprintf(c->prof.label, sizeof c->prof.label, "%s", vk_pipe_name(p));
    p_vkCmdBindPipeline(r->cb, VK_PIPELINE_BIND_POINT_COMPUTE, c->d->pipes[p]);
    p_vkCmdPushConstants(r->cb, c->d->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, pc_bytes, pc);
    p_vkCmdDispatch(r->cb, x ? x : 1, y ? y : 1, z ? z : 1);
    c->n_dispatch++;
}

static void record_get_rows(vk_rec *r, const mllm_node *n) {
    const vk_pc_get_rows pc = {
        .weights = dev_addr(r, n->src[0]->data),
        .dst = dev_addr(r, n->dst[0]->data),
        .step = r->step,
        .type = (uint32_t)n->src[0]->type,
        .n_cols = (uint32_t)n->src[0]->ne[0],
        .dst_stride = stride_f(n->dst[0]),
    };
    dispatch(r, VK_PIPE_get_rows, &pc, sizeof pc, (uint32_t)n->dst[0]->ne[1], 1, 1);
}

static void record_rms_norm(vk_rec *r, const mllm_node *n) {
    const int add = n->src[2] && !n->fused.residual_added;
    if (add && n->src[2]->nb[1] != n->src[0]->nb[1]) {
        rec_fail(r, MLLM_ERR_BACKEND, "residual and stream strides differ");
        return;
    }
    const vk_pc_rms_norm pc = {
        .x = dev_addr(r, n->src[0]->data),
        .weight = dev_addr(r, n->src[1]->data),
        .residual = add ? dev_addr(r, n->src[2]->data) : 0,
        .dst = dev_addr(r, n->dst[0]->data),
        .step = r->step,
        .n_cols = (uint32_t)n->src[0]->ne[0],
        .x_stride = stride_f(n->src[0]),
        .add_residual = (uint32_t)add,
        .dst_stride = stride_f(n->dst[0]),
        .row0 = (uint32_t)n->row0,
        .eps = n->eps,
        .gather = (uint32_t)n->gather,
    };
    dispatch(r, VK_PIPE_rms_norm, &pc, sizeof pc, (uint32_t)n->n_rows, 1, 1);
}

/* Above this many rows a normed quantization takes a whole row per workgroup */
#define QUANT_SHARED_NORM_ROWS 16

/* m rows of k values at x (stride floats apart) -> q8_0 activations in the run's scratch; with the
 * norm or SwiGLU before them computed on the way */
static void record_quant(vk_rec *r, VkDeviceAddress x, uint32_t k, uint32_t m, uint32_t stride, const mllm_node *norm,
                         const mllm_node *swiglu) {
    vk_run *c = r->c;
    vk_pc_quant_q8 qp = {.x = x, .quants = c->qx.addr, .scales = c->qx.addr + r->qx_scale_off, .k = k, .m = m, .x_stride = stride};
    if (norm) {
        qp.norm_weight = dev_addr(r, norm->src[1]->data);
        qp.flags = MV_NORM_IN;
        qp.eps = norm->eps;
    } else if (swiglu) {
        qp.up = dev_addr(r, swiglu->src[1]->data);
        qp.flags = MV_SWIGLU_IN;
    }
    /* a workgroup per two blocks of a row (few rows: the whole GPU at work), or per row where a norm
     * is computed for many rows (each workgroup sums its row's squares) */
    const uint32_t pairs = (k / 32 + 1) / 2;
    qp.pairs_per_group = norm && m > QUANT_SHARED_NORM_ROWS ? pairs : 1;
    const uint64_t groups = (uint64_t)m * ((pairs + qp.pairs_per_group - 1) / qp.pairs_per_group);
    dispatch(r, VK_PIPE_quant_q8, &qp, sizeof qp, min_u32(groups, 65535), 1, 1);
}

/* A matvec kernel and the input rows each of its workgroups takes. */
typedef struct {
    vk_pipe pipe;
    uint32_t rows_per_group;
} mv_kernel;

/* Activation rows per workgroup of the unstaged q8_0/q4_0 kernels: 8 for prompts and for large
 * outputs (the vocabulary head has workgroups enough); a few sequences' tokens take fewer, so that
 * more workgroups share the work (an H100, 8 sequences of the 125M shape: 2 rows 4,800 t/s, 4 rows
 * 4,440, 8 rows 3,400; 16 sequences: 2 and 4 rows within 5% of each other).
 * MLLM_VULKAN_BATCH_NC forces 2, 4 or 8. */
static uint32_t batch_rows_per_group(const vk_dev *d, uint32_t m, int64_t n_rows) {
    if (d->batch_nc) return (uint32_t)d->batch_nc;
    if (m > MV_BATCH_FUSED_ROWS || n_rows >= 8192) return 8;
    return m <= 8 ? 2 : 4;
}

/* The matvec kernel for a weight type: 8 prompt rows per workgroup (2 or 4 for a few sequences'
 * tokens, batch_rows_per_group); one decode row staged by the kernel (with the SwiGLU input through
 * a shared row, see mul_mv.comp's XF_STAGE); or a few rows staged MV_STEP_ROWS per workgroup
 * (q8_0/q4_0, the only types staged_matmul stages several rows of: several sequences' decode steps).
 * q8_0/q4_0 take the *_dot4 variants where the device has integer dot products (same bits). */
static mv_kernel mv_kernel_for(const vk_dev *d, int32_t type, int staged, uint32_t m, int64_t n_rows, int swiglu_in) {
    const int q8 = type == MLLM_TYPE_Q8_0, dot = d->dot4;
    if (type == MLLM_TYPE_F32) return staged ? (mv_kernel){VK_PIPE_mv_f32_1, 1} : (mv_kernel){VK_PIPE_mv_f32_8, 8};
    if (type == MLLM_TYPE_F16) return staged ? (mv_kernel){VK_PIPE_mv_f16_1, 1} : (mv_kernel){VK_PIPE_mv_f16_8, 8};
    const uint32_t nc = staged ? 0 : batch_rows_per_group(d, m, n_rows);
    if (nc == 2 || nc == 4) {
        static const vk_pipe few[2][2][2] = { /* [dot4][q8][2 rows: 0, 4 rows: 1] */
            {{VK_PIPE_mv_q4_0_2, VK_PIPE_mv_q4_0_4}, {VK_PIPE_mv_q8_0_2, VK_PIPE_mv_q8_0_4}},
            {{VK_PIPE_mv_q4_0_2_dot4, VK_PIPE_mv_q4_0_4_dot4}, {VK_PIPE_mv_q8_0_2_dot4, VK_PIPE_mv_q8_0_4_dot4}}};
        return (mv_kernel){few[dot][q8][nc == 4], nc};
    }
    if (!staged) {
        const vk_pipe p = q8 ? (dot ? VK_PIPE_mv_q8_0_8_dot4 : VK_PIPE_mv_q8_0_8) : (dot ? VK_PIPE_mv_q4_0_8_dot4 : VK_PIPE_mv_q4_0_8);
        return (mv_kernel){p, 8};
    }
    if (m > 1) {
        const vk_pipe p = q8 ? (dot ? VK_PIPE_mv_q8_0_f2_dot4 : VK_PIPE_mv_q8_0_f2) : (dot ? VK_PIPE_mv_q4_0_f2_dot4 : VK_PIPE_mv_q4_0_f2);
        return (mv_kernel){p, MV_STEP_ROWS};
    }
    const int shared_row = d->xf_mode == 1 || (d->xf_mode == 2 && swiglu_in);
    static const vk_pipe one_row[2][2][2] = { /* [dot4][q8][shared_row] */
        {{VK_PIPE_mv_q4_0_1s, VK_PIPE_mv_q4_0_1}, {VK_PIPE_mv_q8_0_1s, VK_PIPE_mv_q8_0_1}},
        {{VK_PIPE_mv_q4_0_1s_dot4, VK_PIPE_mv_q4_0_1_dot4}, {VK_PIPE_mv_q8_0_1s_dot4, VK_PIPE_mv_q8_0_1_dot4}}};
    return (mv_kernel){one_row[dot][q8][shared_row], 1};
}

/* Whether the kernels stage this matmul's input themselves (and so can run its fusions): one row
 * of up to FUSEX_KMAX values, or up to FUSEX_WIDE_ROWS rows of FUSEX_WIDE_K with q8_0/q4_0 weights. */
static int staged_matmul(const mllm_node *n, uint32_t k, uint32_t m) {
    if (m == 1) return k <= FUSEX_KMAX;
    if (m > FUSEX_WIDE_ROWS || k > FUSEX_WIDE_K) return 0;
    for (int w = 0; w < n->n_w; w++) {
        const int32_t t = n->src[1 + w]->type;
        if (t != MLLM_TYPE_Q8_0 && t != MLLM_TYPE_Q4_0) return 0;
    }
    return 1;
}

/* One dispatch per weight (gate and up share one in decode: MV_DUAL), with the fusions the
 * planner marked: the norm or SwiGLU before it computed while staging the input, and the
 * RoPE + KV store or residual add after it done on the output rows. */
static void record_matmul(vk_rec *r, const mllm_node *n) {
    vk_run *c = r->c;
    const mllm_kv_cache *kv = r->kv;
    const mllm_node *norm = n->fused.pre_norm, *swiglu = n->fused.pre_swiglu, *post = n->fused.post;
    const mllm_tensor *x = n->src[0];
    const uint32_t k = (uint32_t)x->ne[0], m = (uint32_t)x->ne[1];
    const int32_t wt = n->src[1]->type;
    const int quant = wt == MLLM_TYPE_Q8_0 || wt == MLLM_TYPE_Q4_0;
    if (k % 32 != 0) {
        rec_fail(r, MLLM_ERR_UNSUPPORTED, "matmul rows are not a multiple of 32 values");
        return;
    }
    /* decode: the matvec kernels stage, convert and quantize x themselves; larger batches with
     * q8_0/q4_0 weights: the quantization computes a fused norm or SwiGLU */
    const int staged = staged_matmul(n, k, m);
    if (!staged && !quant && (norm || swiglu || post)) {
        rec_fail(r, MLLM_ERR_BACKEND, "a fusion on a matmul the kernels cannot fuse");
        return;
    }
    /* with a fused norm the kernel reads the norm's input rows */
    const VkDeviceAddress xa = norm ? dev_addr(r, mllm_tensor_row(norm->src[0], norm->row0)) : dev_addr(r, x->data);
    if (quant && !staged && !n->fused.input_quantized) { /* the node's weights share one activation type: quantize once */
        record_quant(r, xa, k, m, stride_f(x), norm, swiglu);
        vk_stage_end(c, r->cb);
    }
    const int rope = post && post->op == MLLM_OP_ROPE_STORE, accumulate = post && post->op == MLLM_OP_RMS_NORM;
    const int dual = staged && n->n_w == 2 && !swiglu && n->src[1]->type == n->src[2]->type &&
                     n->src[1]->ne[1] == n->src[2]->ne[1] && n->dst[0]->nb[1] == n->dst[1]->nb[1];
    for (int w = 0; w < (dual ? 1 : n->n_w); w++) {
        const mllm_tensor *wm = n->src[1 + w];
        vk_pc_mul_mv pc = {
            .weights = dev_addr(r, wm->data),
            .x = quant && !staged ? c->qx.addr : xa,
            .x_scales = quant && !staged ? c->qx.addr + r->qx_scale_off : 0,
            .y = dev_addr(r, n->dst[w]->data),
            .step = r->step,
            .k = k,
            .n_rows = (uint32_t)wm->ne[1],
            .m = m,
            .x_stride = stride_f(x),
            .y_stride = stride_f(n->dst[w]),
        };
        if (swiglu && staged) {
            pc.up = dev_addr(r, swiglu->src[1]->data);
            pc.flags |= MV_SWIGLU_IN;
        }
        if (norm && staged) {
            pc.norm_weight = dev_addr(r, norm->src[1]->data);
            pc.flags |= MV_NORM_IN;
            pc.eps = norm->eps;
        }
        if (accumulate) { /* y = stream + W x */
            pc.y = dev_addr(r, post->src[0]->data);
            pc.flags |= MV_ACCUMULATE;
        }
        if (rope) { /* q: rotate in place; k: rotate into each row's cache; v: into the cache */
            const uint32_t f16 = kv->type == MLLM_KV_F16 ? MV_KV_F16 : 0u;
            pc.flags |= w == 0 ? MV_ROPE : w == 1 ? MV_ROPE | MV_TO_KV | f16 : MV_TO_KV | f16;
            pc.rope = c->rope.addr;
            pc.rope_sin_offset = (uint32_t)(c->rope_half_bytes / sizeof(float));
            pc.head_dim = (uint32_t)kv->head_dim;
            pc.cache_row = (uint32_t)kv->row;
            pc.slot = layer_slot(kv, post->layer);
        }
        if (dual) {
            pc.flags |= MV_DUAL;
            pc.weights2 = dev_addr(r, n->src[2]->data);
            pc.y2 = dev_addr(r, n->dst[1]->data);
        }
        /* decode: at most mv_groups workgroups, each looping over row groups, so the input row is
         * staged (normed, quantized) once per workgroup, not once per 4 rows (the 32000-row
         * output head took 60 us on an H200 restaging 8000 times) */
        const uint64_t groups = (uint64_t)(dual ? 2 : 1) * (uint64_t)((wm->ne[1] + 3) / 4);
        const mv_kernel kn = mv_kernel_for(c->d, wm->type, staged, m, wm->ne[1], swiglu != NULL);
        dispatch(r, kn.pipe, &pc, sizeof pc, min_u32(groups, staged ? (uint64_t)c->d->mv_groups : 65535),
                 (m + kn.rows_per_group - 1) / kn.rows_per_group, 1);
        if (c->prof.on) snprintf(c->prof.label, sizeof c->prof.label, "%s r%u k%u", vk_pipe_name(kn.pipe), pc.n_rows, k);
    }
}

static void record_rope_store(vk_rec *r, const mllm_node *n) {
    static const mllm_attn_layer plain = {.rope = 1};
    const mllm_attn_layer *at = n->attn ? n->attn : &plain;
    vk_run *c = r->c;
    const uint32_t hd = (uint32_t)r->kv->head_dim;
    if (n->src[2]->nb[1] != n->src[1]->nb[1]) {
        rec_fail(r, MLLM_ERR_BACKEND, "k and v strides differ");
        return;
    }
    const vk_pc_rope_store pc = {
        .q = dev_addr(r, n->src[0]->data),
        .k = dev_addr(r, n->src[1]->data),
        .v = dev_addr(r, n->src[2]->data),
        .rope_cos = c->rope.addr,
        .rope_sin = c->rope.addr + c->rope_half_bytes,
        .step = r->step,
        .head_dim = hd,
        .n_head = (uint32_t)(n->src[0]->ne[0] / hd),
        .n_kv = (uint32_t)(n->src[1]->ne[0] / hd),
        .q_stride = stride_f(n->src[0]),
        .kv_stride = stride_f(n->src[1]),
        .cache_f16 = r->kv->type == MLLM_KV_F16,
        .cache_row = (uint32_t)r->kv->row,
        .slot = layer_slot(r->kv, n->layer),
        .flags = (at->rope ? RS_ROPE : 0u) | (at->qk_norm ? RS_QK_NORM : 0u) | (at->temp_tuning ? RS_TEMP : 0u),
        .window = (uint32_t)at->window,
        .eps = at->eps,
        .temp_scale = at->temp_scale,
        .temp_floor = (uint32_t)(at->temp_floor > 0 ? at->temp_floor : 1),
    };
    dispatch(r, VK_PIPE_rope_store, &pc, sizeof pc, (uint32_t)n->src[0]->ne[1], 1, 1);
}

/* A few tokens over f16 caches with 64-value heads: one dispatch (attention_dec); other small
 * batches: split-K attention plus a combine pass; prompts: one workgroup per (head, token). Each
 * token reads its own sequence's cache up to its own position (step buffer). */
static void record_attention(vk_rec *r, const mllm_node *n) {
    vk_run *c = r->c;
    const mllm_kv_cache *kv = r->kv;
    const uint32_t hd = (uint32_t)kv->head_dim, n_head = (uint32_t)(n->src[0]->ne[0] / hd), n_tok = (uint32_t)n->src[0]->ne[1];
    if (hd > 256 || hd % 2) {
        rec_fail(r, MLLM_ERR_UNSUPPORTED, "head_dim unsupported (even, <= 256)");
        return;
    }
    const VkDeviceAddress q = dev_addr(r, n->src[0]->data), dst = dev_addr(r, n->dst[0]->data);
    const float scale = 1.0f / sqrtf((float)hd);
    const uint32_t slot = layer_slot(kv, n->layer), window = n->attn ? (uint32_t)n->attn->window : 0u;
    if (n_tok <= ATT_DEC_MAX_TOKENS && hd == 64 && kv->type == MLLM_KV_F16 && n_head <= ATT_MAX_HEADS && kv->row % 8 == 0 &&
        q % 16 == 0 && stride_f(n->src[0]) % 4 == 0) {
        vk_pc_attention_dec pc = {.q = q, .dst = dst, .partials = c->att_part.addr,
                                  .step = r->step, .n_head = n_head, .n_kv = (uint32_t)(kv->row / kv->head_dim),
                                  .cache_row = (uint32_t)kv->row, .n_split = ATT_SPLIT, .scale = scale,
                                  .slot = slot, .q_stride = stride_f(n->src[0]),
                                  .dst_stride = stride_f(n->dst[0]), .window = window};
        if (n->fused.quant_for) { /* the wo projection's input, quantized by the merging workgroups */
            pc.quants = c->qx.addr;
            pc.scales = c->qx.addr + r->qx_scale_off;
        }
        /* the counters: the set bound for the pipeline layout (vk_bind_counters) */
        p_vkCmdBindDescriptorSets(r->cb, VK_PIPELINE_BIND_POINT_COMPUTE, c->d->layout, 0, 1, &c->ctr_set, 0, NULL);
        dispatch(r, VK_PIPE_attention_dec, &pc, sizeof pc, n_head, ATT_SPLIT, n_tok);
        return;
    }
    const int split = n_tok <= ATT_SPLIT_MAX_TOKENS;
    const vk_pc_attention pc = {.q = q, .dst = dst, .partials = split ? c->att_part.addr : 0, .step = r->step, .head_dim = hd,
                                .n_head = n_head, .n_kv = (uint32_t)(kv->row / kv->head_dim), .q_stride = stride_f(n->src[0]),
                                .dst_stride = stride_f(n->dst[0]), .cache_f16 = kv->type == MLLM_KV_F16,
                                .cache_row = (uint32_t)kv->row, .n_split = split ? ATT_SPLIT : 0, .scale = scale,
                                .slot = slot, .window = window};
    dispatch(r, VK_PIPE_attention, &pc, sizeof pc, n_head, n_tok, split ? ATT_SPLIT : 1);
    if (split) {
        vk_stage_end(c, r->cb);
        const vk_pc_attn_combine cp = {.dst = dst, .partials = c->att_part.addr, .head_dim = hd, .n_head = n_head,
                                       .dst_stride = stride_f(n->dst[0]), .n_split = ATT_SPLIT};
        dispatch(r, VK_PIPE_attn_combine, &cp, sizeof cp, n_head, n_tok, 1);
    }
    if (n->fused.quant_for) { /* these kernels do not quantize: a pass of its own */
        vk_stage_end(c, r->cb);
        record_quant(r, dst, (uint32_t)n->dst[0]->ne[0], n_tok, stride_f(n->dst[0]), NULL, NULL);
    }
}

static void record_swiglu(vk_rec *r, const mllm_node *n) {
    const mllm_tensor *gate = n->dst[0], *up = n->src[1];
    if (gate->nb[1] != (size_t)gate->ne[0] * sizeof(float) || up->nb[1] != gate->nb[1]) {
        rec_fail(r, MLLM_ERR_BACKEND, "swiglu over non-contiguous tensors");
        return;
    }
    const uint64_t total = (uint64_t)gate->ne[0] * (uint64_t)gate->ne[1];
    const vk_pc_swiglu pc = {.gate = dev_addr(r, gate->data), .up = dev_addr(r, up->data), .n = (uint32_t)total};
    dispatch(r, VK_PIPE_swiglu, &pc, sizeof pc, min_u32((total + 255) / 256, 65535), 1, 1);
}

typedef void (*record_fn)(vk_rec *r, const mllm_node *n);
static const record_fn k_record[MLLM_OP_COUNT] = {
    [MLLM_OP_GET_ROWS] = record_get_rows,
    [MLLM_OP_RMS_NORM] = record_rms_norm,
    [MLLM_OP_MATMUL] = record_matmul,
    [MLLM_OP_ROPE_STORE] = record_rope_store,
    [MLLM_OP_ATTENTION] = record_attention,
    [MLLM_OP_SWIGLU] = record_swiglu,
};

/* The output rows go to the host-visible readback buffer in the same submission. */
static mllm_status record_readback(vk_run *c, const mllm_graph *g, VkCommandBuffer cb) {
    const mllm_tensor *out = &g->acts[MLLM_ACT_OUT];
    const vk_act *a = NULL;
    for (int j = 0; j < VK_MAX_ACTS; j++) {
        if (c->acts[j].host && (const char *)out->data >= c->acts[j].host &&
            (const char *)out->data < c->acts[j].host + c->acts[j].bytes) a = &c->acts[j];
    }
    if (!a) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: output tensor unknown to the device");
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT};
    p_vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
    VkBufferCopy reg = {.srcOffset = (VkDeviceSize)((const char *)out->data - a->host), .dstOffset = 0,
                        .size = (VkDeviceSize)g->n_out * out->nb[1]};
    p_vkCmdCopyBuffer(cb, a->dev.buf, c->readback.buf, 1, &reg);
    VkMemoryBarrier hb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    p_vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &hb, 0, NULL, 0, NULL);
    return MLLM_OK;
}

mllm_status vk_record_graph(vk_run *c, const mllm_graph *g, const mllm_kv_cache *kv, VkCommandBuffer cb) {
    vk_rec r = {.c = c, .kv = kv, .cb = cb, .step = c->step_dev.addr};
    vk_qx_need(g, &r.qx_scale_off);
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    VKCHECK(p_vkBeginCommandBuffer(cb, &bi), "vkBeginCommandBuffer");
    vk_full_barrier(cb); /* earlier submissions (KV cache, uploads) before this one */
    /* positions, token ids and caches, read by most kernels: one copy into device memory, so they
     * are not fetched across the bus by every workgroup */
    VkBufferCopy sc = {.srcOffset = 0, .dstOffset = 0,
                       .size = (VkDeviceSize)(STEP_ROWS + STEP_ROW_WORDS * g->n_tokens) * sizeof(int32_t)};
    p_vkCmdCopyBuffer(cb, c->step.buf, c->step_dev.buf, 1, &sc);
    vk_full_barrier(cb);
    vk_profile_begin(c, cb);
    for (r.node = 0; r.node < g->n_nodes; r.node++) {
        const mllm_node *n = &g->nodes[r.node];
        if (n->fused.done_by) continue;
        k_record[n->op](&r, n);
        if (r.err) return r.err;
        vk_stage_end(c, cb);
    }
    if (g->n_out > 0) {
        mllm_status st = record_readback(c, g, cb);
        if (st) return st;
    }
    VKCHECK(p_vkEndCommandBuffer(cb), "vkEndCommandBuffer");
    return MLLM_OK;
}

#endif
