/* Compute graph: an ordered list of nodes over tensors, built once per shape (rows, output rows)
 * and executed by a backend. Every node is run by all threads of the backend (each takes its
 * share); the CPU backend puts a barrier between consecutive nodes. The rows of one run may belong
 * to several sequences (batched decoding): matmuls and norms treat all rows alike, while RoPE, the
 * KV store and attention take each row's position and KV cache from the run's sequence table
 * (mllm_exec.seqs). */
#ifndef MLLM_GRAPH_H
#define MLLM_GRAPH_H

#include <math.h>
#include <stdint.h>

#include "core/tensor.h"

struct mllm_kv_cache;

typedef enum mllm_op {
    MLLM_OP_GET_ROWS,   /* dst0[i] = row tokens[i] of src0 (dequantized) */
    MLLM_OP_RMS_NORM,   /* if src2: src0 += src2 (residual); dst0 = rms_norm(src0) * src1, rows [row0, row0+n_rows) */
    MLLM_OP_MATMUL,     /* dst[w] = src0 x src[1+w]^T for w < n_w (weights sharing one activation conversion) */
    MLLM_OP_ROPE_STORE, /* position src0 (q) and src1 (k) in place as `attn` says (RoPE, QK-norm, temperature),
                         * store k and src2 (v) in the KV cache of `layer` */
    MLLM_OP_ATTENTION,  /* dst0 = causal GQA attention of src0 (q) over the KV cache of `layer` (within
                         * attn->window) */
    MLLM_OP_SWIGLU,     /* dst0 = silu(dst0) * src1, in place over the gate */
    MLLM_OP_COUNT
} mllm_op;

#define MLLM_MAX_SRC 4
#define MLLM_MAX_DST 3

struct mllm_node;

/* How one layer's attention treats positions: filled by the model for every applied layer, read by
 * ROPE_STORE and ATTENTION nodes (mllm_node.attn). The 2024 MobileLLM models have RoPE on every
 * layer and nothing else; MobileLLM-R1 adds QK-norm, MobileLLM-Pro sliding windows (and possibly
 * NoPE layers with temperature tuning, as Llama 4 has). */
typedef struct mllm_attn_layer {
    int32_t rope;        /* 1: rotate q and k by their positions (adjacent pairs, the session's tables) */
    int32_t qk_norm;     /* 1: after RoPE, a weightless RMS norm of every q and k head (epsilon eps) */
    int32_t temp_tuning; /* 1: q *= 1 + temp_scale * log(floor((pos + 1) / temp_floor) + 1) (Llama 4's
                          * attention temperature tuning) */
    int32_t window;      /* > 0: the query at pos sees the keys of pos - window + 1 .. pos; 0: all */
    float eps;
    float temp_scale;
    int32_t temp_floor;
} mllm_attn_layer;

/* Whether a layer is the plain RoPE attention of the 2024 models (what fused kernels implement). */
static inline int mllm_attn_is_plain(const mllm_attn_layer *a) {
    return a->rope && !a->qk_norm && !a->temp_tuning && !a->window;
}

/* The query scale of temperature tuning at position pos. */
static inline float mllm_attn_temperature(const mllm_attn_layer *a, int32_t pos) {
    return 1.0f + a->temp_scale * logf((float)((pos + 1) / a->temp_floor) + 1.0f);
}

/* How a node is fused with its neighbours: written by the fusion planner (graph/fusion.h), all
 * zero in a graph as built. A backend runs the fused node in one step, so the intermediate
 * tensor is never written and the barrier between the two nodes disappears. */
