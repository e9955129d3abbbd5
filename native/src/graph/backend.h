/* Backend interface: who runs a graph, over which memory. A backend comes in two parts, split by
 * lifetime as ggml splits a backend into its device and its compute state:
 *   mllm_device  one per model, created when the model is loaded: what the backend can fuse, the
 *                weights in the form its kernels read (CPU: matrices repacked into panels; Vulkan:
 *                one uploaded copy), the threads or the GPU queue that run graphs (CPU: the worker
 *                pool; Vulkan: instance, device, queue, pipelines) and the memory it hands out for
 *                sessions' KV caches (mllm_buffer).
 *   mllm_runner  per-compute state: activation memory and what one run needs besides (Vulkan: the
 *                recorded command buffers and scratch buffers). The model's compute context
 *                (model/compute.h) owns one and lends it to one run at a time.
 * backends/cpu and backends/vulkan implement it; model/ picks one and never looks inside. */
#ifndef MLLM_BACKEND_H
#define MLLM_BACKEND_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tensor.h"
#include "graph/fusion.h"
#include "graph/graph.h"
#include "mobilellm.h"

/* How a model uses a weight tensor (a backend may store each kind its own way). */
typedef enum mllm_weight_use {
    MLLM_WEIGHT_NORM,      /* f32 vector of an RMS norm */
    MLLM_WEIGHT_EMBEDDING, /* rows looked up by token id */
    MLLM_WEIGHT_MATMUL,    /* matrix multiplied with activations */
} mllm_weight_use;

typedef struct mllm_weight {
    mllm_tensor *tensor; /* the model's own tensor: a device may change its data and layout */
    mllm_weight_use use;
} mllm_weight;

/* What a device is given of a model: every weight, each tensor once (a tied output head is its own
 * entry, sharing the embedding's data), and the shapes its kernels must handle. */
typedef struct mllm_model_desc {
    mllm_weight *weights;
    int n_weights;
    int in_file_mapping; /* the data lie in a read-only file mapping: pages the device copies may be dropped */
    int32_t head_dim;    /* attention head size */
    const mllm_attn_layer *attn; /* n_layer applied layers: how each one's attention treats positions */
    int32_t n_layer;
} mllm_model_desc;

/* What memory a device holds for: the model's weights, sessions' KV caches, compute state. */
typedef enum mllm_mem_kind { MLLM_MEM_WEIGHTS, MLLM_MEM_KV, MLLM_MEM_COMPUTE, MLLM_MEM_KINDS } mllm_mem_kind;

/* Memory a device allocated (for a KV cache). `host` is where the CPU reads and writes it directly;
 * NULL for memory only the device reaches, which goes through buffer_read/buffer_write. */
typedef struct mllm_buffer {
    void *host;
    size_t size;
    mllm_mem_kind kind;
    void *impl;
} mllm_buffer;

typedef struct mllm_device mllm_device;
typedef struct mllm_runner mllm_runner;

typedef struct mllm_device_iface {
    /* Checks the model (MLLM_ERR_UNSUPPORTED for a type or shape the backend cannot run) and may
     * move or re-lay out its weights for the kernels; ops read whatever layout the device chose.
     * Called once, before any runner exists; the weights outlive the device. */
    mllm_status (*take_model)(mllm_device *dev, const mllm_model_desc *m);
    /* A runner: compute state for one run at a time. */
    mllm_status (*runner_create)(mllm_device *dev, mllm_runner **out);
    /* size bytes of zeroed memory for `kind` (KV caches); counted in mem[kind] until freed. */
    mllm_status (*buffer_alloc)(mllm_device *dev, size_t size, mllm_mem_kind kind, mllm_buffer **out);
    void (*buffer_free)(mllm_device *dev, mllm_buffer *b);
    /* Copies n bytes between host memory and a buffer at byte offset off, and between buffers.
     * Safe while a runner computes, as long as no run reads or writes the same bytes. */
    mllm_status (*buffer_write)(mllm_device *dev, mllm_buffer *b, size_t off, const void *src, size_t n);
    mllm_status (*buffer_read)(mllm_device *dev, const mllm_buffer *b, size_t off, void *dst, size_t n);
    mllm_status (*buffer_copy)(mllm_device *dev, mllm_buffer *dst, size_t dst_off, const mllm_buffer *src, size_t src_off,
                               size_t n);
    void (*free)(mllm_device *dev);
} mllm_device_iface;

struct mllm_device {
    const mllm_device_iface *iface;
    mllm_fusion_caps fusions;  /* what its runners fuse (the planner marks graphs with it) */
    int max_threads;           /* threads one run may use (CPU: the pool's size; GPU: 1) */
    int device_memory;         /* 1: its buffers are GPU memory (host == NULL) */
    uint32_t kv_types;         /* bit 1 << mllm_kv_type for each KV-cache type its runners take */
    atomic_llong mem[MLLM_MEM_KINDS]; /* bytes allocated per mllm_mem_kind, for mllm_model_get_memory */
    void *impl;
};

typedef struct mllm_runner_iface {
    /* Memory for activations, in the backend's memory; contents undefined. */
    mllm_status (*alloc)(mllm_runner *r, size_t bytes, void **out);
    void (*free_buffer)(mllm_runner *r, void *buf);
    /* Runs a graph marked by the fusion planner with this device's capabilities on n_threads
     * threads (<= the device's max_threads; the caller is thread 0). MLLM_ERR_CANCELLED when
     * ex->abort stopped it. */
    mllm_status (*compute)(mllm_runner *r, const mllm_graph *g, const mllm_exec *ex, int n_threads);
    /* Copies rows [row0, row0+n_rows) of an f32 tensor into host memory. */
    mllm_status (*read_output)(mllm_runner *r, const mllm_tensor *t, int64_t row0, int64_t n_rows, float *dst);
    void (*free)(mllm_runner *r);
} mllm_runner_iface;

struct mllm_runner {
    const mllm_runner_iface *iface;
    mllm_device *device;
    void *impl;
};

/* Adds bytes (negative: frees) to a device's count of memory of one kind. */
static inline void mllm_device_count(mllm_device *dev, mllm_mem_kind kind, long long bytes) {
    atomic_fetch_add_explicit(&dev->mem[kind], bytes, memory_order_relaxed);
}

#endif
