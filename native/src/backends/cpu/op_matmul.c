/* Matmul node: up to three weights that read the same activations (q/k/v, gate/up) share one
 * activation conversion; their output rows are split jointly over threads.
 *
 * Fusions (mllm_node.fused): an RMS norm in front, and on each thread's own output rows a RoPE +
 * KV store, a SwiGLU or the residual add of the next RMS norm. Small batches (decode) convert
 * their activations in per-thread scratch, every thread all rows: that costs a few hundred
 * floats of redundant work and saves the barrier between conversion and compute, so a fused
 * decode layer needs one barrier per matmul node and none inside it. */
#include <math.h>

#include "backends/cpu/chunk_claim.h"
#include "backends/cpu/ops.h"
#include "cpu/matmul.h"
#include "graph/kv_cache.h"

#define ROW_ALIGN 32 /* row chunks start on multiples of this many rows (kernel-friendly, even so
                      * RoPE pairs stay together, and whole q8_0 blocks of a KV row) */
#define CHUNKS_PER_THREAD 4 /* with chunk counters: fine enough to rebalance, coarse enough to be cheap */

static size_t align64(size_t x) { return (x + 63) & ~(size_t)63; }

/* h = rms_norm(row r of the norm's rows) * w: the fused norm's output row, with the arithmetic of
 * mllm_op_rms_norm (the planner fuses only norms whose residual is already added). */
static void norm_row(const mllm_kernels *K, const mllm_node *norm, int64_t r, float *h) {
    const mllm_tensor *x = norm->src[0];
    const int64_t d = x->ne[0];
    const float *xr = mllm_tensor_row(x, norm->row0 + r);
    const float *w = norm->src[1]->data;
    const double ss = K->sum_sq_f32(xr, d);
    float scale = (float)(1.0 / sqrt(ss / (double)d + (double)norm->eps));
    for (int64_t i = 0; i < d; i++) h[i] = xr[i] * scale * w[i];
}

/* RoPE on columns [lo, hi) of one row, head by head (the pair index restarts at every head; lo may
 * fall inside one) */
static void rope_rows(const mllm_kernels *K, float *y, int64_t lo, int64_t hi, int32_t hd, int32_t pos, const mllm_exec *ex) {
    const int32_t half = hd / 2;
    const float *cs = ex->rope_cos + (size_t)pos * half, *sn = ex->rope_sin + (size_t)pos * half;
    while (lo + 1 < hi) {
        const int32_t i = (int32_t)(lo % hd) / 2;
        const int64_t n = half - i < (hi - lo) / 2 ? half - i : (hi - lo) / 2;
        K->rope_pairs(y + lo, cs + i, sn + i, n);
        lo += 2 * n;
    }
}

/* RoPE (q: w 0, k: w 1) and the KV store (k: w 1, v: w 2) of output rows [lo, hi) of weight w,
 * for every token of a plain RoPE layer (the planner fuses no other). Thread ranges are multiples
 * of ROW_ALIGN and the weights' row counts multiples of 32 (the device's rope_rows), so rotated
 * pairs and q8_0 blocks never straddle threads. */
static void epi_rope_store(const mllm_node *n, const mllm_cpu_run *run, int w, int64_t lo, int64_t hi, int64_t m) {
    const mllm_exec *ex = run->ex;
    const int32_t layer = n->fused.post->layer;
    mllm_tensor *y = n->dst[w];
    for (int64_t t = 0; t < m; t++) {
        const mllm_seq_rows *seq = mllm_exec_seq(ex, t);
        const mllm_kv_cache *kv = seq->kv;
        const int32_t pos = mllm_exec_pos(seq, t);
        float *yr = mllm_tensor_row(y, t);
        if (w < 2) rope_rows(run->kernels, yr, lo, hi, kv->head_dim, pos, ex);
        if (w > 0) mllm_cpu_kv_store(run->kernels, kv, w == 2, layer, pos, yr, lo, hi);
    }
}

static void epi_swiglu(const mllm_node *n, const mllm_kernels *K, int64_t lo, int64_t hi, int64_t m) {
    for (int64_t t = 0; t < m; t++) {
        float *g = mllm_tensor_row(n->dst[0], t);
        const float *u = mllm_tensor_row(n->dst[1], t);
        K->swiglu(g + lo, u + lo, hi - lo);
    }
}

/* The next RMS norm's residual add, stream += y, for columns [lo, hi) of the rows it norms (the
 * add of mllm_op_rms_norm, so the bits are the same). */
static void epi_add_residual(const mllm_node *n, const mllm_kernels *K, int64_t lo, int64_t hi) {
    const mllm_node *norm = n->fused.post;
    for (int64_t t = norm->row0; t < norm->row0 + norm->n_rows; t++) {
        float *x = mllm_tensor_row(norm->src[0], t);
        K->axpy_f32(x + lo, (const float *)mllm_tensor_row(n->dst[0], t) + lo, 1.0f, hi - lo);
    }
}

