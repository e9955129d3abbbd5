/* Vulkan backend: the whole forward pass on the GPU.
 *
 * - The loader is opened at run time (libvulkan.so.1; vulkan-1.dll on Windows; on macOS the Vulkan
 *   loader or MoltenVK itself): a machine without Vulkan gets a clear MLLM_ERR_BACKEND, never a
 *   library that fails to load.
 * - One device per model (vk_context.h): the weights are uploaded once into device-local buffers
 *   (chunks no larger than the device's maxMemoryAllocationSize, 1 GiB at most) and stay resident,
 *   shared by every session; sessions' KV caches are device buffers of the same device; RoPE
 *   tables and all activations live on the device with the compute context's runner. Only the
 *   graph's output rows come back, copied to a host-visible buffer inside the same submission.
 * - Kernels take tensors as buffer device addresses in push constants, so any tensor is addressed
 *   whole, whatever maxStorageBufferRange is (128 MiB on lavapipe). The one descriptor set holds
 *   attention_dec's counters, whose atomics must be on a bound buffer to translate to Metal.
 * - One command buffer is recorded per graph (shape) and replayed: what changes per step (each
 *   row's token, position and sequence, each sequence's KV cache) is read by the kernels from a
 *   small step buffer (shaders/step.h), so a step is one vkQueueSubmit and one fence wait,
 *   whichever sessions take part.
 * - Decode steps (one row, or up to 16 rows of several sequences with q8_0/q4_0 weights) fuse
 *   where it pays (the fusions the device declares, marked on the graph by the fusion planner):
 *   the matvec kernels stage their input in shared memory and apply the preceding RMS norm, SwiGLU
 *   or q8_0 activation rounding there, the q/k/v matvecs apply RoPE and write K/V straight into
 *   each row's cache, the wo/down matvecs add straight into the residual stream, and attention
 *   splits the keys over up to 32 workgroups per (token, head), merged by the last one to finish:
 *   5 barriers per layer (on an H200 each barrier stage costs ~5 us however little it computes,
 *   so stages, not bytes, set the decode speed of these thin models, and a step of 8 sequences
 *   costs little more than a step of one).
 * - The activation "pointers" are a reserved, inaccessible host address range (no access allowed) that
 *   maps 1:1 onto a device buffer: the graph built by model_graph.c is used unchanged and any
 *   accidental host access faults at once.
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

#include "backends/vulkan/shaders/step.h"
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

/* Copies the weights (checked by take_model) into device-local buffers, once for the model. */
static mllm_status upload_weights(vk_dev *c, const mllm_model_desc *m) {
    const int n = m->n_weights;
    c->weights = calloc((size_t)n, sizeof *c->weights);
    size_t *off = calloc((size_t)n, sizeof *off);
    int *chunk = calloc((size_t)n, sizeof *chunk);
    if (!c->weights || !off || !chunk) {
        free(off);
        free(chunk);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory listing weights");
    }
    /* distinct tensors (the tied output head aliases the embedding), packed into chunks */
    size_t sizes[VK_MAX_WBUFS] = {0};
    int nw = 0, nc = 1;
    mllm_status st = MLLM_OK;
    for (int i = 0; i < n && !st; i++) {
        const mllm_tensor *w = m->weights[i].tensor;
        int dup = 0;
        for (int j = 0; j < nw; j++) dup |= c->weights[j].host == w->data;
        if (dup) continue;
        size_t bytes = tensor_bytes(w), padded = (bytes + 255) & ~(size_t)255;
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
        c->weights[nw] = (vk_weight){w->data, bytes, 0};
        chunk[nw] = nc - 1;
        off[nw] = sizes[nc - 1];
        sizes[nc - 1] += padded;
        nw++;
    }
    for (int b = 0; b < nc && !st; b++) {
        st = vk_buf_create(c, sizes[b], 0, MLLM_MEM_WEIGHTS, &c->wbufs[b]);
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

VkDeviceAddress vk_addr_of(const vk_run *c, const void *p) {
    const char *q = p;
    for (int i = 0; i < VK_MAX_ACTS; i++) {
        const vk_act *a = &c->acts[i];
        if (a->host && q >= a->host && q < a->host + a->bytes) return a->dev.addr + (VkDeviceAddress)(q - a->host);
    }
    for (int i = 0; i < c->d->n_weights; i++) {
        const vk_weight *w = &c->d->weights[i];
        if (q >= w->host && q < w->host + (w->bytes ? w->bytes : 1)) return w->addr + (VkDeviceAddress)(q - w->host);
    }
    return 0;
}

/* ---- the runner: activations ------------------------------------------------------------- */

static void drop_cmds(vk_run *c) {
    for (int i = 0; i < VK_CMD_CACHE; i++) {
        if (c->cmds[i].cb) p_vkFreeCommandBuffers(c->d->dev, c->pool, 1, &c->cmds[i].cb);
        free(c->cmds[i].stage_row);
        memset(&c->cmds[i], 0, sizeof c->cmds[i]);
    }
}

static mllm_status vk_alloc(mllm_runner *r, size_t bytes, void **out) {
    vk_run *c = r->impl;
    int slot = -1;
    for (int i = 0; i < VK_MAX_ACTS && slot < 0; i++) {
        if (!c->acts[i].host) slot = i;
    }
    if (slot < 0) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: too many activation buffers");
    size_t sz = bytes ? bytes : 64;
    void *h = mllm_reserve_address_space(sz);
    if (!h) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "cannot reserve %zu bytes of address space", sz);
    mllm_status st = vk_buf_create(c->d, sz, 0, MLLM_MEM_COMPUTE, &c->acts[slot].dev);
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
    vk_run *c = r->impl;
    for (int i = 0; i < VK_MAX_ACTS; i++) {
        if (c->acts[i].host && c->acts[i].host == buf) {
            p_vkWaitForFences(c->d->dev, 1, &c->fence, VK_TRUE, UINT64_MAX);
            drop_cmds(c); /* every recording addressed it */
            vk_buf_free(c->d, &c->acts[i].dev);
            mllm_release_address_space(c->acts[i].host, c->acts[i].bytes);
            memset(&c->acts[i], 0, sizeof c->acts[i]);
        }
    }
}

/* ---- the runner: running graphs ----------------------------------------------------------- */

/* Scratch buffers the graph needs and the RoPE tables of the run, on the device. */
static mllm_status ensure_state(vk_run *c, const mllm_graph *g, const mllm_exec *ex, const mllm_kv_cache *kv) {
    vk_dev *d = c->d;
    int grew = 0;
    mllm_status st;
    if (c->rope_src != ex->rope_cos || c->rope_positions != ex->n_positions) {
        const size_t half = (size_t)ex->n_positions * (size_t)(kv->head_dim / 2) * sizeof(float);
        c->rope_half_bytes = (half + 255) & ~(size_t)255;
        vk_buf_free(d, &c->rope);
        if ((st = vk_buf_create(d, 2 * c->rope_half_bytes, 0, MLLM_MEM_COMPUTE, &c->rope))) return st;
        if ((st = vk_transfer(d, c->rope.buf, 0, (void *)ex->rope_cos, half, 1))) return st;
        if ((st = vk_transfer(d, c->rope.buf, c->rope_half_bytes, (void *)ex->rope_sin, half, 1))) return st;
        c->rope_src = ex->rope_cos;
        c->rope_positions = ex->n_positions;
        grew = 1;
    }
    if (g->n_tokens > c->step_cap) {
        const int64_t cap = g->n_tokens < 512 ? 512 : g->n_tokens;
        const VkDeviceSize bytes = (VkDeviceSize)(STEP_ROWS + STEP_ROW_WORDS * cap) * sizeof(uint32_t);
        if ((st = vk_buf_ensure(d, &c->step, bytes, 1, MLLM_MEM_COMPUTE, &grew))) return st;
        if ((st = vk_buf_ensure(d, &c->step_dev, bytes, 0, MLLM_MEM_COMPUTE, &grew))) return st;
        c->step_cap = cap;
    }
    size_t so;
    const size_t q = vk_qx_need(g, &so);
    if (q && (st = vk_buf_ensure(d, &c->qx, q, 0, MLLM_MEM_COMPUTE, &grew))) return st;
    const size_t ap = vk_att_part_need(g, kv->head_dim);
    if (ap && (st = vk_buf_ensure(d, &c->att_part, ap, 0, MLLM_MEM_COMPUTE, &grew))) return st;
    if (ap && !c->att_ctr.buf) {
        static const uint32_t zeros[ATT_DEC_MAX_TOKENS * ATT_MAX_HEADS];
        if ((st = vk_buf_create(d, sizeof zeros, 0, MLLM_MEM_COMPUTE, &c->att_ctr))) return st;
        if ((st = vk_transfer(d, c->att_ctr.buf, 0, (void *)zeros, sizeof zeros, 1))) return st;
        vk_bind_counters(c, c->att_ctr.buf);
        grew = 1;
    }
    const size_t rb = (size_t)g->n_out * g->acts[MLLM_ACT_OUT].nb[1];
    if (rb && (st = vk_buf_ensure(d, &c->readback, rb, 1, MLLM_MEM_COMPUTE, &grew))) return st;
    if (grew) drop_cmds(c); /* recorded addresses changed */
    return MLLM_OK;
}

/* The step buffer for this run: each sequence's caches, each row's token, position, sequence and
 * (for output rows) the row it gathers. */
static void write_step(vk_run *c, const mllm_graph *g, const mllm_exec *ex) {
    uint32_t *w = c->step.map;
    for (int32_t s = 0; s < ex->n_seqs; s++) {
        const mllm_kv_cache *kv = ex->seqs[s].kv;
        const VkDeviceAddress ka = ((const vk_buf *)kv->kbuf->impl)->addr, va = ((const vk_buf *)kv->vbuf->impl)->addr;
        uint32_t *e = w + s * STEP_SEQ_WORDS;
        e[0] = (uint32_t)ka;
        e[1] = (uint32_t)(ka >> 32);
        e[2] = (uint32_t)va;
        e[3] = (uint32_t)(va >> 32);
        /* byte counts < 2^32: a cache buffer is at most max_alloc */
        e[4] = (uint32_t)((size_t)kv->n_ctx * kv->row_bytes);
        e[5] = e[6] = 0;
        for (int32_t l = 0; l < kv->n_layer; l++) { /* the sliding-window layers all have one window (vk_take_model) */
            const mllm_kv_layer *L = &kv->layers[l];
            if (!L->window) continue;
            e[5] = (uint32_t)((size_t)L->rows * (size_t)mllm_kv_copies(kv, l) * kv->row_bytes);
            e[6] = L->ring ? (uint32_t)L->rows : 0u;
            break;
        }
        e[7] = (uint32_t)kv->ring_lo;
        for (int32_t r = ex->seqs[s].row0; r < ex->seqs[s].row0 + ex->seqs[s].n_rows; r++) {
            uint32_t *row = w + STEP_ROWS + STEP_ROW_WORDS * r;
            row[0] = (uint32_t)ex->tokens[r];
            row[1] = (uint32_t)mllm_exec_pos(&ex->seqs[s], r);
            row[2] = (uint32_t)s;
        }
    }
    if (g->gather_out)
        for (int32_t i = 0; i < g->n_out; i++) w[STEP_ROWS + STEP_ROW_WORDS * i + 3] = (uint32_t)ex->out_rows[i];
}

static mllm_status vk_compute(mllm_runner *r, const mllm_graph *g, const mllm_exec *ex, int n_threads) {
    vk_run *c = r->impl;
    (void)n_threads;
    if (ex->n_seqs > STEP_MAX_SEQS) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "Vulkan: more than %d sequences in a run", STEP_MAX_SEQS);
    /* the whole graph is one submission: a cancellation is looked at before it */
    if (ex->abort && ex->abort(ex->abort_ctx)) return mllm_fail(MLLM_ERR_CANCELLED, "cancelled");
    const mllm_kv_cache *kv = ex->seqs[0].kv; /* every cache of a run has the model's shape and one type */
    mllm_status st = ensure_state(c, g, ex, kv);
    if (st) return st;
    vk_cmd *hit = NULL, *victim = &c->cmds[0];
    for (int i = 0; i < VK_CMD_CACHE; i++) {
        vk_cmd *e = &c->cmds[i];
        if (e->cb && e->g == g && e->n_tokens == g->n_tokens && e->n_out == g->n_out && e->out_hidden == g->out_hidden &&
            e->n_nodes == g->n_nodes && e->kv_type == kv->type) {
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
            VKCHECK(p_vkAllocateCommandBuffers(c->d->dev, &ai, &hit->cb), "vkAllocateCommandBuffers");
        }
        hit->g = NULL;
        c->n_dispatch = 0;
        if (c->prof.on && !hit->stage_row && !(hit->stage_row = malloc(PROF_MAX_TS))) {
            return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory (Vulkan profile)");
        }
        c->prof.rec_rows = hit->stage_row;
        c->prof.rec_n = 0;
        c->prof.rec_decode = g->n_tokens <= FUSEX_WIDE_ROWS;
        st = vk_record_graph(c, g, kv, hit->cb);
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
        hit->kv_type = kv->type;
    }
    hit->last_use = ++c->clock;
    write_step(c, g, ex);
    c->out_data = NULL;
    const int64_t t0 = c->prof.on ? mllm_now_ns() : 0;
    if ((st = vk_submit_step(c->d, hit->cb, c->fence))) return st;
    if (c->prof.on && hit->n_stages > 0) vk_profile_collect(c, hit, g->n_tokens <= FUSEX_WIDE_ROWS, (uint64_t)(mllm_now_ns() - t0));
    c->out_data = g->acts[MLLM_ACT_OUT].data;
    c->out_rows = g->n_out;
    c->out_row_bytes = g->acts[MLLM_ACT_OUT].nb[1];
    return MLLM_OK;
}

