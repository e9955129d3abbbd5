/* Vulkan backend: the whole forward pass on the GPU.
 *
 * - The loader is opened at run time (libvulkan.so.1; vulkan-1.dll on Windows; on macOS the Vulkan
 *   loader or MoltenVK itself): a machine without Vulkan gets a clear MLLM_ERR_BACKEND, never a
 *   library that fails to load.
 * - Weights are uploaded once into device-local buffers (chunks no larger than the device's
 *   maxMemoryAllocationSize, 1 GiB at most) and stay resident; the KV cache, RoPE tables and all
 *   activations live on the device. Only the graph's output rows come back, copied to a
 *   host-visible buffer inside the same submission.
 * - Kernels take tensors as buffer device addresses in push constants, so any tensor is addressed
 *   whole, whatever maxStorageBufferRange is (128 MiB on lavapipe). The one descriptor set holds
 *   attention_dec's counters, whose atomics must be on a bound buffer to translate to Metal.
 * - One command buffer is recorded per graph (shape) and replayed: the per-step values (n_past,
 *   token ids) are read by the kernels from a small host-visible step buffer, so a decode step is
 *   one vkQueueSubmit and one fence wait.
 * - Decode steps (single-row graphs) fuse where it pays (the fusions mllm_vulkan_device_create
 *   declares, marked on the graph by the fusion planner): the matvec kernels stage their input in
 *   shared memory and apply the preceding RMS norm, SwiGLU or q8_0 activation rounding there, the
 *   q/k/v matvecs apply RoPE and write K/V straight into the cache, the wo/down matvecs add
 *   straight into the residual stream, and attention splits the keys over up to 32 workgroups
 *   per head, merged by the last one to finish: 5 barriers per layer (on an H200 each barrier stage costs ~5 us however little it
 *   computes, so stages, not bytes, set the decode speed of these thin models).
 * - The session's activation "pointers" are a reserved, inaccessible host address range
 *   (no access allowed) that maps 1:1 onto a device buffer: the graph built by model_graph.c is used
 *   unchanged and any accidental host access faults at once.
 *
 * Environment: MLLM_VULKAN_VALIDATION=1 enables VK_LAYER_KHRONOS_validation (errors are
 * counted, see mllm_vk_validation_errors); MLLM_VULKAN_VERBOSE=1 prints the device and its
 * features; MLLM_VULKAN_PROFILE=1 times every barrier-separated stage on the GPU (timestamp
 * queries) and prints the sums per stage kind when the backend is freed. */
#include "backends/vulkan/backend_vulkan.h"
#include "core/errors.h"

#ifndef MLLM_HAVE_VULKAN

mllm_status mllm_vulkan_device_create(int32_t gpu_device, int gpu_only, mllm_device **out) {
    *out = NULL;
    return mllm_fail(MLLM_ERR_BACKEND, "Vulkan backend not built (the library was configured without Vulkan headers or glslc)");
}
int mllm_vk_validation_errors(void) { return 0; }
int mllm_vk_validation_enabled(void) { return 0; }
int mllm_vulkan_built(void) { return 0; }

#else

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/vulkan/vk_context.h"
#include "core/types.h"
#include "platform/clock.h"
#include "platform/memory.h"

/* ---- weights ----------------------------------------------------------------------------- */

static int type_supported(int32_t t) {
    return t == MLLM_TYPE_F32 || t == MLLM_TYPE_F16 || t == MLLM_TYPE_Q8_0 || t == MLLM_TYPE_Q4_0;
}

static size_t tensor_bytes(const mllm_tensor *t) {
    return mllm_type_row_bytes(t->type, t->ne[0]) * (size_t)(mllm_tensor_nelements(t) / (t->ne[0] ? t->ne[0] : 1));
}

static mllm_status check_weight(const mllm_tensor *t) {
    if (!type_supported(t->type)) {
        const mllm_type_traits *tr = mllm_type_traits_of(t->type);
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "Vulkan backend: weights of type %s are not supported (f32, f16, q8_0, q4_0 are)",
                         tr ? tr->name : "?");
    }
    if (t->ne[1] > 1 && t->ne[0] % 32 != 0) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "Vulkan backend: matrix rows of %lld values are not a multiple of 32",
                         (long long)t->ne[0]);
    }
    return MLLM_OK;
}

