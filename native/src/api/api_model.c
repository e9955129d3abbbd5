/* Public model API: loading, info, metadata and tensor listings. */
#include <stdio.h>
#include <string.h>

#include "backends/vulkan/backend_vulkan.h"
#include "core/errors.h"
#include "gguf/gguf.h"
#include "graph/backend.h"
#include "model/model.h"
#include "platform/threads.h"

#define MAX_THREADS 512

void mllm_model_params_init(mllm_model_params *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->n_threads = 0;
    p->use_mmap = 1;
    p->backend = MLLM_BACKEND_CPU;
    p->gpu_device = -1;
    p->pool = MLLM_POOL_MODEL;
}

/* Cores this process may run on (the affinity mask, e.g. under taskset or a container). */
static int32_t default_threads(void) {
    int n = mllm_cpu_count();
    return n > MAX_THREADS ? MAX_THREADS : n;
}

mllm_status mllm_model_load(const char *path, const mllm_model_params *params, mllm_model **out_model) {
    if (out_model) *out_model = NULL;
    if (!path || !out_model) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_model_load: path and out_model must not be NULL");
    mllm_model_params p;
    mllm_model_params_init(&p);
    if (params) p = *params;
    if (p.n_threads < 0 || p.n_threads > MAX_THREADS) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "n_threads %d is outside 0..%d", p.n_threads, MAX_THREADS);
    }
    if (p.backend == MLLM_BACKEND_VULKAN && !mllm_vulkan_built()) {
        return mllm_fail(MLLM_ERR_BACKEND, "Vulkan backend not built (the library was configured without Vulkan headers or glslc)");
    }
    if (p.backend != MLLM_BACKEND_CPU && p.backend != MLLM_BACKEND_AUTO && p.backend != MLLM_BACKEND_VULKAN) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "unknown backend %d", p.backend);
    }
    if (p.pool != MLLM_POOL_MODEL && p.pool != MLLM_POOL_PROCESS) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "pool %d is neither MLLM_POOL_MODEL (0) nor MLLM_POOL_PROCESS (1)", p.pool);
    }
    mllm_gguf *f;
    mllm_status s = mllm_gguf_open(path, p.use_mmap, &f);
    if (s) return s;
    mllm_model *m;
    if ((s = mllm_model_from_gguf(f, &m))) return s;
    if ((s = mllm_model_load_vocab(m))) {
        mllm_model_destroy(m);
        return s;
    }
    if ((s = mllm_model_attach_backend(m, p.backend, p.gpu_device, p.n_threads ? p.n_threads : default_threads(), p.pool))) {
        mllm_model_destroy(m);
        return s;
    }
    m->info.backend = m->backend;
    m->info.n_threads = m->n_threads;
    mllm_clear_error();
    *out_model = m;
    return MLLM_OK;
}

void mllm_model_free(mllm_model *model) { mllm_model_destroy(model); }

mllm_status mllm_model_get_memory(const mllm_model *m, mllm_memory_info *out) {
    if (!m || !out) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_model_get_memory: model and out_info must not be NULL");
    out->weights_bytes = atomic_load(&m->device->mem[MLLM_MEM_WEIGHTS]);
    out->kv_bytes = atomic_load(&m->device->mem[MLLM_MEM_KV]);
    out->compute_bytes = atomic_load(&m->device->mem[MLLM_MEM_COMPUTE]);
    out->device_memory = m->device->device_memory;
    return MLLM_OK;
}

mllm_status mllm_model_get_info(const mllm_model *m, mllm_model_info *out) {
    if (!m || !out) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_model_get_info: model and out_info must not be NULL");
    *out = m->info;
    return MLLM_OK;
}

int32_t mllm_model_meta_count(const mllm_model *m) {
    if (!m) {
        mllm_set_error("mllm_model_meta_count: model is NULL");
        return -1;
    }
    return m->file->n_kv > INT32_MAX ? INT32_MAX : (int32_t)m->file->n_kv;
}

/* snprintf-like copy returning the full length. */
static int32_t copy_out(const char *s, size_t len, char *buf, int32_t buf_size) {
    if (buf && buf_size > 0) {
        size_t n = len < (size_t)buf_size - 1 ? len : (size_t)buf_size - 1;
        memcpy(buf, s, n);
        buf[n] = '\0';
    }
    return len > INT32_MAX ? INT32_MAX : (int32_t)len;
}

static int check_meta_args(const mllm_model *m, int32_t i, char *buf, int32_t buf_size, const char *fn) {
    if (!m || buf_size < 0 || (!buf && buf_size > 0)) {
        mllm_set_error("%s: invalid model or buffer", fn);
        return 0;
    }
    if (i < 0 || i >= m->file->n_kv) {
        mllm_set_error("%s: index %d is outside 0..%lld", fn, i, (long long)m->file->n_kv - 1);
        return 0;
    }
    return 1;
}

int32_t mllm_model_meta_key(const mllm_model *m, int32_t i, char *buf, int32_t buf_size) {
    if (!check_meta_args(m, i, buf, buf_size, "mllm_model_meta_key")) return -1;
    const char *k = m->file->kv[i].key;
    return copy_out(k, strlen(k), buf, buf_size);
}

int32_t mllm_model_meta_value(const mllm_model *m, int32_t i, char *buf, int32_t buf_size) {
    if (!check_meta_args(m, i, buf, buf_size, "mllm_model_meta_value")) return -1;
    return mllm_gguf_render_value(m->file, i, buf, (size_t)buf_size);
}

int32_t mllm_model_tensor_count(const mllm_model *m) {
    if (!m) {
        mllm_set_error("mllm_model_tensor_count: model is NULL");
        return -1;
    }
    return m->file->n_tensors > INT32_MAX ? INT32_MAX : (int32_t)m->file->n_tensors;
}

mllm_status mllm_model_tensor_info(const mllm_model *m, int32_t i, mllm_tensor_info *out) {
    if (!m || !out) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_model_tensor_info: model and out_info must not be NULL");
    if (i < 0 || i >= m->file->n_tensors) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_model_tensor_info: index %d is outside 0..%lld", i,
                         (long long)m->file->n_tensors - 1);
    }
    const mllm_gguf_tensor *t = &m->file->tensors[i];
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", t->name);
    out->type = t->type;
    out->n_dims = t->n_dims;
    for (int d = 0; d < 4; d++) out->ne[d] = t->ne[d];
    out->offset = t->offset;
    out->n_bytes = t->n_bytes;
    return MLLM_OK;
}