typedef struct mllm_node_fusion {
    const struct mllm_node *done_by;    /* set: another node does this node's work; skip it */
    /* matmul: its input is the output of this RMS norm (without residual), computed here */
    const struct mllm_node *pre_norm;
    /* matmul: its input is the output of this SwiGLU, computed here */
    const struct mllm_node *pre_swiglu;
    /* matmul: work done on its output rows as they are computed: this ROPE_STORE (weights q, k, v)
     * or SWIGLU (weights gate, up), or the residual add of this RMS norm (the matmul's only output
     * is that norm's src2: it is added into the norm's src0 instead) */
    const struct mllm_node *post;
    int32_t residual_added;             /* rms_norm: its src2 was added by the matmul before it */
    /* attention: it also writes its output as this matmul's quantized input (the matmul's
     * input_quantized is set: the backend quantizes no more) */
    const struct mllm_node *quant_for;
    int32_t input_quantized;
} mllm_node_fusion;

typedef struct mllm_node {
    mllm_op op;
    int32_t id;                           /* index in the graph (mllm_graph_add) */
    int32_t n_w;                          /* matmul: number of weights (1..3) */
    const mllm_tensor *src[MLLM_MAX_SRC];
    mllm_tensor *dst[MLLM_MAX_DST];
    int32_t layer;                        /* KV-cache slot for rope_store / attention */
    const mllm_attn_layer *attn;          /* rope_store / attention: the layer's position handling */
    int32_t row0, n_rows;                 /* rms_norm: rows it reads and writes */
    int32_t gather;                       /* rms_norm: reads stream rows ex->out_rows[r] instead of row0 + r */
    float eps;                            /* rms_norm */
    mllm_node_fusion fused;
} mllm_node;

/* One sequence's rows in a run: rows [row0, row0 + n_rows) are its tokens at positions n_past,
 * n_past + 1, ...; their keys and values go into, and their attention reads, its KV cache. */
typedef struct mllm_seq_rows {
    int32_t row0, n_rows;
    int32_t n_past;
    struct mllm_kv_cache *kv;
} mllm_seq_rows;

/* What changes between runs of a cached graph. */
typedef struct mllm_exec {
    const int32_t *tokens;        /* n_tokens ids (get_rows) */
    const mllm_seq_rows *seqs;    /* n_seqs sequences in order of row0, together covering every row */
    int32_t n_seqs;
    const int32_t *out_rows;      /* graphs built with gather_out: the n_out stream rows fed to the head */
    const float *rope_cos;        /* [n_positions][head_dim/2]: cos(pos * inv_freq[i]), inv_freq[i] =
                                   * theta^(-2i/hd) / the model's RoPE frequency factor i (Llama 3 scaling) */
    const float *rope_sin;
    int32_t n_positions;
    float *att_scratch;           /* att_stride floats per thread: MLLM_ATT_SCRATCH(n_ctx, head_dim) */
    int32_t att_stride;
    /* Keys per attention chunk (0: MLLM_ATT_CHUNK): a query over more keys is computed chunk by chunk
     * and the chunks' softmax results merged in order, whichever thread computes them, so its bits do not
     * depend on the thread count or on the other rows of the batch. */
    int32_t att_chunk;
    /* Optional: room for att_part_items chunk results (MLLM_ATT_PART_ITEM(head_dim) floats each). With
     * it, a decode step of few sequences over long contexts spreads the chunks over all threads. */
    float *att_part;
    int64_t att_part_items;
    void *wdata;                  /* matmul activation scratch (shared by all threads) */
    /* Optional per-thread scratch (thread ith at thread_scratch + ith * thread_scratch_bytes):
     * matmuls over at most MLLM_PRIVATE_M rows convert their activations there, each thread
     * all rows, which saves the barrier between conversion and compute. Needed by fused RMS norms. */
    void *thread_scratch;
    size_t thread_scratch_bytes;
    /* Optional: zeroed counters, MLLM_CHUNK_COUNTERS(nth) per node for a run on nth threads (node id's
     * from id times that). Matmuls then give each thread a range of row chunks that the others take
     * from once done with their own, so a thread the OS delays holds the others up less. */
    int32_t *chunk_counters;
    /* Optional: asked once per layer (after its attention) where the backend can stop between
     * nodes; non-zero ends the run early with MLLM_ERR_CANCELLED (the outputs are then undefined). */
    int (*abort)(void *ctx);
    void *abort_ctx;
} mllm_exec;

