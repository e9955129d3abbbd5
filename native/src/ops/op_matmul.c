/* Matmul node: up to three weights that read the same activations (q/k/v, gate/up) share one
 * activation conversion and one barrier; their output rows are split jointly over threads. */
#include "cpu/matmul.h"
#include "cpu/threadpool.h"
#include "ops/ops.h"

#define ROW_ALIGN 16 /* thread ranges start on multiples of this many rows (kernel-friendly) */

void mllm_op_matmul(const mllm_node *n, const mllm_exec *ex, int ith, int nth) {
    const mllm_tensor *x = n->src[0];
    const int64_t k = x->ne[0], m = x->ne[1];
    /* the graph groups only weights sharing the activation type, so one conversion serves all */
    mllm_matmul_prepare(n->src[1]->type, x->data, (int64_t)(x->nb[1] / sizeof(float)), k, m, ex->wdata, ith, nth);
    mllm_threadpool_barrier(ex->pool);

    int64_t total = 0;
    for (int w = 0; w < n->n_w; w++) total += n->src[1 + w]->ne[1];
    int64_t chunk = (total + nth - 1) / nth;
    chunk = (chunk + ROW_ALIGN - 1) / ROW_ALIGN * ROW_ALIGN;
    int64_t b = (int64_t)ith * chunk, e = b + chunk < total ? b + chunk : total;
    int64_t off = 0;
    for (int w = 0; w < n->n_w && b < e; w++) {
        const mllm_tensor *wm = n->src[1 + w];
        int64_t rows = wm->ne[1];
        int64_t lo = b > off ? b - off : 0, hi = e - off < rows ? e - off : rows;
        if (lo < hi) {
            mllm_tensor *y = n->dst[w];
            mllm_matmul_compute(wm->type, wm->data, k, ex->wdata, m, y->data, (int64_t)(y->nb[1] / sizeof(float)), lo, hi);
        }
        off += rows;
    }
}
