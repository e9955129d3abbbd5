/* CPU backend: the device owns the model's worker pool (or shares the process-wide one) and its
 * repacked weights; KV caches are plain host memory. A run is the whole graph inside one
 * mllm_threadpool_run: threads meet at a barrier between nodes, so a token costs one wake-up plus
 * a barrier per node. */
#include "backends/cpu/backend_cpu.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/ops.h"
#include "core/errors.h"
#include "cpu/cpu_features.h"
#include "cpu/threadpool.h"
#include "platform/memory.h"
#include "platform/threads.h"

typedef struct cpu_device {
    const mllm_kernels *kernels; /* the level in use when the model was loaded */
    void *packed;                /* the weights repacked into panels, or NULL */
    mllm_threadpool *pool;
    int shared_pool;             /* pool is the process-wide one (released, not freed) */
} cpu_device;

/* ---- the process-wide pool: created by its first user, freed with its last ------------------- */

static mllm_mutex g_pool_lock = MLLM_MUTEX_INIT;
static mllm_threadpool *g_pool;
static int g_pool_users;

static mllm_threadpool *acquire_process_pool(int n_threads) {
    mllm_mutex_lock(&g_pool_lock);
    if (!g_pool) g_pool = mllm_threadpool_create(n_threads);
    if (g_pool) g_pool_users++;
    mllm_threadpool *p = g_pool;
    mllm_mutex_unlock(&g_pool_lock);
    return p;
}

static void release_process_pool(void) {
    mllm_mutex_lock(&g_pool_lock);
    if (--g_pool_users == 0) {
        mllm_threadpool_free(g_pool);
        g_pool = NULL;
    }
    mllm_mutex_unlock(&g_pool_lock);
}

/* ---- running graphs ------------------------------------------------------------------------- */

typedef struct cpu_graph_run {
    const mllm_graph *g;
    mllm_cpu_run run;
    /* the node after which thread 0 found the call cancelled, or -1. A node index, not a flag: a
     * thread waking late from the barrier before that node may already see it set, and must still
     * run the node and leave at the next barrier with the others */
    atomic_int stopped_after;
} cpu_graph_run;

static void run_graph(void *ctx, int ith, int nth) {
    cpu_graph_run *r = ctx;
    const mllm_exec *ex = r->run.ex;
    int first = 1;
    for (int32_t i = 0; i < r->g->n_nodes; i++) {
        const mllm_node *n = &r->g->nodes[i];
        if (n->fused.done_by) continue;
        if (!first) {
            mllm_threadpool_barrier(r->run.pool);
            const int stop = atomic_load_explicit(&r->stopped_after, memory_order_relaxed);
            if (stop >= 0 && stop < i) return; /* all threads leave at the same node */
        }
        first = 0;
        mllm_op_run(n, &r->run, ith, nth);
        /* once per layer: the barrier after this node tells the others */
        if (ith == 0 && n->op == MLLM_OP_ATTENTION && ex->abort && ex->abort(ex->abort_ctx))
            atomic_store_explicit(&r->stopped_after, i, memory_order_relaxed);
    }
}

/* Activation memory: 64-byte aligned for SIMD loads, after a 64-byte header holding its size (for
 * the device's memory count). Not cleared: pages are touched only where activations are written
 * (large logits buffers would otherwise be faulted in at once). */
#define ALLOC_HEADER 64
static mllm_status cpu_alloc(mllm_runner *r, size_t bytes, void **out) {
    const size_t sz = ALLOC_HEADER + ((bytes + 63) & ~(size_t)63);
    char *p = mllm_aligned_alloc(64, sz);
    if (!p) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes of CPU memory", bytes);
    memcpy(p, &sz, sizeof sz);
    mllm_device_count(r->device, MLLM_MEM_COMPUTE, (long long)sz);
    *out = p + ALLOC_HEADER;
    return MLLM_OK;
}

static void cpu_free_buffer(mllm_runner *r, void *buf) {
    if (!buf) return;
    char *p = (char *)buf - ALLOC_HEADER;
    size_t sz;
    memcpy(&sz, p, sizeof sz);
    mllm_device_count(r->device, MLLM_MEM_COMPUTE, -(long long)sz);
    mllm_aligned_free(p);
}

