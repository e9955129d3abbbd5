/* CPU backend: the whole graph runs inside one mllm_threadpool_run; threads meet at a barrier
 * between nodes, so a token costs one wake-up plus a barrier per node. */
#include <stdlib.h>
#include <string.h>

#include "api/errors.h"
#include "cpu/threadpool.h"
#include "graph/backend.h"
#include "ops/ops.h"
#include "platform/memory.h"

typedef struct cpu_run {
    const mllm_graph *g;
    const mllm_exec *ex;
} cpu_run;

static void run_graph(void *ctx, int ith, int nth) {
    const cpu_run *r = ctx;
    for (int32_t i = 0; i < r->g->n_nodes; i++) {
        if (i > 0) mllm_threadpool_barrier(r->ex->pool);
        mllm_op_run(&r->g->nodes[i], r->ex, ith, nth);
    }
}

static mllm_status cpu_upload(mllm_exec_backend *be, const mllm_tensor *const *weights, int n) { return MLLM_OK; }

static mllm_status cpu_alloc(mllm_exec_backend *be, size_t bytes, void **out) {
    /* 64-byte alignment and size for SIMD loads. Not cleared: pages are touched only where
     * activations are written (large logits buffers would otherwise be faulted in at session creation). */
    void *p = mllm_aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    if (!p) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes of CPU memory", bytes);
    *out = p;
    return MLLM_OK;
}

static void cpu_free_buffer(mllm_exec_backend *be, void *buf) { mllm_aligned_free(buf); }

static mllm_status cpu_compute(mllm_exec_backend *be, const mllm_graph *g, mllm_exec *ex) {
    ex->pool = be->impl;
    cpu_run r = {g, ex};
    mllm_threadpool_run(be->impl, run_graph, &r);
    return MLLM_OK;
}

static mllm_status cpu_read_output(mllm_exec_backend *be, const mllm_tensor *t, int64_t row0, int64_t n_rows, float *dst) {
    if (row0 < 0 || n_rows < 0 || row0 + n_rows > t->ne[1]) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "read_output: rows [%lld, %lld) outside the tensor's %lld rows",
                         (long long)row0, (long long)(row0 + n_rows), (long long)t->ne[1]);
    }
    memcpy(dst, mllm_tensor_row(t, row0), (size_t)n_rows * t->nb[1]);
    return MLLM_OK;
}

static void cpu_free(mllm_exec_backend *be) {
    if (!be) return;
    mllm_threadpool_free(be->impl);
    free(be);
}

static const mllm_backend_iface cpu_iface = {
    "cpu", cpu_upload, cpu_alloc, cpu_free_buffer, cpu_compute, cpu_read_output, cpu_free, NULL,
};

mllm_exec_backend *mllm_backend_cpu_create(int n_threads) {
    mllm_exec_backend *be = calloc(1, sizeof *be);
    if (!be) {
        mllm_set_error("out of memory creating the CPU backend");
        return NULL;
    }
    be->impl = mllm_threadpool_create(n_threads);
    if (!be->impl) {
        free(be);
        mllm_set_error("cannot create a thread pool of %d threads", n_threads);
        return NULL;
    }
    be->iface = &cpu_iface;
    be->n_threads = n_threads;
    return be;
}

mllm_status mllm_backend_create(int32_t kind, int n_threads, mllm_exec_backend **out) {
    *out = NULL;
    if (kind == MLLM_BACKEND_VULKAN) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan backend not built");
    if (kind != MLLM_BACKEND_CPU && kind != MLLM_BACKEND_AUTO) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "unknown backend %d", kind);
    }
    *out = mllm_backend_cpu_create(n_threads);
    return *out ? MLLM_OK : MLLM_ERR_OUT_OF_MEMORY;
}
