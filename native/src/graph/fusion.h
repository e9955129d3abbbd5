/* The fusion planner: one pass over a built graph that marks which neighbouring nodes a backend
 * runs as one (mllm_node.fused), from what the backend says it can fuse. Both backends record or
 * run the marked graph; neither looks for patterns itself. */
#ifndef MLLM_FUSION_H
#define MLLM_FUSION_H

#include <stdint.h>

#include "graph/graph.h"

/* Fusions a backend implements. Each folds one node into a neighbouring matmul, except
 * ATTN_QUANT, which folds the matmul's activation quantization into the attention before it. */
enum {
    MLLM_FUSE_PRE_NORM = 1u << 0,      /* the RMS norm (without residual) whose output the matmul reads */
    MLLM_FUSE_ADD_RESIDUAL = 1u << 1,  /* the residual add of the RMS norm that reads the matmul's output */
    MLLM_FUSE_ROPE_STORE = 1u << 2,    /* the RoPE + KV store of the q/k/v matmul's outputs */
    MLLM_FUSE_SWIGLU_AFTER = 1u << 3,  /* the SwiGLU of the gate/up matmul's outputs */
    MLLM_FUSE_SWIGLU_BEFORE = 1u << 4, /* the SwiGLU whose output the (down) matmul reads */
    MLLM_FUSE_ATTN_QUANT = 1u << 5,    /* the attention whose output the matmul reads writes it quantized */
};

typedef struct mllm_fusion_caps {
    uint32_t kinds;       /* MLLM_FUSE_* */
    int64_t max_rows;     /* fuse only matmuls over at most this many activation rows; 0: any */
    int64_t max_k;        /* ... and whose rows have at most this many values; 0: any */
    int64_t rope_rows;    /* ROPE_STORE: every q/k/v weight's row count a multiple of this; 0: any */
    /* A second rule for batches of a few rows (several sequences' decode steps): matmuls over more
     * than max_rows and at most wide_rows rows fuse too when every weight's type is in wide_types
     * (bit 1 << mllm_type) and k <= wide_k. wide_rows 0: no such rule. */
    int64_t wide_rows, wide_k;
    uint64_t wide_types;
    /* A third rule for larger batches (many sequences' decode steps): matmuls over more rows than
     * the rules above and at most batch_rows fuse batch_kinds instead of kinds when every weight's
     * type is in batch_types. batch_rows 0: no such rule. */
    int64_t batch_rows;
    uint32_t batch_kinds;
    uint64_t batch_types;
} mllm_fusion_caps;

/* Marks g's nodes for a backend with these capabilities. Run once on a freshly built graph. */
void mllm_graph_plan_fusions(mllm_graph *g, const mllm_fusion_caps *caps);

#endif
