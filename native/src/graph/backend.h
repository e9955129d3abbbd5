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
} mllm_backend_iface;

struct mllm_exec_backend {
    const mllm_backend_iface *iface;
    int n_threads;
    void *impl;
};

/* CPU backend with its own pool of n_threads threads. NULL + error message on failure. */
mllm_exec_backend *mllm_backend_cpu_create(int n_threads);
/* Backend for an mllm_backend value (CPU/AUTO -> CPU, VULKAN -> MLLM_ERR_BACKEND for now). */
mllm_status mllm_backend_create(int32_t kind, int n_threads, mllm_exec_backend **out);

#endif
