/* Optional residual add, then RMS norm times a weight vector, per row. Fusing the add saves a
 * barrier per sub-layer. A gathering norm (the output norm of a batch) reads the rows the run
 * names and writes them densely. */
#include <math.h>

#include "backends/cpu/ops.h"

void mllm_op_rms_norm(const mllm_node *n, const mllm_cpu_run *run, int ith, int nth) {
    mllm_tensor *x = (mllm_tensor *)n->src[0];
    const float *w = n->src[1]->data;
    const mllm_tensor *res = n->fused.residual_added ? NULL : n->src[2];
    mllm_tensor *dst = n->dst[0];
    const int64_t d = x->ne[0];
    int64_t b, e;
    mllm_split(n->n_rows, ith, nth, &b, &e);
    for (int64_t r = b; r < e; r++) {
        const int64_t row = n->gather ? run->ex->out_rows[r] : n->row0 + r;
        float *xr = mllm_tensor_row(x, row);
        if (res) run->kernels->axpy_f32(xr, mllm_tensor_row(res, row), 1.0f, d);
        const double ss = run->kernels->sum_sq_f32(xr, d);
        float scale = (float)(1.0 / sqrt(ss / (double)d + (double)n->eps));
        float *o = mllm_tensor_row(dst, r);
        for (int64_t i = 0; i < d; i++) o[i] = xr[i] * scale * w[i];
    }
}