/* The sequence row `row` belongs to. */
static inline const mllm_seq_rows *mllm_exec_seq(const mllm_exec *ex, int64_t row) {
    int32_t i = ex->n_seqs - 1;
    while (i > 0 && ex->seqs[i].row0 > row) i--;
    return &ex->seqs[i];
}

/* Position of row `row` in its sequence. */
static inline int32_t mllm_exec_pos(const mllm_seq_rows *s, int64_t row) { return s->n_past + (int32_t)(row - s->row0); }

/* Activation tensors a graph owns (shapes depend on its batch size). */
enum {
    MLLM_ACT_X,      /* residual stream [n, dim] */
    MLLM_ACT_H,      /* normed [n, dim] */
    MLLM_ACT_Q,      /* [n, n_head*hd] */
    MLLM_ACT_K,      /* [n, n_kv*hd] */
    MLLM_ACT_V,
    MLLM_ACT_ATT,    /* attention output [n, n_head*hd] */
    MLLM_ACT_TMP,    /* projection outputs added to the residual [n, dim] */
    MLLM_ACT_GATE,   /* [n, ffn] */
    MLLM_ACT_UP,
    MLLM_ACT_H_OUT,  /* the first n_out rows of H: normed rows fed to the output head */
    MLLM_ACT_OUT,    /* logits [n_out, vocab] or final hidden [n_out, dim] */
    MLLM_ACT_COUNT
};

typedef struct mllm_graph {
    int32_t n_tokens;
    int32_t n_out;      /* output rows: the last n_out tokens, or with gather_out the rows exec.out_rows names */
    int32_t out_hidden; /* 1: MLLM_ACT_OUT holds normed hidden states instead of logits */
    int32_t gather_out;
    int32_t n_nodes, cap;
    mllm_node *nodes;
    mllm_tensor acts[MLLM_ACT_COUNT];
} mllm_graph;

/* Matmuls over at most this many activation rows use the per-thread scratch when there is one. */
#define MLLM_PRIVATE_M 8

/* Attention: keys per chunk; query heads per work item (the grouped kernels' limit); floats of one
 * chunk result (outputs, then each head's score max and exp-sum); per-thread scratch for n_ctx keys
 * (the scores of a head, then one chunk result); chunk results a decode step of 4 * n_threads work
 * items over n_ctx keys needs. */
#define MLLM_ATT_CHUNK 512
/* Counters per node for n_threads threads (mllm_exec.chunk_counters): one per thread, each on its own
 * cache line (16 ints), so threads taking their own chunks do not contend for one line. */
#define MLLM_CHUNK_COUNTER_STRIDE 16
#define MLLM_CHUNK_COUNTERS(n_threads) ((size_t)(n_threads) * MLLM_CHUNK_COUNTER_STRIDE)
#define MLLM_ATT_HEADS_PER_ITEM 4
#define MLLM_ATT_PART_ITEM(hd) ((size_t)MLLM_ATT_HEADS_PER_ITEM * ((size_t)(hd) + 2))
#define MLLM_ATT_SCRATCH(n_ctx, hd) ((size_t)(n_ctx) + MLLM_ATT_PART_ITEM(hd))
#define MLLM_ATT_PART_ITEMS(n_threads, n_ctx) \
    ((int64_t)4 * (n_threads) * (((int64_t)(n_ctx) + MLLM_ATT_CHUNK - 1) / MLLM_ATT_CHUNK))

/* Empty graph with room for cap nodes; NULL when out of memory. */
mllm_graph *mllm_graph_create(int32_t cap);
void mllm_graph_free(mllm_graph *g);
/* Appends a zeroed node of the given op and returns it (NULL if full). */
mllm_node *mllm_graph_add(mllm_graph *g, mllm_op op);

#endif
