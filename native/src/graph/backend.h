/* Backend interface: who runs a graph, over which memory. A backend comes in two parts, so that a
 * model's weights are prepared once however many sessions use it:
 *   mllm_device  one per model: what the backend can fuse, and the weights in the form its kernels
 *                read (CPU: matrices repacked into panels). Created when the model is loaded.
 *   mllm_runner  one per session: activation memory and what a run needs besides (CPU: its thread
 *                pool; Vulkan: the device, the uploaded weights, the KV cache's device copy and the
 *                recorded command buffers). Created with the session.
 * backends/cpu and backends/vulkan implement it; model/ picks one and never looks inside. */
#ifndef MLLM_BACKEND_H
#define MLLM_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "core/tensor.h"
#include "graph/fusion.h"
#include "graph/graph.h"
#include "mobilellm.h"

struct mllm_kv_cache;

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
} mllm_model_desc;

typedef struct mllm_device mllm_device;
typedef struct mllm_runner mllm_runner;

typedef struct mllm_device_iface {
    /* Checks the model (MLLM_ERR_UNSUPPORTED for a type or shape the backend cannot run) and may
     * move or re-lay out its weights for the kernels; ops read whatever layout the device chose.
     * Called once, before any runner exists; the weights outlive the device. */
    mllm_status (*take_model)(mllm_device *dev, const mllm_model_desc *m);
    /* A runner for one session, with n_threads workers where the backend uses threads. */
    mllm_status (*runner_create)(mllm_device *dev, int n_threads, mllm_runner **out);
    void (*free)(mllm_device *dev);
} mllm_device_iface;

struct mllm_device {
    const mllm_device_iface *iface;
    mllm_fusion_caps fusions; /* what its runners fuse (the planner marks graphs with it) */
    uint32_t kv_types;        /* bit 1 << mllm_kv_type for each KV-cache type its runners take */
    void *impl;
};

typedef struct mllm_runner_iface {
    /* Memory for activations, in the backend's memory; contents undefined. */
    mllm_status (*alloc)(mllm_runner *r, size_t bytes, void **out);
    void (*free_buffer)(mllm_runner *r, void *buf);
    /* Runs a graph marked by the fusion planner with this device's capabilities. */
    mllm_status (*compute)(mllm_runner *r, const mllm_graph *g, const mllm_exec *ex);
    /* Copies rows [row0, row0+n_rows) of an f32 tensor into host memory. */
    mllm_status (*read_output)(mllm_runner *r, const mllm_tensor *t, int64_t row0, int64_t n_rows, float *dst);
    /* Optional (NULL: the session shifts the host cache itself): context shift of a cache the
     * runner keeps in its own memory, as mllm_kv_cache_shift. */
    mllm_status (*kv_shift)(mllm_runner *r, struct mllm_kv_cache *kv, int32_t dst, int32_t src, int32_t n_past,
                            const double *inv_freq);
    void (*free)(mllm_runner *r);
} mllm_runner_iface;

struct mllm_runner {
    const mllm_runner_iface *iface;
    mllm_device *device;
    void *impl;
};

#endif