/* Copies the weights (checked by take_model) into device-local buffers. */
static mllm_status upload_weights(vk_ctx *c, const mllm_tensor *const *w, int n) {
    c->weights = calloc((size_t)n, sizeof *c->weights);
    if (!c->weights) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory listing weights");
    /* distinct tensors (the tied output head aliases the embedding), packed into chunks */
    size_t *off = calloc((size_t)n, sizeof *off);
    int *chunk = calloc((size_t)n, sizeof *chunk);
    if (!off || !chunk) {
        free(off);
        free(chunk);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory listing weights");
    }
    size_t sizes[VK_MAX_WBUFS] = {0};
    int nw = 0, nc = 1;
    mllm_status st = MLLM_OK;
    for (int i = 0; i < n && !st; i++) {
        int dup = 0;
        for (int j = 0; j < nw; j++) dup |= c->weights[j].host == w[i]->data;
        if (dup) continue;
        size_t bytes = tensor_bytes(w[i]), padded = (bytes + 255) & ~(size_t)255;
        if (padded + 256 > c->max_alloc) {
            st = mllm_fail(MLLM_ERR_UNSUPPORTED, "Vulkan: a weight of %zu bytes exceeds the device's allocation limit", bytes);
            break;
        }
        if (sizes[nc - 1] + padded + 256 > c->max_alloc) {
            if (nc == VK_MAX_WBUFS) {
                st = mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "Vulkan: weights need more than %d buffers", VK_MAX_WBUFS);
                break;
            }
            nc++;
        }
        c->weights[nw] = (vk_weight){w[i]->data, bytes, 0};
        chunk[nw] = nc - 1;
        off[nw] = sizes[nc - 1];
        sizes[nc - 1] += padded;
        nw++;
    }
    for (int b = 0; b < nc && !st; b++) {
        st = vk_buf_create(c, sizes[b], 0, &c->wbufs[b]);
        if (!st) c->n_wbufs = b + 1;
    }
    for (int i = 0; i < nw && !st; i++) {
        vk_buf *b = &c->wbufs[chunk[i]];
        c->weights[i].addr = b->addr + off[i];
        st = vk_transfer(c, b->buf, off[i], (void *)c->weights[i].host, c->weights[i].bytes, 1);
    }
    c->n_weights = nw;
    free(off);
    free(chunk);
    return st;
}

VkDeviceAddress vk_addr_of(const vk_ctx *c, const void *p) {
    const char *q = p;
    for (int i = 0; i < VK_MAX_ACTS; i++) {
        const vk_act *a = &c->acts[i];
        if (a->host && q >= a->host && q < a->host + a->bytes) return a->dev.addr + (VkDeviceAddress)(q - a->host);
    }
    for (int i = 0; i < c->n_weights; i++) {
        const vk_weight *w = &c->weights[i];
        if (q >= w->host && q < w->host + (w->bytes ? w->bytes : 1)) return w->addr + (VkDeviceAddress)(q - w->host);
    }
    return 0;
}

/* ---- activations ------------------------------------------------------------------------- */

static mllm_status vk_alloc(mllm_runner *r, size_t bytes, void **out) {
    vk_ctx *c = r->impl;
    int slot = -1;
    for (int i = 0; i < VK_MAX_ACTS && slot < 0; i++) {
        if (!c->acts[i].host) slot = i;
    }
    if (slot < 0) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: too many activation buffers");
    size_t sz = bytes ? bytes : 64;
    void *h = mllm_reserve_address_space(sz);
    if (!h) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "cannot reserve %zu bytes of address space", sz);
    mllm_status st = vk_buf_create(c, sz, 0, &c->acts[slot].dev);
    if (st) {
        mllm_release_address_space(h, sz);
        return st;
    }
    c->acts[slot].host = h;
    c->acts[slot].bytes = sz;
    *out = h;
    return MLLM_OK;
}

static void vk_free_buffer(mllm_runner *r, void *buf) {
    vk_ctx *c = r->impl;
    for (int i = 0; i < VK_MAX_ACTS; i++) {
        if (c->acts[i].host && c->acts[i].host == buf) {
            p_vkDeviceWaitIdle(c->dev);
            vk_buf_free(c, &c->acts[i].dev);
            mllm_release_address_space(c->acts[i].host, c->acts[i].bytes);
            memset(&c->acts[i], 0, sizeof c->acts[i]);
        }
    }
}

/* ---- running graphs ---------------------------------------------------------------------- */

