/* CPU backend: the whole graph runs inside one mllm_threadpool_run; threads meet at a barrier
 * between nodes, so a token costs one wake-up plus a barrier per node. */
#include "backends/cpu/backend_cpu.h"

#include <stdlib.h>
#include <string.h>

#include "backends/cpu/ops.h"
#include "core/errors.h"
#include "cpu/cpu_features.h"
#include "cpu/threadpool.h"
#include "platform/memory.h"

typedef struct cpu_device {
    const mllm_kernels *kernels; /* the level in use when the model was loaded */
    void *packed;                /* the weights repacked into panels, or NULL */
} cpu_device;

typedef struct cpu_graph_run {
    const mllm_graph *g;
    mllm_cpu_run run;
} cpu_graph_run;

static void run_graph(void *ctx, int ith, int nth) {
    const cpu_graph_run *r = ctx;
    int first = 1;
    for (int32_t i = 0; i < r->g->n_nodes; i++) {
        const mllm_node *n = &r->g->nodes[i];
        if (n->fused.done_by) continue;
        if (!first) mllm_threadpool_barrier(r->run.pool);
        first = 0;
        mllm_op_run(n, &r->run, ith, nth);
    }
}

static mllm_status cpu_alloc(mllm_runner *r, size_t bytes, void **out) {
    /* 64-byte alignment and size for SIMD loads. Not cleared: pages are touched only where
     * activations are written (large logits buffers would otherwise be faulted in at session creation). */
    void *p = mllm_aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    if (!p) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes of CPU memory", bytes);
    *out = p;
    return MLLM_OK;
}

static void cpu_free_buffer(mllm_runner *r, void *buf) { mllm_aligned_free(buf); }

static mllm_status cpu_compute(mllm_runner *r, const mllm_graph *g, const mllm_exec *ex) {
    const cpu_device *dev = r->device->impl;
    cpu_graph_run run = {g, {ex, dev->kernels, r->impl}};
    mllm_threadpool_run(r->impl, run_graph, &run);
    return MLLM_OK;
}

static mllm_status cpu_read_output(mllm_runner *r, const mllm_tensor *t, int64_t row0, int64_t n_rows, float *dst) {
    if (row0 < 0 || n_rows < 0 || row0 + n_rows > t->ne[1]) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "read_output: rows [%lld, %lld) outside the tensor's %lld rows",
                         (long long)row0, (long long)(row0 + n_rows), (long long)t->ne[1]);
    }
    memcpy(dst, mllm_tensor_row(t, row0), (size_t)n_rows * t->nb[1]);
    return MLLM_OK;
}

static void cpu_runner_free(mllm_runner *r) {
    if (!r) return;
    mllm_threadpool_free(r->impl);
    free(r);
}

static const mllm_runner_iface cpu_runner_iface = {
    .alloc = cpu_alloc,
    .free_buffer = cpu_free_buffer,
    .compute = cpu_compute,
    .read_output = cpu_read_output,
    .kv_shift = NULL, /* the KV cache is host memory: the session shifts it */
    .free = cpu_runner_free,
};

static mllm_status cpu_runner_create(mllm_device *dev, int n_threads, mllm_runner **out) {
    *out = NULL;
    mllm_runner *r = calloc(1, sizeof *r);
    if (!r) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory creating the CPU backend");
    r->impl = mllm_threadpool_create(n_threads);
    if (!r->impl) {
        free(r);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "cannot create a thread pool of %d threads", n_threads);
    }
    r->iface = &cpu_runner_iface;
    r->device = dev;
    *out = r;
    return MLLM_OK;
}

static mllm_status cpu_take_model(mllm_device *d, const mllm_model_desc *m) {
    cpu_device *dev = d->impl;
    return mllm_cpu_repack(dev->kernels, m, &dev->packed);
}

static void cpu_device_free(mllm_device *d) {
    if (!d) return;
    cpu_device *dev = d->impl;
    mllm_aligned_free(dev->packed);
    free(dev);
    free(d);
}

static const mllm_device_iface cpu_device_iface = {
    .take_model = cpu_take_model,
    .runner_create = cpu_runner_create,
    .free = cpu_device_free,
};

mllm_status mllm_cpu_device_create(mllm_device **out) {
    *out = NULL;
    mllm_device *d = calloc(1, sizeof *d);
    cpu_device *dev = calloc(1, sizeof *dev);
    if (!d || !dev) {
        free(d);
        free(dev);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory creating the CPU backend");
    }
    dev->kernels = mllm_kernels_for(mllm_cpu_current());
    d->iface = &cpu_device_iface;
    d->impl = dev;
    /* op_matmul.c runs every fusion, for batches of any size */
    d->fusions = (mllm_fusion_caps){.kinds = MLLM_FUSE_PRE_NORM | MLLM_FUSE_ADD_RESIDUAL | MLLM_FUSE_ROPE_STORE |
                                             MLLM_FUSE_SWIGLU_AFTER};
    *out = d;
    return MLLM_OK;
}