static mllm_status vk_read_output(mllm_runner *r, const mllm_tensor *t, int64_t row0, int64_t n_rows, float *dst) {
    vk_run *c = r->impl;
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
            return vk_transfer(c->d, a->dev.buf, (VkDeviceSize)(p - a->host), dst, (size_t)n_rows * t->nb[1], 0);
        }
    }
    return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: read_output of a tensor unknown to the device");
}

static void vk_runner_free(mllm_runner *r) {
    if (!r) return;
    vk_run *c = r->impl;
    if (c) {
        vk_dev *d = c->d;
        if (c->fence) p_vkWaitForFences(d->dev, 1, &c->fence, VK_TRUE, UINT64_MAX);
        if (c->prof.on) vk_profile_print(c);
        if (c->pool) drop_cmds(c);
        if (c->prof.timestamps) p_vkDestroyQueryPool(d->dev, c->prof.timestamps, NULL);
        for (int i = 0; i < VK_MAX_ACTS; i++) {
            if (c->acts[i].host) {
                vk_buf_free(d, &c->acts[i].dev);
                mllm_release_address_space(c->acts[i].host, c->acts[i].bytes);
            }
        }
        vk_buf *bs[] = {&c->rope, &c->step, &c->step_dev, &c->qx, &c->att_part, &c->att_ctr, &c->readback};
        for (size_t i = 0; i < sizeof bs / sizeof bs[0]; i++) vk_buf_free(d, bs[i]);
        if (c->desc_pool) p_vkDestroyDescriptorPool(d->dev, c->desc_pool, NULL);
        if (c->fence) p_vkDestroyFence(d->dev, c->fence, NULL);
        if (c->pool) p_vkDestroyCommandPool(d->dev, c->pool, NULL);
        free(c);
    }
    free(r);
}

