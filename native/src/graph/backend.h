/* Backend interface: how a graph gets executed. The CPU backend runs it with the thread pool
 * over host memory; a GPU backend (Vulkan, later) implements the same functions over device
 * buffers. */
#ifndef MLLM_BACKEND_H
#define MLLM_BACKEND_H

#include <stddef.h>

#include "graph/graph.h"
#include "mobilellm.h"

typedef struct mllm_exec_backend mllm_exec_backend;

typedef struct mllm_backend_iface {
    const char *name;
    /* Makes weight data usable by the backend before the first compute (CPU: nothing to do, it
     * reads the mapped file). Called once per session for now. */
    mllm_status (*upload_weights)(mllm_exec_backend *be, const mllm_tensor *const *weights, int n);
    /* Allocates backend memory for activations; contents undefined. */
    mllm_status (*alloc)(mllm_exec_backend *be, size_t bytes, void **out);
    void (*free_buffer)(mllm_exec_backend *be, void *buf);
    mllm_status (*compute)(mllm_exec_backend *be, const mllm_graph *g, mllm_exec *ex);
    /* Copies rows [row0, row0+n_rows) of an f32 tensor into host memory. */
    mllm_status (*read_output)(mllm_exec_backend *be, const mllm_tensor *t, int64_t row0, int64_t n_rows, float *dst);
    void (*free)(mllm_exec_backend *be);
    /* Optional (NULL: the session shifts the host cache itself): context shift of a cache the
     * backend keeps in its own memory, as mllm_kv_cache_shift. */
    mllm_status (*kv_shift)(mllm_exec_backend *be, struct mllm_kv_cache *kv, int32_t dst, int32_t src, int32_t n_past,
                            const double *inv_freq);
} mllm_backend_iface;

struct mllm_exec_backend {
    const mllm_backend_iface *iface;
    int n_threads;
    void *impl;
};

/* CPU backend with its own pool of n_threads threads. NULL + error message on failure. */
mllm_exec_backend *mllm_backend_cpu_create(int n_threads);
/* Vulkan backend (src/vulkan) on usable device gpu_device (-1: the first of discrete, integrated,
 * virtual, CPU devices). Without Vulkan in the build both fail with MLLM_ERR_BACKEND. */
mllm_status mllm_backend_vulkan_create(int32_t gpu_device, mllm_exec_backend **out);
/* Whether the model's weights and shapes suit the Vulkan backend and a device is there; with
 * gpu_only, a CPU implementation (lavapipe) does not count (AUTO prefers the CPU backend then). */
mllm_status mllm_vulkan_check(const mllm_model *m, int32_t gpu_device, int gpu_only);
/* 1 when the library was built with the Vulkan backend. */
int mllm_vulkan_built(void);
/* Khronos validation layer state (MLLM_VULKAN_VALIDATION=1): errors reported so far. */
int mllm_vk_validation_errors(void);
int mllm_vk_validation_enabled(void);
/* Backend for an mllm_backend value (CPU/AUTO -> CPU, VULKAN -> MLLM_ERR_BACKEND for now). */
mllm_status mllm_backend_create(int32_t kind, int n_threads, mllm_exec_backend **out);

#endif