static mllm_status cpu_compute(mllm_runner *r, const mllm_graph *g, const mllm_exec *ex, int n_threads) {
    const cpu_device *dev = r->device->impl;
    cpu_graph_run run = {.g = g, .run = {ex, dev->kernels, dev->pool}};
    atomic_init(&run.stopped_after, -1);
    mllm_threadpool_run(dev->pool, run_graph, &run, n_threads);
    if (atomic_load(&run.stopped_after) >= 0) return mllm_fail(MLLM_ERR_CANCELLED, "cancelled");
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

static void cpu_runner_free(mllm_runner *r) { free(r); }

static const mllm_runner_iface cpu_runner_iface = {
    .alloc = cpu_alloc,
    .free_buffer = cpu_free_buffer,
    .compute = cpu_compute,
    .read_output = cpu_read_output,
    .free = cpu_runner_free,
};

static mllm_status cpu_runner_create(mllm_device *dev, mllm_runner **out) {
    *out = NULL;
    mllm_runner *r = calloc(1, sizeof *r);
    if (!r) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory creating the CPU backend");
    r->iface = &cpu_runner_iface;
    r->device = dev;
    *out = r;
    return MLLM_OK;
}

/* ---- memory: host allocations ----------------------------------------------------------------- */

static mllm_status cpu_buffer_alloc(mllm_device *dev, size_t size, mllm_mem_kind kind, mllm_buffer **out) {
    *out = NULL;
    mllm_buffer *b = calloc(1, sizeof *b);
    void *p = calloc(1, size ? size : 1);
    if (!b || !p) {
        free(b);
        free(p);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes of CPU memory", size);
    }
    b->host = p;
    b->size = size;
    b->kind = kind;
    mllm_device_count(dev, kind, (long long)size);
    *out = b;
    return MLLM_OK;
}

static void cpu_buffer_free(mllm_device *dev, mllm_buffer *b) {
    if (!b) return;
    mllm_device_count(dev, b->kind, -(long long)b->size);
    free(b->host);
    free(b);
}

static mllm_status cpu_buffer_write(mllm_device *dev, mllm_buffer *b, size_t off, const void *src, size_t n) {
    memcpy((char *)b->host + off, src, n);
    return MLLM_OK;
}

static mllm_status cpu_buffer_read(mllm_device *dev, const mllm_buffer *b, size_t off, void *dst, size_t n) {
    memcpy(dst, (const char *)b->host + off, n);
    return MLLM_OK;
}

static mllm_status cpu_buffer_copy(mllm_device *dev, mllm_buffer *dst, size_t dst_off, const mllm_buffer *src, size_t src_off,
                                   size_t n) {
    memmove((char *)dst->host + dst_off, (const char *)src->host + src_off, n);
    return MLLM_OK;
}

/* ---- the device ------------------------------------------------------------------------------ */

static mllm_status cpu_take_model(mllm_device *d, const mllm_model_desc *m) {
    cpu_device *dev = d->impl;
    mllm_status st = mllm_cpu_repack(dev->kernels, m, &dev->packed);
    if (st) return st;
    /* the weights the kernels read: packed ones in our allocation, the rest in the file's memory */
    long long bytes = 0;
    for (int i = 0; i < m->n_weights; i++) {
        const mllm_tensor *t = m->weights[i].tensor;
        int shared = 0; /* a tied head shares the embedding's data: count it once */
        for (int j = 0; j < i; j++) shared |= m->weights[j].tensor->data == t->data;
        if (!shared) bytes += (long long)(t->nb[1] * (size_t)t->ne[1] * (size_t)t->ne[2] * (size_t)t->ne[3]);
    }
    mllm_device_count(d, MLLM_MEM_WEIGHTS, bytes);
    return MLLM_OK;
}

static void cpu_device_free(mllm_device *d) {
    if (!d) return;
    cpu_device *dev = d->impl;
    if (dev->shared_pool) release_process_pool();
    else mllm_threadpool_free(dev->pool);
    mllm_aligned_free(dev->packed);
    free(dev);
    free(d);
}

static const mllm_device_iface cpu_device_iface = {
    .take_model = cpu_take_model,
    .runner_create = cpu_runner_create,
    .buffer_alloc = cpu_buffer_alloc,
    .buffer_free = cpu_buffer_free,
    .buffer_write = cpu_buffer_write,
    .buffer_read = cpu_buffer_read,
    .buffer_copy = cpu_buffer_copy,
    .free = cpu_device_free,
};

mllm_status mllm_cpu_device_create(int n_threads, int process_pool, mllm_device **out) {
    *out = NULL;
    mllm_device *d = calloc(1, sizeof *d);
    cpu_device *dev = calloc(1, sizeof *dev);
    if (!d || !dev) {
        free(d);
        free(dev);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory creating the CPU backend");
    }
    dev->kernels = mllm_kernels_for(mllm_cpu_current());
    dev->shared_pool = process_pool;
    dev->pool = process_pool ? acquire_process_pool(n_threads) : mllm_threadpool_create(n_threads);
    if (!dev->pool) {
        free(d);
        free(dev);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "cannot create a thread pool of %d threads", n_threads);
    }
    const int size = mllm_threadpool_size(dev->pool);
    d->iface = &cpu_device_iface;
    d->impl = dev;
    d->max_threads = n_threads < size ? n_threads : size;
    for (int k = 0; k < MLLM_MEM_KINDS; k++) atomic_init(&d->mem[k], 0);
    /* op_matmul.c runs every fusion, for batches of any size; its RoPE + KV store takes whole q8_0
     * blocks of 32 rows */
    d->fusions = (mllm_fusion_caps){.kinds = MLLM_FUSE_PRE_NORM | MLLM_FUSE_ADD_RESIDUAL | MLLM_FUSE_ROPE_STORE |
                                             MLLM_FUSE_SWIGLU_AFTER,
                                    .rope_rows = 32};
    d->kv_types = 1u << MLLM_KV_F16 | 1u << MLLM_KV_F32 | 1u << MLLM_KV_Q8_0;
    *out = d;
    return MLLM_OK;
}