static const mllm_runner_iface vk_runner_iface = {
    .alloc = vk_alloc,
    .free_buffer = vk_free_buffer,
    .compute = vk_compute,
    .read_output = vk_read_output,
    .free = vk_runner_free,
};

static mllm_status vk_runner_create(mllm_device *dev, mllm_runner **out) {
    *out = NULL;
    vk_dev *d = dev->impl;
    vk_run *c = calloc(1, sizeof *c);
    mllm_runner *r = calloc(1, sizeof *r);
    if (!c || !r) {
        free(c);
        free(r);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory creating the Vulkan backend");
    }
    c->d = d;
    r->iface = &vk_runner_iface;
    r->device = dev;
    r->impl = c;
    VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                  .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, .queueFamilyIndex = d->qfam};
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, .flags = VK_FENCE_CREATE_SIGNALED_BIT};
    VkResult vr = p_vkCreateCommandPool(d->dev, &pi, NULL, &c->pool);
    if (vr == VK_SUCCESS) vr = p_vkCreateFence(d->dev, &fi, NULL, &c->fence);
    mllm_status st = vr == VK_SUCCESS ? vk_profile_init(c) : mllm_fail(MLLM_ERR_BACKEND, "Vulkan: cannot create a command pool (VkResult %d)", (int)vr);
    if (!st) st = vk_counter_set_create(c);
    if (st) {
        vk_runner_free(r);
        return st;
    }
    *out = r;
    return MLLM_OK;
}