static void drop_cmds(vk_ctx *c) {
    for (int i = 0; i < VK_CMD_CACHE; i++) {
        if (c->cmds[i].cb) p_vkFreeCommandBuffers(c->dev, c->pool, 1, &c->cmds[i].cb);
        free(c->cmds[i].stage_row);
        memset(&c->cmds[i], 0, sizeof c->cmds[i]);
    }
}

/* Device-side state that depends on the session: KV cache, RoPE tables, step buffer, scratch. */
static mllm_status ensure_state(vk_ctx *c, const mllm_graph *g, const mllm_exec *ex) {
    int grew = 0;
    mllm_status st;
    const mllm_kv_cache *kv = ex->kv;
    if (c->kv != kv) {
        const size_t bytes = (size_t)kv->n_layer * (size_t)kv->n_ctx * kv->row_bytes;
        vk_buf_free(c, &c->kv_k);
        vk_buf_free(c, &c->kv_v);
        if ((st = vk_buf_create(c, bytes, 0, &c->kv_k)) || (st = vk_buf_create(c, bytes, 0, &c->kv_v))) return st;
        c->kv = kv;
        grew = 1;
    }
    if (c->rope_src != ex->rope_cos) {
        const size_t half = (size_t)kv->n_ctx * (size_t)(kv->head_dim / 2) * sizeof(float);
        c->rope_half_bytes = (half + 255) & ~(size_t)255;
        vk_buf_free(c, &c->rope);
        if ((st = vk_buf_create(c, 2 * c->rope_half_bytes, 0, &c->rope))) return st;
        if ((st = vk_transfer(c, c->rope.buf, 0, (void *)ex->rope_cos, half, 1))) return st;
        if ((st = vk_transfer(c, c->rope.buf, c->rope_half_bytes, (void *)ex->rope_sin, half, 1))) return st;
        c->rope_src = ex->rope_cos;
        grew = 1;
    }
    if (g->n_tokens > c->step_cap) {
        int64_t cap = g->n_tokens < 512 ? 512 : g->n_tokens;
        if ((st = vk_buf_ensure(c, &c->step, (VkDeviceSize)(cap + 1) * sizeof(int32_t), 1, &grew))) return st;
        if ((st = vk_buf_ensure(c, &c->step_dev, (VkDeviceSize)(cap + 1) * sizeof(int32_t), 0, &grew))) return st;
        c->step_cap = cap;
    }
    size_t so;
    const size_t q = vk_qx_need(g, &so);
    if (q && (st = vk_buf_ensure(c, &c->qx, q, 0, &grew))) return st;
    const size_t ap = vk_att_part_need(g, kv->head_dim);
    if (ap && (st = vk_buf_ensure(c, &c->att_part, ap, 0, &grew))) return st;
    if (ap && !c->att_ctr.buf) {
        static const uint32_t zeros[ATT_MAX_HEADS];
        if ((st = vk_buf_create(c, sizeof zeros, 0, &c->att_ctr))) return st;
        if ((st = vk_transfer(c, c->att_ctr.buf, 0, (void *)zeros, sizeof zeros, 1))) return st;
        vk_bind_counters(c, c->att_ctr.buf);
        grew = 1;
    }
    const size_t rb = (size_t)g->n_out * g->acts[MLLM_ACT_OUT].nb[1];
    if (rb && (st = vk_buf_ensure(c, &c->readback, rb, 1, &grew))) return st;
    if (grew) drop_cmds(c); /* recorded addresses changed */
    return MLLM_OK;
}

