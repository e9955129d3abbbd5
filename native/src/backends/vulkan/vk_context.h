/* What the Vulkan backend's files share. The backend is split by lifetime:
 *   vk_dev  one per model (the mllm_device): the VkDevice, its queue, the pipelines, the one
 *           uploaded copy of the weights, and the transfers between host and device memory
 *           (staging buffer and a command pool of their own). Its lock serializes everything that
 *           uses the queue or the staging buffer, so runs and KV-cache copies may come from any
 *           thread.
 *   vk_run  one per compute context (the mllm_runner): activation buffers, scratch buffers, the
 *           step buffer, the recorded command buffers and their fence. Used by one run at a time.
 * Sessions' KV caches are device buffers the vk_dev allocates (mllm_buffer); a run finds each row's
 * cache through the step buffer (shaders/step.h), so recorded command buffers serve any sessions.
 * The files split the backend by concern: vk_loader.c (the loader), vk_device.c (instance,
 * device, queue, submissions), vk_memory.c (buffers, transfers, barriers), vk_pipelines.c (the
 * compute pipelines), vk_record.c (a graph into a command buffer, one record_<op> per op),
 * vk_profile.c (MLLM_VULKAN_PROFILE) and backend_vulkan.c (the backend interface). */
#ifndef MLLM_VK_CONTEXT_H
#define MLLM_VK_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "backends/vulkan/vk_loader.h"
#include "backends/vulkan/vk_pipelines.h"
#include "core/errors.h"
#include "graph/backend.h"
#include "graph/graph.h"
#include "graph/kv_cache.h"
#include "platform/threads.h"

/* Every kernel's push constants fit in this many bytes (the minimum maxPushConstantsSize), so one
 * pipeline layout serves them all. */
#define VK_PUSH_BYTES 128
/* mul_mv.comp stages a decode input row of at most this many values in shared memory */
#define FUSEX_KMAX 3584
/* ... and for batches of a few rows (mv_*_f2): rows of at most this many values, MV_STEP_ROWS
 * per workgroup (one row of workgroups per pair of sequences: staging 4 or 8 rows per workgroup
 * made an H200 slower, not faster, with and without integer dot products) */
#define FUSEX_WIDE_K 2560
#define MV_STEP_ROWS 2
/* fused steps of at most this many rows: from 8 sequences on, the separate norm, quantize and
 * prompt matmul dispatches were faster on an H200 (2,270 against 2,210 t/s for 8 sequences of the
 * 125M shape, 1,340 against 1,060 for the 350M shape; with integer dot products, fused steps of 8
 * rows staged 4 per workgroup: 2,029 against 2,809 and 955 against 2,371) */
#define FUSEX_WIDE_ROWS 4
/* batches of more than FUSEX_WIDE_ROWS and at most this many rows with q8_0/q4_0 weights (several
 * sequences' decode steps) run the prompt matmul kernels with the norm or SwiGLU before them done by
 * the activation quantization, the residual add or RoPE + KV store in their epilogue, and wo's input
 * quantized by the decode attention: 8 stages per layer instead of 13. Default of
 * MLLM_VULKAN_BATCH_ROWS (0: none). */
#define MV_BATCH_FUSED_ROWS 16
/* decode matvec workgroups at most: default of MLLM_VULKAN_GROUPS */
#define MV_FUSED_GROUPS 1024
/* attention_dec.comp: heads per token, and tokens per dispatch */
#define ATT_MAX_HEADS 1024
#define ATT_DEC_MAX_TOKENS 16

typedef struct vk_buf {
    VkBuffer buf;
    VkDeviceMemory mem;
    VkDeviceSize size;
    VkDeviceAddress addr;
    void *map;           /* host-visible buffers only */
    VkDeviceSize counted; /* bytes counted in the device's memory of kind `kind` */
    mllm_mem_kind kind;
} vk_buf;

typedef struct vk_weight {
    const char *host;
    size_t bytes;
    VkDeviceAddress addr;
} vk_weight;

typedef struct vk_act { /* a reserved host range standing for a device buffer */
    char *host;
    size_t bytes;
    vk_buf dev;
} vk_act;

