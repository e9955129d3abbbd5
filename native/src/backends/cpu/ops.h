/* CPU implementations of graph nodes. Every op is called on all nth threads with the same node
 * and does its ith share; ops that need an internal barrier use run->pool. A node the fusion
 * planner marked (mllm_node.fused) does the work of the nodes it absorbed. */
#ifndef MLLM_OPS_H
#define MLLM_OPS_H

#include <stdint.h>

#include "cpu/kernels.h"
#include "cpu/threadpool.h"
#include "graph/graph.h"

/* What every op gets besides its node. */
typedef struct mllm_cpu_run {
    const mllm_exec *ex;
    const mllm_kernels *kernels; /* the model's kernel level */
    mllm_threadpool *pool;       /* for barriers inside ops */
} mllm_cpu_run;

void mllm_op_get_rows(const mllm_node *n, const mllm_cpu_run *run, int ith, int nth);
void mllm_op_rms_norm(const mllm_node *n, const mllm_cpu_run *run, int ith, int nth);
void mllm_op_matmul(const mllm_node *n, const mllm_cpu_run *run, int ith, int nth);
void mllm_op_rope_store(const mllm_node *n, const mllm_cpu_run *run, int ith, int nth);
void mllm_op_attention(const mllm_node *n, const mllm_cpu_run *run, int ith, int nth);
void mllm_op_swiglu(const mllm_node *n, const mllm_cpu_run *run, int ith, int nth);

struct mllm_kv_cache;
/* Writes values [lo, hi) of position pos's K (v = 0) or V (v = 1) row, given in f32, into layer
 * `layer` of the cache in its type (both copies in a ring); q8_0: lo and hi multiples of 32. */
void mllm_cpu_kv_store(const mllm_kernels *K, const struct mllm_kv_cache *kv, int v, int32_t layer, int32_t pos,
                       const float *src, int64_t lo, int64_t hi);

/* Dispatches on n->op. */
void mllm_op_run(const mllm_node *n, const mllm_cpu_run *run, int ith, int nth);

/* Thread ith's share [*begin, *end) of n items split evenly. */
static inline void mllm_split(int64_t n, int ith, int nth, int64_t *begin, int64_t *end) {
    int64_t per = n / nth, extra = n % nth;
    *begin = ith * per + (ith < extra ? ith : extra);
    *end = *begin + per + (ith < extra ? 1 : 0);
}

#endif