static mllm_status vk_compute(mllm_runner *r, const mllm_graph *g, const mllm_exec *ex) {
    vk_ctx *c = r->impl;
    mllm_status st = ensure_state(c, g, ex);
    if (st) return st;
    vk_cmd *hit = NULL, *victim = &c->cmds[0];
    for (int i = 0; i < VK_CMD_CACHE; i++) {
        vk_cmd *e = &c->cmds[i];
        if (e->cb && e->g == g && e->n_tokens == g->n_tokens && e->n_out == g->n_out && e->out_hidden == g->out_hidden &&
            e->n_nodes == g->n_nodes) {
            hit = e;
            break;
        }
        if (!e->cb || (victim->cb && e->last_use < victim->last_use)) victim = e;
    }
    if (!hit) {
        hit = victim;
        if (!hit->cb) {
            VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, .commandPool = c->pool,
                                              .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY, .commandBufferCount = 1};
            VKCHECK(p_vkAllocateCommandBuffers(c->dev, &ai, &hit->cb), "vkAllocateCommandBuffers");
        }
        hit->g = NULL;
        c->n_dispatch = 0;
        if (c->prof.on && !hit->stage_row && !(hit->stage_row = malloc(PROF_MAX_TS))) {
            return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory (Vulkan profile)");
        }
        c->prof.rec_rows = hit->stage_row;
        c->prof.rec_n = 0;
        c->prof.rec_decode = g->n_tokens == 1;
        st = vk_record_graph(c, g, hit->cb);
        hit->n_stages = c->prof.rec_n;
        c->prof.rec_rows = NULL;
        if (st) return st;
        if (vk_env_flag("MLLM_VULKAN_VERBOSE")) {
            fprintf(stderr, "mobilellm: Vulkan graph of %d token(s), %d output row(s): %d nodes -> %d dispatches\n", g->n_tokens,
                    g->n_out, g->n_nodes, c->n_dispatch);
        }
        hit->g = g;
        hit->n_tokens = g->n_tokens;
        hit->n_out = g->n_out;
        hit->out_hidden = g->out_hidden;
        hit->n_nodes = g->n_nodes;
    }
    hit->last_use = ++c->clock;
    int32_t *step = c->step.map;
    step[0] = ex->n_past;
    memcpy(step + 1, ex->tokens, (size_t)g->n_tokens * sizeof(int32_t));
    c->out_data = NULL;
    const int64_t t0 = c->prof.on ? mllm_now_ns() : 0;
    if ((st = vk_submit_step(c, hit->cb))) return st;
    if (c->prof.on && hit->n_stages > 0) vk_profile_collect(c, hit, g->n_tokens == 1, (uint64_t)(mllm_now_ns() - t0));
    c->out_data = g->acts[MLLM_ACT_OUT].data;
    c->out_rows = g->n_out;
    c->out_row_bytes = g->acts[MLLM_ACT_OUT].nb[1];
    return MLLM_OK;
}

static mllm_status vk_read_output(mllm_runner *r, const mllm_tensor *t, int64_t row0, int64_t n_rows, float *dst) {
    vk_ctx *c = r->impl;
    if (row0 < 0 || n_rows < 0 || row0 + n_rows > t->ne[1]) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "read_output: rows [%lld, %lld) outside the tensor's %lld rows",
                         (long long)row0, (long long)(row0 + n_rows), (long long)t->ne[1]);
    }
    if (t->data == c->out_data && row0 + n_rows <= c->out_rows && t->nb[1] == c->out_row_bytes) {
        memcpy(dst, (const char *)c->readback.map + (size_t)row0 * t->nb[1], (size_t)n_rows * t->nb[1]);
        return MLLM_OK;
    }
    /* any other activation: a one-off download */
    for (int j = 0; j < VK_MAX_ACTS; j++) {
        const vk_act *a = &c->acts[j];
        const char *p = (const char *)t->data + (size_t)row0 * t->nb[1];
        if (a->host && p >= a->host && p < a->host + a->bytes) {
            return vk_transfer(c, a->dev.buf, (VkDeviceSize)(p - a->host), dst, (size_t)n_rows * t->nb[1], 0);
        }
    }
    return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: read_output of a tensor unknown to the device");
}

/* Context shift on the device copy of the cache: download, re-rotate with the CPU code, upload
 * (rare: half the movable context is dropped each time). */
static mllm_status vk_kv_shift(mllm_runner *r, mllm_kv_cache *kv, int32_t dst, int32_t src, int32_t n_past,
                               const double *inv_freq) {
    vk_ctx *c = r->impl;
    if (c->kv != kv) { /* nothing computed yet on the device */
        mllm_kv_cache_shift(kv, dst, src, n_past, inv_freq);
        return MLLM_OK;
    }
    const size_t bytes = (size_t)kv->n_layer * (size_t)kv->n_ctx * kv->row_bytes;
    mllm_status st = vk_transfer(c, c->kv_k.buf, 0, kv->k, bytes, 0);
    if (!st) st = vk_transfer(c, c->kv_v.buf, 0, kv->v, bytes, 0);
    if (st) return st;
    mllm_kv_cache_shift(kv, dst, src, n_past, inv_freq);
    st = vk_transfer(c, c->kv_k.buf, 0, kv->k, bytes, 1);
    if (!st) st = vk_transfer(c, c->kv_v.buf, 0, kv->v, bytes, 1);
    return st;
}