/* Output rows [lo, hi) of weight wm, whichever layout it is stored in. */
static void compute_rows(const mllm_kernels *K, const mllm_tensor *wm, int64_t k, const void *wdata, int64_t m, mllm_tensor *y,
                         int64_t lo, int64_t hi) {
    const int64_t ldy = (int64_t)(y->nb[1] / sizeof(float));
    if (wm->layout == MLLM_LAYOUT_PANEL16) mllm_matmul_compute_panel(K, wm->type, wm->data, k, wdata, m, y->data, ldy, lo, hi);
    else mllm_matmul_compute(K, wm->type, wm->data, k, wdata, m, y->data, ldy, lo, hi);
}

void mllm_op_matmul(const mllm_node *n, const mllm_cpu_run *run, int ith, int nth) {
    const mllm_exec *ex = run->ex;
    const mllm_kernels *K = run->kernels;
    const mllm_node *norm = n->fused.pre_norm, *post = n->fused.post;
    const mllm_tensor *x = norm ? norm->src[0] : n->src[0]; /* with a fused norm: the rows it norms */
    const int32_t wt = n->src[1]->type;
    const int64_t k = x->ne[0];
    const int64_t m = norm ? norm->n_rows : x->ne[1];
    const int64_t ldx = (int64_t)(x->nb[1] / sizeof(float));
    void *wdata = ex->wdata;

    if (ex->thread_scratch && m <= MLLM_PRIVATE_M) {
        /* every thread converts all rows into its own scratch: no barrier */
        char *mine = (char *)ex->thread_scratch + (size_t)ith * ex->thread_scratch_bytes;
        wdata = mine;
        if (norm) {
            float *h = (float *)(mine + align64(mllm_matmul_wsize(wt, k, m)));
            for (int64_t r = 0; r < m; r++) norm_row(K, norm, r, h + r * k);
            mllm_matmul_prepare_rows(K, wt, h, k, k, m, wdata, 0, m);
        } else {
            mllm_matmul_prepare_rows(K, wt, x->data, ldx, k, m, wdata, 0, m);
        }
    } else {
        if (norm) {
            /* rows split over threads; each normed row goes straight into the shared conversion */
            float *h = (float *)((char *)ex->thread_scratch + (size_t)ith * ex->thread_scratch_bytes);
            int64_t b, e;
            mllm_split(m, ith, nth, &b, &e);
            for (int64_t r = b; r < e; r++) {
                norm_row(K, norm, r, h);
                mllm_matmul_prepare_rows(K, wt, h, k, k, m, wdata, r, r + 1);
            }
        } else {
            mllm_matmul_prepare(K, wt, x->data, ldx, k, m, wdata, ith, nth);
        }
        mllm_threadpool_barrier(run->pool);
    }

    /* Output rows go out in chunks: with counters, each thread's range first (chunk_claim.h); else every
     * nth from ith. */
    const mllm_op post_op = post ? post->op : MLLM_OP_COUNT;
    int64_t total = 0;
    if (post_op == MLLM_OP_SWIGLU) total = n->src[1]->ne[1]; /* gate and up rows [lo, hi) together */
    else
        for (int w = 0; w < n->n_w; w++) total += n->src[1 + w]->ne[1];
    const int64_t want = ex->chunk_counters ? CHUNKS_PER_THREAD * nth : nth;
    int64_t chunk = (total + want - 1) / want;
    chunk = (chunk + ROW_ALIGN - 1) / ROW_ALIGN * ROW_ALIGN;
    const int64_t n_chunks = (total + chunk - 1) / chunk;
    int32_t *counters = ex->chunk_counters ? ex->chunk_counters + (size_t)n->id * MLLM_CHUNK_COUNTERS(nth) : NULL;
    const int64_t per = (n_chunks + nth - 1) / nth;
    for (int64_t c = counters ? mllm_claim_chunk(counters, ith, nth, per, n_chunks) : ith; c >= 0 && c < n_chunks;
         c = counters ? mllm_claim_chunk(counters, ith, nth, per, n_chunks) : c + nth) {
        const int64_t b = c * chunk, e = b + chunk < total ? b + chunk : total;
        if (post_op == MLLM_OP_SWIGLU) {
            for (int w = 0; w < 2; w++) compute_rows(K, n->src[1 + w], k, wdata, m, n->dst[w], b, e);
            epi_swiglu(n, K, b, e, m);
            continue;
        }
        int64_t off = 0;
        for (int w = 0; w < n->n_w && off < e; w++) {
            const mllm_tensor *wm = n->src[1 + w];
            int64_t rows = wm->ne[1];
            int64_t lo = b > off ? b - off : 0, hi = e - off < rows ? e - off : rows;
            if (lo < hi) {
                compute_rows(K, wm, k, wdata, m, n->dst[w], lo, hi);
                if (post_op == MLLM_OP_ROPE_STORE) epi_rope_store(n, run, w, lo, hi, m);
                else if (post_op == MLLM_OP_RMS_NORM) epi_add_residual(n, K, lo, hi);
            }
            off += rows;
        }
    }
}