#define VK_CMD_CACHE 16  /* recorded graphs kept per runner */
#define VK_MAX_ACTS 4    /* activation allocations per runner */
#define VK_MAX_WBUFS 64  /* weight buffers (each at most maxMemoryAllocationSize) */

/* The model's device. */
typedef struct vk_dev {
    mllm_device *owner;      /* the mllm_device (memory counts) */
    int32_t gpu_device;
    int gpu_only;
    VkInstance inst;
    VkPhysicalDevice pd;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties mem;
    VkDeviceSize max_alloc;
    uint32_t max_shared;     /* maxComputeSharedMemorySize */
    VkDevice dev;
    VkQueue queue;
    uint32_t qfam;
    /* The one descriptor: attention_dec's counters as a storage buffer (set 0, binding 0). Atomics
     * through buffer device addresses have no Metal translation in SPIRV-Cross, bound buffers do. */
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkPipeline pipes[VK_PIPE_COUNT];
    vk_buf wbufs[VK_MAX_WBUFS];
    int n_wbufs;
    vk_weight *weights;
    int n_weights;
    /* transfers and the queue */
    mllm_mutex lock;
    VkCommandPool xfer_pool;
    VkFence xfer_fence;
    vk_buf staging;          /* host visible */
    int xf_mode;             /* MLLM_VULKAN_XF: decode input staging, 0 per block, 1 shared row, 2 row for SwiGLU only */
    int mv_groups;           /* most workgroups of a decode matvec (MLLM_VULKAN_GROUPS) */
    int spin;                /* poll the fence of a decode step (MLLM_VULKAN_SPIN=0: block at once) */
    int batch_rows;          /* batches up to this many rows fuse around the prompt kernels (MLLM_VULKAN_BATCH_ROWS) */
    int batch_nc;            /* MLLM_VULKAN_BATCH_NC: rows per workgroup of those batches, 2, 4 or 8 (0: by size, vk_record.c) */
    int dot4;                /* integer dot products enabled: the *_dot4 pipelines exist (MLLM_VULKAN_DOT4=0: off) */
} vk_dev;

typedef struct vk_cmd {
    const mllm_graph *g;
    int32_t n_tokens, n_out, out_hidden, n_nodes, kv_type;
    VkCommandBuffer cb;
    uint64_t last_use;
    uint8_t *stage_row; /* profiling: stage s (ended by timestamp s + 1) adds to prof row stage_row[s] */
    int n_stages;
} vk_cmd;

/* MLLM_VULKAN_PROFILE: GPU nanoseconds per stage kind (label = last pipeline of the stage and its
 * output rows; "d:" decode graphs, "p:" prompt graphs). */
#define PROF_MAX_TS 4096
#define PROF_ROWS 96
typedef struct vk_prof_row {
    char name[40];
    double ns;
    uint64_t n;
} vk_prof_row;

typedef struct vk_profiler {
    int on;
    VkQueryPool timestamps;
    uint8_t *rec_rows;     /* stage rows of the command buffer being recorded */
    int rec_n;
    int rec_decode;
    char label[38];        /* the last dispatch's label; with a "d:"/"p:" prefix it fits a row name[40] */
    vk_prof_row rows[PROF_ROWS];
    int n_rows;
    double gpu_ns[2], host_ns[2]; /* [decode, prompt]: whole graphs */
    uint64_t graphs[2];
} vk_profiler;

/* A runner: one run at a time. */
typedef struct vk_run {
    vk_dev *d;
    VkCommandPool pool;
    VkFence fence;
    /* the set bound for attention_dec's counters (vk_bind_counters), from a pool of one */
    VkDescriptorPool desc_pool;
    VkDescriptorSet ctr_set;
    vk_act acts[VK_MAX_ACTS];
    vk_buf rope;             /* cos table then sin table */
    const float *rope_src;
    int32_t rope_positions;
    size_t rope_half_bytes;
    vk_buf step;             /* the step buffer (shaders/step.h), host visible */
    vk_buf step_dev;         /* its device-local copy, made at the start of each submission */
    int64_t step_cap;        /* rows it has room for */
    vk_buf qx;               /* q8_0 activations + scales */
    vk_buf att_part;         /* split-K attention partials */
    vk_buf att_ctr;          /* attention_dec's counters (zero between dispatches) */
    vk_buf readback;         /* host visible */

    vk_cmd cmds[VK_CMD_CACHE];
    uint64_t clock;
    int n_dispatch; /* in the command buffer being recorded */
    vk_profiler prof;
    /* output rows of the last compute, in `readback` */
    const void *out_data;
    int64_t out_rows;
    size_t out_row_bytes;
} vk_run;

