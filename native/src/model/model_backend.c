/* The model's backend: the device chosen at load (CPU, or Vulkan where asked for and possible),
 * the weights it is handed and the compute context over it. The only file that knows which
 * backends exist. */
#include <stdlib.h>

#include "backends/cpu/backend_cpu.h"
#include "backends/vulkan/backend_vulkan.h"
#include "core/errors.h"
#include "gguf/gguf.h"
#include "model/compute.h"
#include "model/model.h"

/* Every weight once, with what the model does with it. */
static mllm_weight *list_weights(mllm_model *m, int *n_out) {
    const int per_block = 9;
    mllm_weight *w = malloc((size_t)(3 + m->hp.n_block * per_block) * sizeof *w);
    if (!w) return NULL;
    int n = 0;
    w[n++] = (mllm_weight){&m->tok_embd, MLLM_WEIGHT_EMBEDDING};
    w[n++] = (mllm_weight){&m->output_norm, MLLM_WEIGHT_NORM};
    w[n++] = (mllm_weight){&m->output, MLLM_WEIGHT_MATMUL};
    for (int32_t b = 0; b < m->hp.n_block; b++) {
        mllm_block *bl = &m->blocks[b];
        w[n++] = (mllm_weight){&bl->attn_norm, MLLM_WEIGHT_NORM};
        w[n++] = (mllm_weight){&bl->ffn_norm, MLLM_WEIGHT_NORM};
        mllm_tensor *mats[] = {&bl->wq, &bl->wk, &bl->wv, &bl->wo, &bl->gate, &bl->up, &bl->down};
        for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++) w[n++] = (mllm_weight){mats[i], MLLM_WEIGHT_MATMUL};
    }
    *n_out = n;
    return w;
}

/* Creates a device of `backend` and hands it the model; *out NULL on failure. */
static mllm_status attach(mllm_model *m, int32_t backend, int32_t gpu_device, int gpu_only, int32_t n_threads,
                          int32_t process_pool, mllm_device **out) {
    *out = NULL;
    mllm_model_desc desc = {0};
    desc.weights = list_weights(m, &desc.n_weights);
    if (!desc.weights) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory listing weights");
    desc.in_file_mapping = m->file->mapped;
    desc.head_dim = m->hp.head_dim;
    desc.attn = m->attn;
    desc.n_layer = m->hp.n_layer;
    mllm_device *dev;
    mllm_status s = backend == MLLM_BACKEND_VULKAN ? mllm_vulkan_device_create(gpu_device, gpu_only, &dev)
                                                   : mllm_cpu_device_create(n_threads, process_pool, &dev);
    if (!s) {
        s = dev->iface->take_model(dev, &desc);
        if (s) dev->iface->free(dev);
        else *out = dev;
    }
    free(desc.weights);
    return s;
}

static mllm_status choose_device(mllm_model *m, int32_t backend, int32_t gpu_device, int32_t n_threads, int32_t process_pool) {
    if (backend != MLLM_BACKEND_CPU) { /* AUTO: Vulkan when a GPU suits the model, else the CPU */
        mllm_status s = attach(m, MLLM_BACKEND_VULKAN, gpu_device, backend == MLLM_BACKEND_AUTO, n_threads, process_pool,
                               &m->device);
        if (!s) {
            m->backend = MLLM_BACKEND_VULKAN;
            return MLLM_OK;
        }
        if (backend == MLLM_BACKEND_VULKAN) return s;
    }
    m->backend = MLLM_BACKEND_CPU;
    return attach(m, MLLM_BACKEND_CPU, gpu_device, 0, n_threads, process_pool, &m->device);
}

mllm_status mllm_model_attach_backend(mllm_model *m, int32_t backend, int32_t gpu_device, int32_t n_threads,
                                      int32_t process_pool) {
    mllm_status s = choose_device(m, backend, gpu_device, n_threads, process_pool);
    if (s) return s;
    m->n_threads = n_threads < m->device->max_threads ? n_threads : m->device->max_threads;
    return mllm_compute_create(m, &m->compute);
}