static void vk_runner_free(mllm_runner *r) {
    if (!r) return;
    vk_ctx_free(r->impl);
    free(r);
}

static const mllm_runner_iface vk_runner_iface = {
    .alloc = vk_alloc,
    .free_buffer = vk_free_buffer,
    .compute = vk_compute,
    .read_output = vk_read_output,
    .kv_shift = vk_kv_shift,
    .free = vk_runner_free,
};

/* The model-scoped part: which device to use and the model's weights, checked. Each runner opens
 * the Vulkan device itself and uploads the weights to it. */
typedef struct vk_device {
    int32_t gpu_device;
    int gpu_only;
    const mllm_tensor **weights;
    int n_weights;
} vk_device;

static mllm_status vk_runner_create(mllm_device *dev, int n_threads, mllm_runner **out) {
    *out = NULL;
    const vk_device *vd = dev->impl;
    vk_ctx *c = calloc(1, sizeof *c);
    mllm_runner *r = calloc(1, sizeof *r);
    if (!c || !r) {
        free(c);
        free(r);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory creating the Vulkan backend");
    }
    mllm_status st = vk_open_device(c, vd->gpu_device, vd->gpu_only);
    if (!st) st = vk_create_device(c);
    if (!st) st = upload_weights(c, vd->weights, vd->n_weights);
    if (st) {
        vk_ctx_free(c);
        free(r);
        return st;
    }
    r->iface = &vk_runner_iface;
    r->device = dev;
    r->impl = c;
    *out = r;
    return MLLM_OK;
}

static mllm_status vk_take_model(mllm_device *dev, const mllm_model_desc *m) {
    vk_device *vd = dev->impl;
    for (int i = 0; i < m->n_weights; i++) {
        mllm_status st = check_weight(m->weights[i].tensor);
        if (st) return st;
    }
    if (m->head_dim > 256 || m->head_dim % 2) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "Vulkan backend: head_dim %d unsupported (even, <= 256)", m->head_dim);
    }
    vk_ctx *probe = calloc(1, sizeof *probe); /* is the device there (and a GPU where asked)? */
    if (!probe) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory probing Vulkan");
    mllm_status st = vk_open_device(probe, vd->gpu_device, vd->gpu_only);
    vk_ctx_free(probe);
    if (st) return st;
    vd->weights = malloc((size_t)m->n_weights * sizeof *vd->weights);
    if (!vd->weights) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory listing weights");
    for (int i = 0; i < m->n_weights; i++) vd->weights[i] = m->weights[i].tensor;
    vd->n_weights = m->n_weights;
    return MLLM_OK;
}

static void vk_device_free(mllm_device *dev) {
    if (!dev) return;
    vk_device *vd = dev->impl;
    free(vd->weights);
    free(vd);
    free(dev);
}

static const mllm_device_iface vk_device_iface = {
    .take_model = vk_take_model,
    .runner_create = vk_runner_create,
    .free = vk_device_free,
};

mllm_status mllm_vulkan_device_create(int32_t gpu_device, int gpu_only, mllm_device **out) {
    *out = NULL;
    mllm_device *dev = calloc(1, sizeof *dev);
    vk_device *vd = calloc(1, sizeof *vd);
    if (!dev || !vd) {
        free(dev);
        free(vd);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory creating the Vulkan backend");
    }
    vd->gpu_device = gpu_device;
    vd->gpu_only = gpu_only;
    dev->iface = &vk_device_iface;
    dev->impl = vd;
    /* mul_mv.comp's decode kernels fuse, for single rows they can stage (FUSEX_KMAX); the q/k/v
     * epilogue takes rows in aligned groups of 4 (a RoPE pair never straddles workgroups) */
    dev->fusions = (mllm_fusion_caps){.kinds = MLLM_FUSE_PRE_NORM | MLLM_FUSE_ADD_RESIDUAL | MLLM_FUSE_ROPE_STORE |
                                               MLLM_FUSE_SWIGLU_BEFORE,
                                      .max_rows = 1, .max_k = FUSEX_KMAX, .rope_rows = 4};
    *out = dev;
    return MLLM_OK;
}

#endif