/* ---- KV-cache memory: device buffers ------------------------------------------------------ */

static mllm_status vk_buffer_alloc(mllm_device *dev, size_t size, mllm_mem_kind kind, mllm_buffer **out) {
    *out = NULL;
    mllm_buffer *b = calloc(1, sizeof *b);
    vk_buf *vb = calloc(1, sizeof *vb);
    mllm_status st = b && vb ? vk_buf_create(dev->impl, size, 0, kind, vb) : mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (st) {
        free(b);
        free(vb);
        return st;
    }
    b->size = size;
    b->kind = kind;
    b->impl = vb;
    *out = b;
    return MLLM_OK;
}

static void vk_buffer_free(mllm_device *dev, mllm_buffer *b) {
    if (!b) return;
    vk_buf_free(dev->impl, b->impl);
    free(b->impl);
    free(b);
}

static mllm_status vk_buffer_write(mllm_device *dev, mllm_buffer *b, size_t off, const void *src, size_t n) {
    return vk_transfer(dev->impl, ((vk_buf *)b->impl)->buf, off, (void *)src, n, 1);
}

static mllm_status vk_buffer_read(mllm_device *dev, const mllm_buffer *b, size_t off, void *dst, size_t n) {
    return vk_transfer(dev->impl, ((const vk_buf *)b->impl)->buf, off, dst, n, 0);
}