#define VKCHECK(call, what)                                                                   \
    do {                                                                                      \
        VkResult r_ = (call);                                                                 \
        if (r_ != VK_SUCCESS) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: %s failed (VkResult %d)", what, (int)r_); \
    } while (0)

/* vk_device.c: a device is opened on device number index (see mllm_vulkan_device_create) with
 * vk_open_device, made usable with vk_create_device (queue, pipelines, transfers), freed with
 * vk_dev_close. */
int vk_env_flag(const char *name);
mllm_status vk_open_device(vk_dev *d, int32_t index, int gpu_only);
mllm_status vk_create_device(vk_dev *d);
void vk_dev_close(vk_dev *d);
/* A one-off command buffer of pool, begun. */
mllm_status vk_begin_once(vk_dev *d, VkCommandPool pool, VkCommandBuffer *cb);
/* Submits cb and waits for fence; the caller holds d->lock. */
mllm_status vk_submit_wait_locked(vk_dev *d, VkCommandBuffer cb, VkFence fence);
/* A graph submission (d->lock taken for the submit only), waiting for fence. */
mllm_status vk_submit_step(vk_dev *d, VkCommandBuffer cb, VkFence fence);

/* vk_memory.c: buffers are counted in the device's memory of `kind` while they live */
mllm_status vk_buf_create(vk_dev *d, VkDeviceSize size, int host, mllm_mem_kind kind, vk_buf *b);
void vk_buf_free(vk_dev *d, vk_buf *b);
mllm_status vk_buf_ensure(vk_dev *d, vk_buf *b, VkDeviceSize size, int host, mllm_mem_kind kind, int *grew);
/* Copies between host memory and a device buffer through the staging buffer (to_dev: host ->
 * device), or between two device buffers. Take d->lock. */
mllm_status vk_transfer(vk_dev *d, VkBuffer dev, VkDeviceSize dev_off, void *host, size_t bytes, int to_dev);
mllm_status vk_copy(vk_dev *d, VkBuffer dst, VkDeviceSize dst_off, VkBuffer src, VkDeviceSize src_off, VkDeviceSize bytes);
void vk_full_barrier(VkCommandBuffer cb);
void vk_barrier(VkCommandBuffer cb);

/* vk_pipelines.c: the device's pipelines and descriptor set layout; a runner's descriptor set,
 * pointed at its attention_dec counters by vk_bind_counters */
mllm_status vk_pipelines_create(vk_dev *d);
void vk_pipelines_free(vk_dev *d);
mllm_status vk_counter_set_create(vk_run *r);
void vk_bind_counters(vk_run *r, VkBuffer counters);
const char *vk_pipe_name(vk_pipe p);

/* vk_record.c: the buffers a graph needs (bytes; 0: none) and its command buffer; kv: the shape
 * and type of the run's KV caches */
size_t vk_qx_need(const mllm_graph *g, size_t *scale_off);
size_t vk_att_part_need(const mllm_graph *g, int32_t head_dim);
mllm_status vk_record_graph(vk_run *c, const mllm_graph *g, const mllm_kv_cache *kv, VkCommandBuffer cb);

/* vk_profile.c */
mllm_status vk_profile_init(vk_run *c);
void vk_profile_begin(vk_run *c, VkCommandBuffer cb);
void vk_stage_end(vk_run *c, VkCommandBuffer cb);
void vk_profile_collect(vk_run *c, const vk_cmd *cmd, int decode, uint64_t host_ns);
void vk_profile_print(const vk_run *c);

/* backend_vulkan.c: the device address of a weight's or an activation's host pointer; 0 if unknown */
VkDeviceAddress vk_addr_of(const vk_run *c, const void *p);

#endif
