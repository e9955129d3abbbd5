/* SwiGLU activation: gate = silu(gate) * up, in place. */
#include "backends/cpu/ops.h"

void mllm_op_swiglu(const mllm_node *n, const mllm_cpu_run *run, int ith, int nth) {
    mllm_tensor *g = n->dst[0];
    const mllm_tensor *u = n->src[1];
    const int64_t d = g->ne[0];
    /* Split the flat element range so a single-token batch still uses every thread. */
    int64_t total = d * g->ne[1], b, e;
    mllm_split(total, ith, nth, &b, &e);
    for (int64_t k = b; k < e;) {
        int64_t r = k / d, i0 = k % d, i1 = d < i0 + (e - k) ? d : i0 + (e - k);
        float *gr = mllm_tensor_row(g, r);
        const float *ur = mllm_tensor_row(u, r);
        run->kernels->swiglu(gr + i0, ur + i0, i1 - i0);
        k += i1 - i0;
    }
}