static mllm_status vk_buffer_copy(mllm_device *dev, mllm_buffer *dst, size_t dst_off, const mllm_buffer *src, size_t src_off,
                                  size_t n) {
    return vk_copy(dev->impl, ((vk_buf *)dst->impl)->buf, dst_off, ((const vk_buf *)src->impl)->buf, src_off, n);
}

/* ---- the device ---------------------------------------------------------------------------- */

/* What the matvec kernels fuse: decode rows they can stage (FUSEX_KMAX), and where the device has
 * the shared memory for it, batches of up to FUSEX_WIDE_ROWS rows with q8_0/q4_0 weights; larger
 * batches with those weights up to MV_BATCH_FUSED_ROWS rows, around the prompt kernels; the
 * q/k/v epilogue takes rows in aligned groups of 4 (a RoPE pair never straddles workgroups). */
static mllm_fusion_caps fusion_caps(const vk_dev *d) {
    mllm_fusion_caps f = {.kinds = MLLM_FUSE_PRE_NORM | MLLM_FUSE_ADD_RESIDUAL | MLLM_FUSE_ROPE_STORE | MLLM_FUSE_SWIGLU_BEFORE,
                          .max_rows = 1, .max_k = FUSEX_KMAX, .rope_rows = 4};
    /* mv_*_f2: MV_STEP_ROWS rows of FUSEX_WIDE_K values staged as q8_0 (k + k / 8 bytes each)
     * and their 64 partial sums each */
    const uint32_t wide_shared = MV_STEP_ROWS * (FUSEX_WIDE_K + FUSEX_WIDE_K / 8 + 64 * 4);
    if (d->max_shared >= wide_shared) {
        f.wide_rows = FUSEX_WIDE_ROWS;
        f.wide_k = FUSEX_WIDE_K;
        f.wide_types = 1ull << MLLM_TYPE_Q8_0 | 1ull << MLLM_TYPE_Q4_0;
    }
    /* larger batches: quant_q8.comp computes the norm or SwiGLU, the prompt kernels' epilogue the
     * residual add or RoPE + KV store, the decode attention quantizes its output for wo
     * (MV_BATCH_FUSED_ROWS) */
    f.batch_rows = d->batch_rows;
    f.batch_kinds = MLLM_FUSE_PRE_NORM | MLLM_FUSE_ADD_RESIDUAL | MLLM_FUSE_ROPE_STORE | MLLM_FUSE_SWIGLU_BEFORE | MLLM_FUSE_ATTN_QUANT;
    f.batch_types = 1ull << MLLM_TYPE_Q8_0 | 1ull << MLLM_TYPE_Q4_0;
    return f;
}

