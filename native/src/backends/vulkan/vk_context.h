/* What the Vulkan backend's files share: the runner's context (one Vulkan device per runner) and
 * each file's functions. The files split the backend by concern: vk_loader.c (the loader),
 * vk_device.c (instance, device, queue), vk_memory.c (buffers, transfers, barriers),
 * vk_pipelines.c (the compute pipelines), vk_record.c (a graph into a command buffer, one
 * record_<op> per op), vk_profile.c (MLLM_VULKAN_PROFILE) and backend_vulkan.c (the backend
 * interface: weights, activations, running graphs). */
#ifndef MLLM_VK_CONTEXT_H
#define MLLM_VK_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "backends/vulkan/vk_loader.h"
#include "backends/vulkan/vk_pipelines.h"
#include "core/errors.h"
#include "graph/graph.h"
#include "graph/kv_cache.h"

/* Every kernel's push constants fit in this many bytes (the minimum maxPushConstantsSize), so one
 * pipeline layout serves them all. */
#define VK_PUSH_BYTES 128
/* mul_mv.comp stages a decode input row of at most this many values in shared memory */
#define FUSEX_KMAX 3584
/* decode matvec workgroups at most: default of MLLM_VULKAN_GROUPS */
#define MV_FUSED_GROUPS 1024
/* attention_dec.comp's counters: one per head */
#define ATT_MAX_HEADS 1024

typedef struct vk_buf {
    VkBuffer buf;
    VkDeviceMemory mem;
    VkDeviceSize size;
    VkDeviceAddress addr;
    void *map; /* host-visible buffers only */
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

#define VK_CMD_CACHE 8   /* recorded graphs kept per runner */
#define VK_MAX_ACTS 4    /* activation allocations per runner */
#define VK_MAX_WBUFS 64  /* weight buffers (each at most maxMemoryAllocationSize) */

typedef struct vk_cmd {
    const mllm_graph *g;
    int32_t n_tokens, n_out, out_hidden, n_nodes;
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

typedef struct vk_ctx {
    VkInstance inst;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice pd;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties mem;
    VkDeviceSize max_alloc;
    VkDevice dev;
    VkQueue queue;
    uint32_t qfam;
    VkCommandPool pool;
    VkFence fence;
    VkPipelineLayout layout;
    /* The one descriptor: attention_dec's counters as a storage buffer (set 0, binding 0). Atomics
     * through buffer device addresses have no Metal translation in SPIRV-Cross, bound buffers do. */
    VkDescriptorSetLayout set_layout;
    VkDescriptorPool desc_pool;
    VkDescriptorSet ctr_set;
    VkPipeline pipes[VK_PIPE_COUNT];

    vk_buf wbufs[VK_MAX_WBUFS];
    int n_wbufs;
    vk_weight *weights;
    int n_weights;
    vk_act acts[VK_MAX_ACTS];

    vk_buf kv_k, kv_v;       /* [n_layer][n_ctx][row] like the host cache */
    const mllm_kv_cache *kv; /* the host cache whose shape the device copy has */
    vk_buf rope;             /* cos table then sin table */
    const float *rope_src;
    size_t rope_half_bytes;
    vk_buf step;             /* {n_past, tokens[]}, host visible */
    vk_buf step_dev;         /* its device-local copy, made at the start of each submission */
    int64_t step_cap;
    vk_buf qx;               /* q8_0 activations + scales */
    vk_buf att_part;         /* split-K attention partials */
    vk_buf att_ctr;          /* attention_dec's per-head counters (zero between dispatches) */
    vk_buf readback;         /* host visible */
    vk_buf staging;          /* host visible, for uploads/downloads */

    vk_cmd cmds[VK_CMD_CACHE];
    uint64_t clock;
    int n_dispatch; /* in the command buffer being recorded */

    int xf_mode;           /* MLLM_VULKAN_XF: decode input staging, 0 per block, 1 shared row, 2 row for SwiGLU only */
    int mv_groups;         /* most workgroups of a decode matvec (MLLM_VULKAN_GROUPS) */
    int spin;              /* poll the fence of a decode step (MLLM_VULKAN_SPIN=0: block at once) */
    vk_profiler prof;
    /* output rows of the last compute, in `readback` */
    const void *out_data;
    int64_t out_rows;
    size_t out_row_bytes;
} vk_ctx;

#define VKCHECK(call, what)                                                                   \
    do {                                                                                      \
        VkResult r_ = (call);                                                                 \
        if (r_ != VK_SUCCESS) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: %s failed (VkResult %d)", what, (int)r_); \
    } while (0)

/* vk_device.c: a context is opened on device number index (see mllm_vulkan_device_create) with
 * open_device, made usable with create_device (queue, command pool, pipelines, staging buffer),
 * freed with ctx_free. */
int vk_env_flag(const char *name);
mllm_status vk_open_device(vk_ctx *c, int32_t index, int gpu_only);
mllm_status vk_create_device(vk_ctx *c);
void vk_ctx_free(vk_ctx *c);
mllm_status vk_begin_once(vk_ctx *c, VkCommandBuffer *cb);
mllm_status vk_submit_wait(vk_ctx *c, VkCommandBuffer cb);
mllm_status vk_submit_step(vk_ctx *c, VkCommandBuffer cb);

/* vk_memory.c */
mllm_status vk_buf_create(vk_ctx *c, VkDeviceSize size, int host, vk_buf *b);
void vk_buf_free(vk_ctx *c, vk_buf *b);
mllm_status vk_buf_ensure(vk_ctx *c, vk_buf *b, VkDeviceSize size, int host, int *grew);
mllm_status vk_transfer(vk_ctx *c, VkBuffer dev, VkDeviceSize dev_off, void *host, size_t bytes, int to_dev);
void vk_full_barrier(VkCommandBuffer cb);
void vk_barrier(VkCommandBuffer cb);

/* vk_pipelines.c; vk_bind_counters points the descriptor set at attention_dec's counters */
mllm_status vk_pipelines_create(vk_ctx *c);
void vk_bind_counters(vk_ctx *c, VkBuffer counters);
void vk_pipelines_free(vk_ctx *c);
const char *vk_pipe_name(vk_pipe p);

/* vk_record.c: the buffers a graph needs (bytes; 0: none) and its command buffer */
size_t vk_qx_need(const mllm_graph *g, size_t *scale_off);
size_t vk_att_part_need(const mllm_graph *g, int32_t head_dim);
mllm_status vk_record_graph(vk_ctx *c, const mllm_graph *g, VkCommandBuffer cb);

/* vk_profile.c */
mllm_status vk_profile_init(vk_ctx *c);
void vk_profile_begin(vk_ctx *c, VkCommandBuffer cb);
void vk_stage_end(vk_ctx *c, VkCommandBuffer cb);
void vk_profile_collect(vk_ctx *c, const vk_cmd *cmd, int decode, uint64_t host_ns);
void vk_profile_print(const vk_ctx *c);

/* backend_vulkan.c: the device address of a weight's or an activation's host pointer; 0 if unknown */
VkDeviceAddress vk_addr_of(const vk_ctx *c, const void *p);

#endif