static mllm_status vk_take_model(mllm_device *dev, const mllm_model_desc *m) {
    vk_dev *d = dev->impl;
    for (int i = 0; i < m->n_weights; i++) {
        mllm_status st = check_weight(m->weights[i].tensor);
        if (st) return st;
    }
    if (m->head_dim > 256 || m->head_dim % 2) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "Vulkan backend: head_dim %d unsupported (even, <= 256)", m->head_dim);
    }
    int32_t window = 0; /* the kernels address every sliding-window layer alike (step.h) */
    for (int32_t l = 0; l < m->n_layer; l++) {
        const int32_t w = m->attn[l].window;
        if (w && window && w != window) {
            return mllm_fail(MLLM_ERR_UNSUPPORTED, "Vulkan backend: sliding windows of different sizes (%d, %d)", window, w);
        }
        if (w) window = w;
    }
    mllm_status st = vk_open_device(d, d->gpu_device, d->gpu_only);
    if (!st) st = vk_create_device(d);
    if (!st) st = upload_weights(d, m);
    if (!st) dev->fusions = fusion_caps(d);
    dev->kv_types = 1u << MLLM_KV_F16 | 1u << MLLM_KV_F32; /* the kernels read f16 and f32 caches */
    return st;
}

static void vk_device_free(mllm_device *dev) {
    if (!dev) return;
    vk_dev *d = dev->impl;
    vk_dev_close(d);
    free(d->weights);
    mllm_mutex_destroy(&d->lock);
    free(d);
    free(dev);
}

static const mllm_device_iface vk_device_iface = {
    .take_model = vk_take_model,
    .runner_create = vk_runner_create,
    .buffer_alloc = vk_buffer_alloc,
    .buffer_free = vk_buffer_free,
    .buffer_write = vk_buffer_write,
    .buffer_read = vk_buffer_read,
    .buffer_copy = vk_buffer_copy,
    .free = vk_device_free,
};

mllm_status mllm_vulkan_device_create(int32_t gpu_device, int gpu_only, mllm_device **out) {
    *out = NULL;
    mllm_device *dev = calloc(1, sizeof *dev);
    vk_dev *d = calloc(1, sizeof *d);
    if (!dev || !d || mllm_mutex_init(&d->lock) != 0) {
        free(dev);
        free(d);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory creating the Vulkan backend");
    }
    d->owner = dev;
    d->gpu_device = gpu_device;
    d->gpu_only = gpu_only;
    dev->iface = &vk_device_iface;
    dev->impl = d;
    dev->max_threads = 1;
    dev->device_memory = 1;
    for (int k = 0; k < MLLM_MEM_KINDS; k++) atomic_init(&dev->mem[k], 0);
    *out = dev;
    return MLLM_OK;
}

#endif
