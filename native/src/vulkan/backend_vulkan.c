/* Vulkan backend: the whole forward pass on the GPU.
 *
 * - The loader is opened at run time (libvulkan.so.1; vulkan-1.dll on Windows; on macOS the Vulkan
 *   loader or MoltenVK itself): a machine without Vulkan gets a clear MLLM_ERR_BACKEND, never a
 *   library that fails to load.
 * - Weights are uploaded once into device-local buffers (chunks no larger than the device's
 *   maxMemoryAllocationSize, 1 GiB at most) and stay resident; the KV cache, RoPE tables and all
 *   activations live on the device. Only the graph's output rows come back, copied to a
 *   host-visible buffer inside the same submission.
 * - Kernels take tensors as buffer device addresses in push constants (no descriptor sets), so
 *   any tensor is addressed whole, whatever maxStorageBufferRange is (128 MiB on lavapipe).
 * - One command buffer is recorded per graph (shape) and replayed: the per-step values (n_past,
 *   token ids) are read by the kernels from a small host-visible step buffer, so a decode step is
 *   one vkQueueSubmit and one fence wait.
 * - Decode steps (single-row graphs) fuse where it pays: the matvec kernels stage their input in
 *   shared memory and apply the preceding RMS norm, SwiGLU or q8_0 activation rounding there, the
 *   q/k/v matvecs apply RoPE and write K/V straight into the cache, the wo/down matvecs add
 *   straight into the residual stream, and attention splits the keys over up to 32 workgroups
 *   per head, merged by the last one to finish: 5 barriers per layer (on an H200 each barrier
 *   stage costs ~5 us however little it computes, so stages, not bytes, set the decode speed of
 *   these thin models).
 * - The session's activation "pointers" are a reserved, inaccessible host address range
 *   (no access allowed) that maps 1:1 onto a device buffer: the graph built by model_graph.c is used
 *   unchanged and any accidental host access faults at once.
 *
 * Environment: MLLM_VULKAN_VALIDATION=1 enables VK_LAYER_KHRONOS_validation (errors are
 * counted, see mllm_vk_validation_errors); MLLM_VULKAN_VERBOSE=1 prints the device and its
 * features; MLLM_VULKAN_PROFILE=1 times every barrier-separated stage on the GPU (timestamp
 * queries) and prints the sums per stage kind when the backend is freed. */
#include "api/errors.h"
#include "graph/backend.h"

#ifndef MLLM_HAVE_VULKAN

mllm_status mllm_backend_vulkan_create(int32_t gpu_device, mllm_exec_backend **out) {
    *out = NULL;
    return mllm_fail(MLLM_ERR_BACKEND, "Vulkan backend not built (the library was configured without Vulkan headers or glslc)");
}
mllm_status mllm_vulkan_check(const mllm_model *m, int32_t gpu_device, int gpu_only) {
    return mllm_fail(MLLM_ERR_BACKEND, "Vulkan backend not built (the library was configured without Vulkan headers or glslc)");
}
int mllm_vk_validation_errors(void) { return 0; }
int mllm_vk_validation_enabled(void) { return 0; }
int mllm_vulkan_built(void) { return 0; }

#else

#define VK_NO_PROTOTYPES
#define VK_ENABLE_BETA_EXTENSIONS /* VK_KHR_portability_subset (MoltenVK) is still a provisional extension */
#include <vulkan/vulkan.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/kv_cache.h"
#include "model/model.h"
#include "platform/clock.h"
#include "platform/dynlib.h"
#include "platform/memory.h"
#include "platform/threads.h"
#include "quant/quant.h"
#include "vulkan/vk_shaders.h"

/* ---- loader ---------------------------------------------------------------------------- */

#define VK_GLOBAL_FUNCS(X)                  \
    X(vkCreateInstance)                     \
    X(vkEnumerateInstanceLayerProperties)   \
    X(vkEnumerateInstanceExtensionProperties)

#define VK_INSTANCE_FUNCS(X)                     \
    X(vkDestroyInstance)                         \
    X(vkEnumeratePhysicalDevices)                \
    X(vkGetPhysicalDeviceProperties)             \
    X(vkGetPhysicalDeviceProperties2)            \
    X(vkGetPhysicalDeviceFeatures2)              \
    X(vkGetPhysicalDeviceQueueFamilyProperties)  \
    X(vkGetPhysicalDeviceMemoryProperties)       \
    X(vkEnumerateDeviceExtensionProperties)      \
    X(vkCreateDevice)                            \
    X(vkGetDeviceProcAddr)

#define VK_DEVICE_FUNCS(X)            \
    X(vkDestroyDevice)                \
    X(vkGetDeviceQueue)               \
    X(vkCreateBuffer)                 \
    X(vkDestroyBuffer)                \
    X(vkGetBufferMemoryRequirements)  \
    X(vkAllocateMemory)               \
    X(vkFreeMemory)                   \
    X(vkBindBufferMemory)             \
    X(vkMapMemory)                    \
    X(vkGetBufferDeviceAddress)       \
    X(vkCreateShaderModule)           \
    X(vkDestroyShaderModule)          \
    X(vkCreatePipelineLayout)         \
    X(vkDestroyPipelineLayout)        \
    X(vkCreateDescriptorSetLayout)    \
    X(vkDestroyDescriptorSetLayout)   \
    X(vkCreateDescriptorPool)         \
    X(vkDestroyDescriptorPool)        \
    X(vkAllocateDescriptorSets)       \
    X(vkUpdateDescriptorSets)         \
    X(vkCmdBindDescriptorSets)        \
    X(vkCreateComputePipelines)       \
    X(vkDestroyPipeline)              \
    X(vkCreateCommandPool)            \
    X(vkDestroyCommandPool)           \
    X(vkAllocateCommandBuffers)       \
    X(vkFreeCommandBuffers)           \
    X(vkBeginCommandBuffer)           \
    X(vkEndCommandBuffer)             \
    X(vkCmdBindPipeline)              \
    X(vkCmdPushConstants)             \
    X(vkCmdDispatch)                  \
    X(vkCmdPipelineBarrier)           \
    X(vkCmdCopyBuffer)                \
    X(vkQueueSubmit)                  \
    X(vkCreateFence)                  \
    X(vkDestroyFence)                 \
    X(vkWaitForFences)                \
    X(vkResetFences)                  \
    X(vkGetFenceStatus)               \
    X(vkDeviceWaitIdle)               \
    X(vkCreateQueryPool)              \
    X(vkDestroyQueryPool)             \
    X(vkCmdResetQueryPool)            \
    X(vkCmdWriteTimestamp)            \
    X(vkGetQueryPoolResults)

#define DECL(f) static PFN_##f p_##f;
VK_GLOBAL_FUNCS(DECL)
VK_INSTANCE_FUNCS(DECL)
VK_DEVICE_FUNCS(DECL)
#undef DECL
static PFN_vkGetInstanceProcAddr p_vkGetInstanceProcAddr;
static PFN_vkCreateDebugUtilsMessengerEXT p_vkCreateDebugUtilsMessengerEXT;
static PFN_vkDestroyDebugUtilsMessengerEXT p_vkDestroyDebugUtilsMessengerEXT;

static mllm_once g_load_once = MLLM_ONCE_INIT;
static mllm_mutex g_fn_lock = MLLM_MUTEX_INIT;
static void *g_lib;
static char g_load_err[256];

static void load_loader(void) {
#if defined(_WIN32)
    const char *names[] = {"vulkan-1.dll"};
    const char *hint = "no Vulkan loader (vulkan-1.dll) found: install your GPU's driver or use the CPU backend";
#elif defined(__APPLE__)
    /* The Vulkan loader (LunarG SDK, Homebrew's vulkan-loader) or MoltenVK itself, which the
     * instance then reaches through VK_KHR_portability_enumeration. */
    const char *names[] = {"libvulkan.1.dylib", "libvulkan.dylib", "/usr/local/lib/libvulkan.1.dylib",
                           "/opt/homebrew/lib/libvulkan.1.dylib", "libMoltenVK.dylib", "/usr/local/lib/libMoltenVK.dylib",
                           "/opt/homebrew/lib/libMoltenVK.dylib"};
    const char *hint = "no Vulkan loader (libvulkan.1.dylib) or MoltenVK (libMoltenVK.dylib) found: install the Vulkan "
                       "SDK or Homebrew's molten-vk and vulkan-loader, or use the CPU backend";
#else
    const char *names[] = {"libvulkan.so.1", "libvulkan.so"};
    const char *hint = "no Vulkan loader (libvulkan.so.1) found: install a Vulkan driver (e.g. Debian's libvulkan1 and "
                       "mesa-vulkan-drivers) or use the CPU backend";
#endif
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !g_lib; i++) g_lib = mllm_dynlib_open(names[i]);
    if (!g_lib) {
        snprintf(g_load_err, sizeof g_load_err, "%s", hint);
        return;
    }
    p_vkGetInstanceProcAddr = (PFN_vkGetInstanceProcAddr)mllm_dynlib_symbol(g_lib, "vkGetInstanceProcAddr");
    if (!p_vkGetInstanceProcAddr) {
        snprintf(g_load_err, sizeof g_load_err, "the Vulkan loader has no vkGetInstanceProcAddr");
        return;
    }
#define LOAD(f) p_##f = (PFN_##f)p_vkGetInstanceProcAddr(NULL, #f);
    VK_GLOBAL_FUNCS(LOAD)
#undef LOAD
    if (!p_vkCreateInstance) snprintf(g_load_err, sizeof g_load_err, "the Vulkan loader lacks vkCreateInstance");
}

/* Instance and device functions are the same for every instance of one loader (the loader's
 * trampolines), so they are loaded once per process; a mutex guards the (idempotent) stores. */
static void load_instance_funcs(VkInstance inst) {
    mllm_mutex_lock(&g_fn_lock);
#define LOAD(f) p_##f = (PFN_##f)p_vkGetInstanceProcAddr(inst, #f);
    VK_INSTANCE_FUNCS(LOAD)
    LOAD(vkCreateDebugUtilsMessengerEXT)
    LOAD(vkDestroyDebugUtilsMessengerEXT)
#undef LOAD
    mllm_mutex_unlock(&g_fn_lock);
}

static int load_device_funcs(VkDevice dev) {
    mllm_mutex_lock(&g_fn_lock);
    int ok = 1;
#define LOAD(f) ok &= (p_##f = (PFN_##f)p_vkGetDeviceProcAddr(dev, #f)) != NULL;
    VK_DEVICE_FUNCS(LOAD)
#undef LOAD
    mllm_mutex_unlock(&g_fn_lock);
    return ok;
}

/* ---- validation messages --------------------------------------------------------------- */

int mllm_vulkan_built(void) { return 1; }

static volatile int g_val_errors, g_val_enabled;
int mllm_vk_validation_errors(void) { return __atomic_load_n(&g_val_errors, __ATOMIC_SEQ_CST); }
int mllm_vk_validation_enabled(void) { return __atomic_load_n(&g_val_enabled, __ATOMIC_SEQ_CST); }

static VKAPI_ATTR VkBool32 VKAPI_CALL debug_cb(VkDebugUtilsMessageSeverityFlagBitsEXT sev, VkDebugUtilsMessageTypeFlagsEXT type,
                                               const VkDebugUtilsMessengerCallbackDataEXT *d, void *user) {
    if (sev & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) __atomic_add_fetch(&g_val_errors, 1, __ATOMIC_SEQ_CST);
    if (sev & (VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT)) {
        fprintf(stderr, "[vulkan %s] %s\n", sev & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error" : "warning",
                d && d->pMessage ? d->pMessage : "");
    }
    return VK_FALSE;
}

static int env_flag(const char *name) {
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

/* ---- context ----------------------------------------------------------------------------- */

enum {
    P_GET_ROWS, P_RMS_NORM, P_QUANT_Q8, P_SWIGLU, P_ROPE_STORE, P_ATTENTION, P_ATTN_COMBINE, P_ATTENTION_DEC,
    P_MV_F32_1, P_MV_F16_1, P_MV_Q8_0_1, P_MV_Q4_0_1, P_MV_F32_8, P_MV_F16_8, P_MV_Q8_0_8, P_MV_Q4_0_8,
    P_MV_Q8_0_1S, P_MV_Q4_0_1S, P_COUNT
};
static const char *const k_pipe_names[P_COUNT] = {
    "get_rows", "rms_norm", "quant_q8", "swiglu", "rope_store", "attention", "attn_combine", "attention_dec",
    "mv_f32_1", "mv_f16_1", "mv_q8_0_1", "mv_q4_0_1", "mv_f32_8", "mv_f16_8", "mv_q8_0_8", "mv_q4_0_8",
    "mv_q8_0_1s", "mv_q4_0_1s",
};

typedef struct vk_pc { /* mirrors PC in shaders/common.glsl */
    VkDeviceAddress a[8];
    uint32_t u[8];
    float f[4];
    uint32_t e[4];
} vk_pc;
_Static_assert(sizeof(vk_pc) == 128, "push constants: 128 bytes, the minimum maxPushConstantsSize");

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

#define VK_CMD_CACHE 8
#define MV_FUSED_GROUPS 1024 /* decode matvec workgroups at most: default of MLLM_VULKAN_GROUPS */
#define VK_MAX_ACTS 4
#define VK_MAX_WBUFS 64

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
    VkPipeline pipes[P_COUNT];

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

    int prof;              /* MLLM_VULKAN_PROFILE */
    int xf_mode;           /* MLLM_VULKAN_XF: decode input staging, 0 per block, 1 shared row, 2 row for SwiGLU only */
    int mv_groups;         /* most workgroups of a decode matvec (MLLM_VULKAN_GROUPS) */
    int spin;              /* poll the fence of a decode step (MLLM_VULKAN_SPIN=0: block at once) */
    VkQueryPool tsq;
    uint8_t *rec_rows;     /* stage rows of the command buffer being recorded */
    int rec_n;
    int rec_decode;
    char cur_label[40];    /* the last dispatch's label */
    vk_prof_row prof_rows[PROF_ROWS];
    int n_prof_rows;
    double prof_gpu_ns[2], prof_host_ns[2]; /* [decode, prompt]: whole graphs */
    uint64_t prof_graphs[2];
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

static int find_mem_type(const vk_ctx *c, uint32_t bits, VkMemoryPropertyFlags want) {
    for (uint32_t i = 0; i < c->mem.memoryTypeCount; i++) {
        if ((bits & (1u << i)) && (c->mem.memoryTypes[i].propertyFlags & want) == want) return (int)i;
    }
    return -1;
}

static void buf_free(vk_ctx *c, vk_buf *b) {
    if (b->buf) p_vkDestroyBuffer(c->dev, b->buf, NULL);
    if (b->mem) p_vkFreeMemory(c->dev, b->mem, NULL); /* unmaps */
    memset(b, 0, sizeof *b);
}

/* host: host-visible coherent (cached when available: read back by the CPU). */
static mllm_status buf_create(vk_ctx *c, VkDeviceSize size, int host, vk_buf *b) {
    memset(b, 0, sizeof *b);
    size = (size + 255) & ~(VkDeviceSize)255;
    if (size == 0) size = 256;
    size += 256; /* kernels may read a word past a tensor's end (misaligned q8_0/q4_0 blocks) */
    if (size > c->max_alloc) {
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "Vulkan: a buffer of %llu bytes exceeds the device's allocation limit of %llu",
                         (unsigned long long)size, (unsigned long long)c->max_alloc);
    }
    VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size,
                             .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                      VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT,
                             .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VKCHECK(p_vkCreateBuffer(c->dev, &bi, NULL, &b->buf), "vkCreateBuffer");
    VkMemoryRequirements req;
    p_vkGetBufferMemoryRequirements(c->dev, b->buf, &req);
    int mt;
    if (host) {
        mt = find_mem_type(c, req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
                                                      VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
        if (mt < 0) mt = find_mem_type(c, req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    } else {
        mt = find_mem_type(c, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
        if (mt < 0) mt = find_mem_type(c, req.memoryTypeBits, 0);
    }
    if (mt < 0) {
        buf_free(c, b);
        return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: no suitable memory type for a %s buffer", host ? "host-visible" : "device");
    }
    VkMemoryAllocateFlagsInfo fi = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
                                    .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT};
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .pNext = &fi, .allocationSize = req.size,
                               .memoryTypeIndex = (uint32_t)mt};
    VkResult r = p_vkAllocateMemory(c->dev, &ai, NULL, &b->mem);
    if (r != VK_SUCCESS) {
        buf_free(c, b);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "Vulkan: cannot allocate %llu bytes of %s memory (VkResult %d)",
                         (unsigned long long)size, host ? "host-visible" : "device", (int)r);
    }
    VKCHECK(p_vkBindBufferMemory(c->dev, b->buf, b->mem, 0), "vkBindBufferMemory");
    if (host) VKCHECK(p_vkMapMemory(c->dev, b->mem, 0, VK_WHOLE_SIZE, 0, &b->map), "vkMapMemory");
    VkBufferDeviceAddressInfo da = {.sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO, .buffer = b->buf};
    b->addr = p_vkGetBufferDeviceAddress(c->dev, &da);
    b->size = size - 256;
    return MLLM_OK;
}

/* Grows a buffer to at least `size` bytes (contents lost). *grew is set when it changed. */
static mllm_status buf_ensure(vk_ctx *c, vk_buf *b, VkDeviceSize size, int host, int *grew) {
    if (b->buf && b->size >= size) return MLLM_OK;
    buf_free(c, b);
    *grew = 1;
    return buf_create(c, size, host, b);
}

/* ---- one-shot command buffers (uploads, downloads) ------------------------------------------ */

static mllm_status submit_wait(vk_ctx *c, VkCommandBuffer cb) {
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cb};
    VKCHECK(p_vkResetFences(c->dev, 1, &c->fence), "vkResetFences");
    VKCHECK(p_vkQueueSubmit(c->queue, 1, &si, c->fence), "vkQueueSubmit");
    VKCHECK(p_vkWaitForFences(c->dev, 1, &c->fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
    return MLLM_OK;
}

/* A graph submission: polls the fence for up to 20 ms before blocking. A blocked thread wakes
 * tens of microseconds after the GPU finishes, which is several percent of a decode step. */
static mllm_status submit_step(vk_ctx *c, VkCommandBuffer cb) {
    if (!c->spin) return submit_wait(c, cb);
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cb};
    VKCHECK(p_vkResetFences(c->dev, 1, &c->fence), "vkResetFences");
    VKCHECK(p_vkQueueSubmit(c->queue, 1, &si, c->fence), "vkQueueSubmit");
    const int64_t t0 = mllm_now_ns();
    for (;;) {
        VkResult r = p_vkGetFenceStatus(c->dev, c->fence);
        if (r == VK_SUCCESS) return MLLM_OK;
        if (r != VK_NOT_READY) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: vkGetFenceStatus failed (VkResult %d)", (int)r);
        if (mllm_now_ns() - t0 > 20000000) break;
    }
    VKCHECK(p_vkWaitForFences(c->dev, 1, &c->fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
    return MLLM_OK;
}

static mllm_status begin_once(vk_ctx *c, VkCommandBuffer *cb) {
    VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, .commandPool = c->pool,
                                      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY, .commandBufferCount = 1};
    VKCHECK(p_vkAllocateCommandBuffers(c->dev, &ai, cb), "vkAllocateCommandBuffers");
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    VKCHECK(p_vkBeginCommandBuffer(*cb, &bi), "vkBeginCommandBuffer");
    return MLLM_OK;
}

static void full_barrier(VkCommandBuffer cb) {
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_HOST_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                           VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_HOST_READ_BIT};
    p_vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
                           VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT, 0, 1,
                           &mb, 0, NULL, 0, NULL);
}

/* Copies between host memory and a device buffer through the staging buffer. to_dev: host ->
 * device. */
static mllm_status transfer(vk_ctx *c, VkBuffer dev, VkDeviceSize dev_off, void *host, size_t bytes, int to_dev) {
    size_t done = 0;
    while (done < bytes) {
        size_t n = bytes - done < c->staging.size ? bytes - done : (size_t)c->staging.size;
        if (to_dev) memcpy(c->staging.map, (char *)host + done, n);
        VkCommandBuffer cb;
        mllm_status st = begin_once(c, &cb);
        if (st) return st;
        full_barrier(cb);
        VkBufferCopy reg = {.srcOffset = to_dev ? 0 : dev_off + done, .dstOffset = to_dev ? dev_off + done : 0, .size = n};
        if (to_dev) p_vkCmdCopyBuffer(cb, c->staging.buf, dev, 1, &reg);
        else p_vkCmdCopyBuffer(cb, dev, c->staging.buf, 1, &reg);
        full_barrier(cb);
        VkResult r = p_vkEndCommandBuffer(cb);
        st = r == VK_SUCCESS ? submit_wait(c, cb) : mllm_fail(MLLM_ERR_BACKEND, "Vulkan: vkEndCommandBuffer failed (%d)", (int)r);
        p_vkFreeCommandBuffers(c->dev, c->pool, 1, &cb);
        if (st) return st;
        if (!to_dev) memcpy((char *)host + done, c->staging.map, n);
        done += n;
    }
    return MLLM_OK;
}

/* ---- instance, device, pipelines --------------------------------------------------------- */

static int type_rank(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
    default: return 4;
    }
}

static const char *type_name(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
    default: return "other";
    }
}

static int compute_family(VkPhysicalDevice pd, uint32_t *fam) {
    uint32_t n = 0;
    p_vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
    VkQueueFamilyProperties q[32];
    if (n > 32) n = 32;
    p_vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, q);
    for (uint32_t i = 0; i < n; i++) {
        if (q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
            *fam = i;
            return 1;
        }
    }
    return 0;
}

/* Usable: Vulkan 1.2, buffer device addresses, a compute queue. */
static int device_usable(VkPhysicalDevice pd) {
    VkPhysicalDeviceProperties p;
    p_vkGetPhysicalDeviceProperties(pd, &p);
    if (p.apiVersion < VK_API_VERSION_1_2) return 0;
    VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    VkPhysicalDeviceFeatures2 f = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f12};
    p_vkGetPhysicalDeviceFeatures2(pd, &f);
    uint32_t fam;
    return f12.bufferDeviceAddress && compute_family(pd, &fam);
}

/* Usable devices ordered discrete, integrated, virtual, CPU (stable within a kind). */
static mllm_status list_devices(VkInstance inst, VkPhysicalDevice *out, uint32_t *n_out) {
    uint32_t n = 0;
    VKCHECK(p_vkEnumeratePhysicalDevices(inst, &n, NULL), "vkEnumeratePhysicalDevices");
    if (n == 0) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: no device found (is a Vulkan driver (ICD) installed?)");
    VkPhysicalDevice all[16];
    if (n > 16) n = 16;
    VKCHECK(p_vkEnumeratePhysicalDevices(inst, &n, all) < 0 ? VK_ERROR_INITIALIZATION_FAILED : VK_SUCCESS,
            "vkEnumeratePhysicalDevices");
    uint32_t k = 0;
    for (int rank = 0; rank <= 4; rank++) {
        for (uint32_t i = 0; i < n; i++) {
            VkPhysicalDeviceProperties p;
            p_vkGetPhysicalDeviceProperties(all[i], &p);
            if (type_rank(p.deviceType) == rank && device_usable(all[i])) out[k++] = all[i];
        }
    }
    if (k == 0) {
        return mllm_fail(MLLM_ERR_BACKEND,
                         "Vulkan: none of the %u device(s) supports Vulkan 1.2 with buffer device addresses and compute", n);
    }
    *n_out = k;
    return MLLM_OK;
}

/* Whether the instance (pd == NULL) or the device pd offers extension `name`. */
static int has_extension(VkPhysicalDevice pd, const char *name) {
    uint32_t n = 0;
    VkResult r = pd ? p_vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) : p_vkEnumerateInstanceExtensionProperties(NULL, &n, NULL);
    if (r != VK_SUCCESS || n == 0) return 0;
    VkExtensionProperties *e = malloc(n * sizeof *e);
    int found = 0;
    if (e) {
        r = pd ? p_vkEnumerateDeviceExtensionProperties(pd, NULL, &n, e) : p_vkEnumerateInstanceExtensionProperties(NULL, &n, e);
        for (uint32_t i = 0; r == VK_SUCCESS && i < n; i++) found |= strcmp(e[i].extensionName, name) == 0;
    }
    free(e);
    return found;
}

static int has_layer(const char *name) {
    uint32_t n = 0;
    if (p_vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0) return 0;
    VkLayerProperties *l = malloc(n * sizeof *l);
    int found = 0;
    if (l && p_vkEnumerateInstanceLayerProperties(&n, l) == VK_SUCCESS) {
        for (uint32_t i = 0; i < n; i++) found |= strcmp(l[i].layerName, name) == 0;
    }
    free(l);
    return found;
}

/* One instance per process, never destroyed: destroying the last instance unloads the driver
 * (ICD) and some drivers cannot be loaded again in the same process. */
static mllm_mutex g_inst_lock = MLLM_MUTEX_INIT;
static VkInstance g_inst;
static VkDebugUtilsMessengerEXT g_messenger;

static mllm_status create_instance_once(vk_ctx *c);

static mllm_status create_instance(vk_ctx *c) {
    mllm_mutex_lock(&g_inst_lock);
    mllm_status st = MLLM_OK;
    if (!g_inst) {
        vk_ctx tmp;
        memset(&tmp, 0, sizeof tmp);
        st = create_instance_once(&tmp);
        if (!st) {
            g_inst = tmp.inst;
            g_messenger = tmp.messenger;
        } else if (tmp.inst) {
            p_vkDestroyInstance(tmp.inst, NULL);
        }
    }
    c->inst = g_inst;
    mllm_mutex_unlock(&g_inst_lock);
    return st;
}

static mllm_status create_instance_once(vk_ctx *c) {
    mllm_once_run(&g_load_once, load_loader);
    if (g_load_err[0]) return mllm_fail(MLLM_ERR_BACKEND, "%s", g_load_err);
    const int validation = env_flag("MLLM_VULKAN_VALIDATION");
    const char *layer = "VK_LAYER_KHRONOS_validation", *ext = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    int use_layer = 0;
    if (validation) {
        use_layer = has_layer(layer);
        if (!use_layer) fprintf(stderr, "mobilellm: MLLM_VULKAN_VALIDATION is set but %s is not installed\n", layer);
    }
    const char *exts[2];
    uint32_t n_ext = 0;
    if (use_layer) exts[n_ext++] = ext;
    /* Portability implementations (MoltenVK over Metal on macOS) are listed only to instances that
     * ask for them with this extension and flag. */
    const int portability = has_extension(VK_NULL_HANDLE, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME);
    if (portability) exts[n_ext++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "mobilellm",
                             .pEngineName = "mobilellm", .apiVersion = VK_API_VERSION_1_2};
    VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app,
                               .flags = portability ? VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR : 0,
                               .enabledLayerCount = use_layer ? 1 : 0, .ppEnabledLayerNames = &layer,
                               .enabledExtensionCount = n_ext, .ppEnabledExtensionNames = exts};
    VkResult r = p_vkCreateInstance(&ci, NULL, &c->inst);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER) {
        return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: no compatible driver found (install a Vulkan ICD, e.g. mesa-vulkan-drivers)");
    }
    if (r != VK_SUCCESS) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: vkCreateInstance failed (VkResult %d)", (int)r);
    load_instance_funcs(c->inst);
    if (use_layer && p_vkCreateDebugUtilsMessengerEXT) {
        VkDebugUtilsMessengerCreateInfoEXT mi = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
            .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT,
            .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
            .pfnUserCallback = debug_cb};
        if (p_vkCreateDebugUtilsMessengerEXT(c->inst, &mi, NULL, &c->messenger) == VK_SUCCESS) {
            __atomic_store_n(&g_val_enabled, 1, __ATOMIC_SEQ_CST);
        }
    }
    return MLLM_OK;
}

static mllm_status pick_device(vk_ctx *c, int32_t index) {
    VkPhysicalDevice devs[16];
    uint32_t n = 0;
    mllm_status st = list_devices(c->inst, devs, &n);
    if (st) return st;
    if (index >= (int32_t)n) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: gpu_device %d requested but %u usable device(s) found", index, n);
    c->pd = devs[index < 0 ? 0 : index];
    p_vkGetPhysicalDeviceProperties(c->pd, &c->props);
    p_vkGetPhysicalDeviceMemoryProperties(c->pd, &c->mem);
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceSubgroupProperties sg = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES, .pNext = &m3};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sg};
    p_vkGetPhysicalDeviceProperties2(c->pd, &p2);
    c->max_alloc = m3.maxMemoryAllocationSize;
    if (c->max_alloc == 0 || c->max_alloc > ((VkDeviceSize)1 << 30)) c->max_alloc = (VkDeviceSize)1 << 30;
    if (env_flag("MLLM_VULKAN_VERBOSE")) {
        VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
        VkPhysicalDeviceVulkan11Features f11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES, .pNext = &f12};
        VkPhysicalDeviceFeatures2 f = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f11};
        p_vkGetPhysicalDeviceFeatures2(c->pd, &f);
        fprintf(stderr,
                "mobilellm: Vulkan device %d of %u: %s (%s), API %u.%u; fp16 arithmetic %d, 16-bit storage %d, 8-bit storage %d, "
                "subgroup size %u (ops 0x%x), maxStorageBufferRange %u, maxMemoryAllocationSize %llu\n",
                index < 0 ? 0 : index, n, c->props.deviceName, type_name(c->props.deviceType), VK_API_VERSION_MAJOR(c->props.apiVersion),
                VK_API_VERSION_MINOR(c->props.apiVersion), f12.shaderFloat16, f11.storageBuffer16BitAccess,
                f12.storageBuffer8BitAccess, sg.subgroupSize, sg.supportedOperations, c->props.limits.maxStorageBufferRange,
                (unsigned long long)m3.maxMemoryAllocationSize);
    }
    return MLLM_OK;
}

static mllm_status create_device(vk_ctx *c) {
    if (!compute_family(c->pd, &c->qfam)) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: the device has no compute queue");
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueFamilyIndex = c->qfam,
                                  .queueCount = 1, .pQueuePriorities = &prio};
    VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .bufferDeviceAddress = VK_TRUE};
    VkPhysicalDeviceFeatures2 f = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f12};
    /* A portability implementation (MoltenVK) must get VK_KHR_portability_subset enabled. The subset
     * leaves out events, some image views and samplers, triangle fans, tessellation modes and
     * interpolation functions: this backend uses buffers, push constants, one storage buffer
     * descriptor, pipeline barriers and compute dispatches only, none of which it restricts. */
    const char *subset = VK_KHR_PORTABILITY_SUBSET_EXTENSION_NAME;
    const int portable = has_extension(c->pd, subset);
    if (portable && env_flag("MLLM_VULKAN_VERBOSE")) {
        VkPhysicalDevicePortabilitySubsetFeaturesKHR ps = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PORTABILITY_SUBSET_FEATURES_KHR};
        VkPhysicalDeviceFeatures2 pf = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &ps};
        p_vkGetPhysicalDeviceFeatures2(c->pd, &pf);
        fprintf(stderr, "mobilellm: Vulkan portability subset (events %d, image view reinterpretation %d)\n", ps.events,
                ps.imageViewFormatReinterpretation);
    }
    VkDeviceCreateInfo di = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &f, .queueCreateInfoCount = 1,
                             .pQueueCreateInfos = &qi, .enabledExtensionCount = portable ? 1 : 0,
                             .ppEnabledExtensionNames = &subset};
    VKCHECK(p_vkCreateDevice(c->pd, &di, NULL, &c->dev), "vkCreateDevice");
    if (!load_device_funcs(c->dev)) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: the driver lacks a core 1.2 device function");
    p_vkGetDeviceQueue(c->dev, c->qfam, 0, &c->queue);
    VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                  .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, .queueFamilyIndex = c->qfam};
    VKCHECK(p_vkCreateCommandPool(c->dev, &pi, NULL, &c->pool), "vkCreateCommandPool");
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VKCHECK(p_vkCreateFence(c->dev, &fi, NULL, &c->fence), "vkCreateFence");
    const char *xf = getenv("MLLM_VULKAN_XF");
    c->xf_mode = xf && (xf[0] == '0' || xf[0] == '1') ? xf[0] - '0' : 2;
    const char *grp = getenv("MLLM_VULKAN_GROUPS");
    c->mv_groups = grp && atoi(grp) >= 16 && atoi(grp) <= 65535 ? atoi(grp) : MV_FUSED_GROUPS;
    const char *spin = getenv("MLLM_VULKAN_SPIN");
    c->spin = !(spin && spin[0] == '0');
    if (env_flag("MLLM_VULKAN_PROFILE")) {
        uint32_t nq = 0;
        VkQueueFamilyProperties qp[16];
        p_vkGetPhysicalDeviceQueueFamilyProperties(c->pd, &nq, NULL);
        if (nq > 16) nq = 16;
        p_vkGetPhysicalDeviceQueueFamilyProperties(c->pd, &nq, qp);
        if (c->qfam < nq && qp[c->qfam].timestampValidBits > 0) {
            VkQueryPoolCreateInfo qi2 = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO, .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                         .queryCount = PROF_MAX_TS};
            VKCHECK(p_vkCreateQueryPool(c->dev, &qi2, NULL, &c->tsq), "vkCreateQueryPool");
            c->prof = 1;
        } else {
            fprintf(stderr, "mobilellm: MLLM_VULKAN_PROFILE ignored: the queue has no timestamps\n");
        }
    }
    VkDescriptorSetLayoutBinding ctr_binding = {.binding = 0, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                                .descriptorCount = 1, .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo sli = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO, .bindingCount = 1,
                                           .pBindings = &ctr_binding};
    VKCHECK(p_vkCreateDescriptorSetLayout(c->dev, &sli, NULL, &c->set_layout), "vkCreateDescriptorSetLayout");
    VkDescriptorPoolSize ps = {.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = 1};
    VkDescriptorPoolCreateInfo dpi = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, .maxSets = 1, .poolSizeCount = 1,
                                      .pPoolSizes = &ps};
    VKCHECK(p_vkCreateDescriptorPool(c->dev, &dpi, NULL, &c->desc_pool), "vkCreateDescriptorPool");
    VkDescriptorSetAllocateInfo dai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO, .descriptorPool = c->desc_pool,
                                       .descriptorSetCount = 1, .pSetLayouts = &c->set_layout};
    VKCHECK(p_vkAllocateDescriptorSets(c->dev, &dai, &c->ctr_set), "vkAllocateDescriptorSets");
    VkPushConstantRange pr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = sizeof(vk_pc)};
    VkPipelineLayoutCreateInfo li = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO, .setLayoutCount = 1,
                                     .pSetLayouts = &c->set_layout, .pushConstantRangeCount = 1,
                                     .pPushConstantRanges = &pr};
    VKCHECK(p_vkCreatePipelineLayout(c->dev, &li, NULL, &c->layout), "vkCreatePipelineLayout");
    for (int p = 0; p < P_COUNT; p++) {
        const mllm_vk_shader *sh = NULL;
        for (int i = 0; i < mllm_vk_n_shaders; i++) {
            if (strcmp(mllm_vk_shaders[i].name, k_pipe_names[p]) == 0) sh = &mllm_vk_shaders[i];
        }
        if (!sh) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: shader %s is not embedded", k_pipe_names[p]);
        VkShaderModuleCreateInfo mi = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = sh->size,
                                       .pCode = sh->code};
        VkShaderModule mod;
        VKCHECK(p_vkCreateShaderModule(c->dev, &mi, NULL, &mod), "vkCreateShaderModule");
        VkComputePipelineCreateInfo ci = {
            .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
            .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                      .module = mod, .pName = "main"},
            .layout = c->layout};
        VkResult r = p_vkCreateComputePipelines(c->dev, VK_NULL_HANDLE, 1, &ci, NULL, &c->pipes[p]);
        p_vkDestroyShaderModule(c->dev, mod, NULL);
        if (r != VK_SUCCESS) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: pipeline %s failed (VkResult %d)", k_pipe_names[p], (int)r);
    }
    return buf_create(c, 16u << 20, 1, &c->staging);
}

static void prof_print(const vk_ctx *c);

static void ctx_free(vk_ctx *c) {
    if (!c) return;
    if (c->dev) {
        p_vkDeviceWaitIdle(c->dev);
        if (c->prof) prof_print(c);
        for (int i = 0; i < VK_CMD_CACHE; i++) {
            if (c->cmds[i].cb) p_vkFreeCommandBuffers(c->dev, c->pool, 1, &c->cmds[i].cb);
            free(c->cmds[i].stage_row);
        }
        if (c->tsq) p_vkDestroyQueryPool(c->dev, c->tsq, NULL);
        for (int i = 0; i < c->n_wbufs; i++) buf_free(c, &c->wbufs[i]);
        for (int i = 0; i < VK_MAX_ACTS; i++) {
            if (c->acts[i].host) {
                buf_free(c, &c->acts[i].dev);
                mllm_release_address_space(c->acts[i].host, c->acts[i].bytes);
            }
        }
        vk_buf *bs[] = {&c->kv_k, &c->kv_v, &c->rope, &c->step, &c->step_dev, &c->qx, &c->att_part, &c->att_ctr, &c->readback, &c->staging};
        for (size_t i = 0; i < sizeof bs / sizeof bs[0]; i++) buf_free(c, bs[i]);
        for (int p = 0; p < P_COUNT; p++) {
            if (c->pipes[p]) p_vkDestroyPipeline(c->dev, c->pipes[p], NULL);
        }
        if (c->layout) p_vkDestroyPipelineLayout(c->dev, c->layout, NULL);
        if (c->desc_pool) p_vkDestroyDescriptorPool(c->dev, c->desc_pool, NULL);
        if (c->set_layout) p_vkDestroyDescriptorSetLayout(c->dev, c->set_layout, NULL);
        if (c->fence) p_vkDestroyFence(c->dev, c->fence, NULL);
        if (c->pool) p_vkDestroyCommandPool(c->dev, c->pool, NULL);
        p_vkDestroyDevice(c->dev, NULL);
    }
    /* the instance (and its messenger) is the process-wide g_inst */
    free(c->weights);
    free(c);
}

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

static mllm_status vk_upload(mllm_exec_backend *be, const mllm_tensor *const *w, int n) {
    vk_ctx *c = be->impl;
    for (int i = 0; i < n; i++) {
        mllm_status st = check_weight(w[i]);
        if (st) return st;
    }
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
        st = buf_create(c, sizes[b], 0, &c->wbufs[b]);
        if (!st) c->n_wbufs = b + 1;
    }
    for (int i = 0; i < nw && !st; i++) {
        vk_buf *b = &c->wbufs[chunk[i]];
        c->weights[i].addr = b->addr + off[i];
        st = transfer(c, b->buf, off[i], (void *)c->weights[i].host, c->weights[i].bytes, 1);
    }
    c->n_weights = nw;
    free(off);
    free(chunk);
    return st;
}

/* Device address of host pointer p (a weight or an activation); 0 if unknown. */
static VkDeviceAddress addr_of(const vk_ctx *c, const void *p) {
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

static mllm_status vk_alloc(mllm_exec_backend *be, size_t bytes, void **out) {
    vk_ctx *c = be->impl;
    int slot = -1;
    for (int i = 0; i < VK_MAX_ACTS && slot < 0; i++) {
        if (!c->acts[i].host) slot = i;
    }
    if (slot < 0) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: too many activation buffers");
    size_t sz = bytes ? bytes : 64;
    void *h = mllm_reserve_address_space(sz);
    if (!h) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "cannot reserve %zu bytes of address space", sz);
    mllm_status st = buf_create(c, sz, 0, &c->acts[slot].dev);
    if (st) {
        mllm_release_address_space(h, sz);
        return st;
    }
    c->acts[slot].host = h;
    c->acts[slot].bytes = sz;
    *out = h;
    return MLLM_OK;
}

static void vk_free_buffer(mllm_exec_backend *be, void *buf) {
    vk_ctx *c = be->impl;
    for (int i = 0; i < VK_MAX_ACTS; i++) {
        if (c->acts[i].host && c->acts[i].host == buf) {
            p_vkDeviceWaitIdle(c->dev);
            buf_free(c, &c->acts[i].dev);
            mllm_release_address_space(c->acts[i].host, c->acts[i].bytes);
            memset(&c->acts[i], 0, sizeof c->acts[i]);
        }
    }
}

/* ---- recording a graph ------------------------------------------------------------------- */

static void barrier(VkCommandBuffer cb) {
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT};
    p_vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb, 0, NULL, 0,
                           NULL);
}

static int prof_row(vk_ctx *c, const char *name) {
    for (int i = 0; i < c->n_prof_rows; i++) {
        if (strcmp(c->prof_rows[i].name, name) == 0) return i;
    }
    if (c->n_prof_rows == PROF_ROWS) return PROF_ROWS - 1; /* the last row collects the overflow */
    snprintf(c->prof_rows[c->n_prof_rows].name, sizeof c->prof_rows[0].name, "%s", name);
    return c->n_prof_rows++;
}

/* Ends a stage: a timestamp when profiling, then the barrier. */
static void stage_end(vk_ctx *c, VkCommandBuffer cb) {
    if (c->prof && c->rec_rows && c->rec_n + 2 < PROF_MAX_TS) {
        p_vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, c->tsq, (uint32_t)(c->rec_n + 1));
        char name[40];
        snprintf(name, sizeof name, "%s%s", c->rec_decode ? "d:" : "p:", c->cur_label);
        c->rec_rows[c->rec_n++] = (uint8_t)prof_row(c, name);
    }
    barrier(cb);
}

static void dispatch3(vk_ctx *c, VkCommandBuffer cb, int p, const vk_pc *pc, uint32_t x, uint32_t y, uint32_t z) {
    if (c->prof) {
        if (p >= P_MV_F32_1) snprintf(c->cur_label, sizeof c->cur_label, "%s r%u k%u", k_pipe_names[p], pc->u[1], pc->u[0]);
        else snprintf(c->cur_label, sizeof c->cur_label, "%s", k_pipe_names[p]);
    }
    p_vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, c->pipes[p]);
    p_vkCmdPushConstants(cb, c->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof *pc, pc);
    p_vkCmdDispatch(cb, x ? x : 1, y ? y : 1, z ? z : 1);
    c->n_dispatch++;
}
static void dispatch(vk_ctx *c, VkCommandBuffer cb, int p, const vk_pc *pc, uint32_t x, uint32_t y) {
    dispatch3(c, cb, p, pc, x, y, 1);
}

/* Split-K attention for small batches (decode): the keys of one (head, token) are divided over
 * this many workgroups so that a handful of heads still fills the GPU. */
#define ATT_SPLIT 32
#define ATT_SPLIT_MAX_TOKENS 8
#define ATT_MAX_HEADS 1024 /* attention_dec's counters */
static size_t att_part_need(const mllm_graph *g, int32_t head_dim) {
    for (int32_t i = 0; i < g->n_nodes; i++) {
        const mllm_node *nd = &g->nodes[i];
        if (nd->op == MLLM_OP_ATTENTION && nd->src[0]->ne[1] <= ATT_SPLIT_MAX_TOKENS) {
            return (size_t)nd->src[0]->ne[1] * (size_t)(nd->src[0]->ne[0] / head_dim) * ATT_SPLIT * (size_t)(head_dim + 2) *
                   sizeof(float);
        }
    }
    return 0;
}

static uint32_t stride_f(const mllm_tensor *t) { return (uint32_t)(t->nb[1] / sizeof(float)); }
static uint32_t min_u32(uint64_t a, uint64_t b) { return (uint32_t)(a < b ? a : b); }

/* Scratch needed by the graph's matmuls with q8_0/q4_0 weights: q8_0 activations + scales. */
static size_t qx_need(const mllm_graph *g, size_t *scale_off) {
    size_t need = 0;
    for (int32_t i = 0; i < g->n_nodes; i++) {
        const mllm_node *nd = &g->nodes[i];
        if (nd->op != MLLM_OP_MATMUL) continue;
        int32_t t = nd->src[1]->type;
        if (t != MLLM_TYPE_Q8_0 && t != MLLM_TYPE_Q4_0) continue;
        size_t e = (size_t)nd->src[0]->ne[0] * (size_t)nd->src[0]->ne[1];
        if (e > need) need = e;
    }
    *scale_off = (need + 255) & ~(size_t)255;
    return need ? *scale_off + need / 32 * sizeof(float) : 0;
}

/* Decode fusions (single-row graphs): node j is a matmul whose f32 input is staged by the matvec
 * kernel itself (FUSEX) and no other matmul node right after it reads the same input. */
#define FUSEX_KMAX 3584 /* mul_mv.comp */
static int fusable_mm(const mllm_graph *g, int32_t j, const void *x) {
    if (j >= g->n_nodes) return 0;
    const mllm_node *n = &g->nodes[j];
    if (n->op != MLLM_OP_MATMUL || n->src[0]->data != x || n->src[0]->ne[1] != 1 || n->src[0]->ne[0] > FUSEX_KMAX) return 0;
    return !(j + 1 < g->n_nodes && g->nodes[j + 1].op == MLLM_OP_MATMUL && g->nodes[j + 1].src[0]->data == x);
}
/* the RMS norm at node j can be folded into the matmul after it */
static int fusable_norm(const mllm_graph *g, int32_t j) {
    if (j >= g->n_nodes) return 0;
    const mllm_node *n = &g->nodes[j];
    return n->op == MLLM_OP_RMS_NORM && n->n_rows == 1 && n->row0 == 0 && fusable_mm(g, j + 1, n->dst[0]->data);
}

#define ADDR(var, ptr)                                                                                  \
    do {                                                                                                \
        var = addr_of(c, (ptr));                                                                        \
        if (!var) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: node %d reads memory unknown to the device", i); \
    } while (0)

static mllm_status record_graph(vk_ctx *c, const mllm_graph *g, VkCommandBuffer cb) {
    const mllm_kv_cache *kv = c->kv;
    size_t scale_off;
    qx_need(g, &scale_off);
    const size_t layer_bytes = (size_t)kv->n_ctx * kv->row_bytes;
    const uint32_t hd = (uint32_t)kv->head_dim;
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    VKCHECK(p_vkBeginCommandBuffer(cb, &bi), "vkBeginCommandBuffer");
    full_barrier(cb); /* earlier submissions (KV cache, uploads) before this one */
    /* n_past and the token ids, read by most kernels: one copy into device memory, so they are
     * not fetched across the bus by every workgroup */
    VkBufferCopy sc = {.srcOffset = 0, .dstOffset = 0, .size = (VkDeviceSize)(g->n_tokens + 1) * sizeof(int32_t)};
    p_vkCmdCopyBuffer(cb, c->step.buf, c->step_dev.buf, 1, &sc);
    full_barrier(cb);
    if (c->prof && c->rec_rows) {
        p_vkCmdResetQueryPool(cb, c->tsq, 0, PROF_MAX_TS);
        p_vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, c->tsq, 0);
    }
    const mllm_tensor *swiglu_up = NULL; /* a single-row SwiGLU folded into the next matvec */
    const mllm_node *prenorm = NULL;     /* an RMS norm folded into the next matvec */
    int res_added = 0;                   /* the last matvec added its result to the residual stream */
    int skip_next = 0;                   /* node i + 1 was done by node i (RoPE + KV store) */
    for (int32_t i = 0; i < g->n_nodes; i++) {
        const mllm_node *nd = &g->nodes[i];
        if (skip_next) {
            skip_next = 0;
            continue;
        }
        vk_pc pc;
        memset(&pc, 0, sizeof pc);
        pc.a[7] = c->step_dev.addr;
        if (nd->pre_norm || nd->pre_res || nd->pre_xout || nd->epilogue) {
            return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: node %d uses CPU-graph fusions", i);
        }
        switch (nd->op) {
        case MLLM_OP_GET_ROWS: {
            ADDR(pc.a[0], nd->src[0]->data);
            ADDR(pc.a[1], nd->dst[0]->data);
            pc.u[0] = (uint32_t)nd->src[0]->type;
            pc.u[1] = (uint32_t)nd->src[0]->ne[0];
            pc.u[3] = stride_f(nd->dst[0]);
            dispatch(c, cb, P_GET_ROWS, &pc, (uint32_t)nd->dst[0]->ne[1], 1);
            break;
        }
        case MLLM_OP_RMS_NORM: {
            if (fusable_norm(g, i) && (!nd->src[2] || res_added)) {
                prenorm = nd;
                res_added = 0;
                continue;
            }
            ADDR(pc.a[0], nd->src[0]->data);
            ADDR(pc.a[1], nd->src[1]->data);
            if (nd->src[2]) ADDR(pc.a[2], nd->src[2]->data);
            ADDR(pc.a[3], nd->dst[0]->data);
            if (nd->src[2] && nd->src[2]->nb[1] != nd->src[0]->nb[1]) {
                return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: residual and stream strides differ");
            }
            pc.u[0] = (uint32_t)nd->src[0]->ne[0];
            pc.u[1] = stride_f(nd->src[0]);
            pc.u[2] = nd->src[2] != NULL;
            pc.u[3] = stride_f(nd->dst[0]);
            pc.u[4] = (uint32_t)nd->row0;
            pc.f[0] = nd->eps;
            dispatch(c, cb, P_RMS_NORM, &pc, (uint32_t)nd->n_rows, 1);
            break;
        }
        case MLLM_OP_MATMUL: {
            const mllm_tensor *x = nd->src[0];
            const uint32_t k = (uint32_t)x->ne[0], m = (uint32_t)x->ne[1];
            const int32_t wt = nd->src[1]->type;
            const int quant = wt == MLLM_TYPE_Q8_0 || wt == MLLM_TYPE_Q4_0;
            VkDeviceAddress xa;
            ADDR(xa, x->data);
            if (k % 32 != 0) return mllm_fail(MLLM_ERR_UNSUPPORTED, "Vulkan: matmul over %u values (not a multiple of 32)", k);
            /* decode: the matvec kernels stage, convert and quantize x themselves (k <= FUSEX_KMAX) */
            const int fused = m == 1 && k <= FUSEX_KMAX;
            int accumulate = 0;
            if (quant && !fused) { /* the node's weights share one activation type: quantize once */
                vk_pc qp;
                memset(&qp, 0, sizeof qp);
                qp.a[0] = xa;
                qp.a[1] = c->qx.addr;
                qp.a[2] = c->qx.addr + scale_off;
                qp.u[0] = k;
                qp.u[1] = m;
                qp.u[2] = stride_f(x);
                dispatch(c, cb, P_QUANT_Q8, &qp, min_u32(((uint64_t)m * k / 32 + 63) / 64, 4096), 1);
                stage_end(c, cb);
            }
            const int nc8 = !fused;
            /* decode q/k/v projections followed by their RoPE + KV store: done in the matvec epilogue */
            const mllm_node *rn = i + 1 < g->n_nodes ? &g->nodes[i + 1] : NULL;
            const int rope_fused = fused && nd->n_w == 3 && rn && rn->op == MLLM_OP_ROPE_STORE &&
                                   rn->src[0]->data == nd->dst[0]->data && rn->src[1]->data == nd->dst[1]->data &&
                                   rn->src[2]->data == nd->dst[2]->data && hd % 2 == 0 && kv->row % 2 == 0 &&
                                   nd->src[1]->ne[1] % 4 == 0 && nd->src[2]->ne[1] % 4 == 0 && nd->src[3]->ne[1] % 4 == 0;
            /* decode gate/up: both matrices in one dispatch sharing the input staging */
            const int dual = fused && nd->n_w == 2 && !rope_fused && !swiglu_up && nd->src[1]->type == nd->src[2]->type &&
                             nd->src[1]->ne[1] == nd->src[2]->ne[1] && nd->dst[0]->nb[1] == nd->dst[1]->nb[1];
            for (int w = 0; w < (dual ? 1 : nd->n_w); w++) {
                const mllm_tensor *wm = nd->src[1 + w];
                int p;
                switch (wm->type) {
                case MLLM_TYPE_F32: p = nc8 ? P_MV_F32_8 : P_MV_F32_1; break;
                case MLLM_TYPE_F16: p = nc8 ? P_MV_F16_8 : P_MV_F16_1; break;
                case MLLM_TYPE_Q8_0: p = nc8 ? P_MV_Q8_0_8 : P_MV_Q8_0_1; break;
                default: p = nc8 ? P_MV_Q4_0_8 : P_MV_Q4_0_1; break;
                }
                /* input staging per block (XF_STAGE=0) unless it is the SwiGLU input (see mul_mv.comp) */
                const int xf = c->xf_mode == 1 || (c->xf_mode == 2 && swiglu_up);
                if (fused && !xf && p == P_MV_Q8_0_1) p = P_MV_Q8_0_1S;
                if (fused && !xf && p == P_MV_Q4_0_1) p = P_MV_Q4_0_1S;
                ADDR(pc.a[0], wm->data);
                pc.a[1] = quant && !fused ? c->qx.addr : xa;
                pc.a[2] = quant && !fused ? c->qx.addr + scale_off : 0;
                if (fused && swiglu_up) {
                    ADDR(pc.a[5], swiglu_up->data);
                    pc.u[5] = 1;
                }
                if (fused && prenorm) { /* x = rms_norm(stream) * w, computed by the kernel */
                    ADDR(pc.a[1], prenorm->src[0]->data);
                    ADDR(pc.a[4], prenorm->src[1]->data);
                    pc.u[6] = 1;
                    pc.f[0] = prenorm->eps;
                }
                /* the residual add of the norm after this node, done here (y = stream + W x) */
                const mllm_node *nx = i + 1 < g->n_nodes ? &g->nodes[i + 1] : NULL;
                accumulate = fused && nd->n_w == 1 && nx && nx->op == MLLM_OP_RMS_NORM && nx->src[2] &&
                             nx->src[2]->data == nd->dst[0]->data && fusable_norm(g, i + 1) &&
                             nx->src[0]->nb[1] == nx->src[2]->nb[1];
                if (accumulate) {
                    ADDR(pc.a[3], nx->src[0]->data);
                    pc.u[7] = 1;
                } else {
                    ADDR(pc.a[3], nd->dst[w]->data);
                }
                if (rope_fused) { /* q: rotate in place; k: rotate into the cache; v: into the cache */
                    const uint32_t f16 = kv->type == MLLM_KV_F16 ? 4u : 0u;
                    pc.e[0] = w == 0 ? 1u : w == 1 ? 1u | 2u | f16 : 2u | f16;
                    pc.e[1] = (uint32_t)(c->rope_half_bytes / sizeof(float));
                    pc.e[2] = hd;
                    pc.e[3] = (uint32_t)kv->row;
                    pc.a[6] = c->rope.addr;
                    if (w > 0) pc.a[3] = (w == 1 ? c->kv_k.addr : c->kv_v.addr) + (VkDeviceAddress)rn->layer * layer_bytes;
                }
                if (dual) {
                    pc.e[0] = 8u;
                    ADDR(pc.a[6], nd->src[2]->data);
                    ADDR(pc.a[5], nd->dst[1]->data);
                }
                pc.u[0] = k;
                pc.u[1] = (uint32_t)wm->ne[1];
                pc.u[2] = m;
                pc.u[3] = stride_f(x);
                pc.u[4] = stride_f(nd->dst[w]);
                /* decode: at most MV_FUSED_GROUPS workgroups, each looping over row groups, so the
                 * input row is staged (normed, quantized) once per workgroup, not once per 4 rows
                 * (the 32000-row output head took 60 us on an H200 restaging 8000 times) */
                dispatch(c, cb, p, &pc, min_u32((uint64_t)(dual ? 2 : 1) * (uint64_t)((wm->ne[1] + 3) / 4), fused ? (uint64_t)c->mv_groups : 65535),
                         (m + (nc8 ? 7 : 0)) / (nc8 ? 8 : 1));
            }
            swiglu_up = NULL;
            prenorm = NULL;
            res_added = accumulate;
            skip_next = rope_fused;
            break;
        }
        case MLLM_OP_ROPE_STORE: {
            ADDR(pc.a[0], nd->src[0]->data);
            ADDR(pc.a[1], nd->src[1]->data);
            ADDR(pc.a[2], nd->src[2]->data);
            pc.a[3] = c->rope.addr;
            pc.a[4] = c->rope.addr + c->rope_half_bytes;
            pc.a[5] = c->kv_k.addr + (VkDeviceAddress)nd->layer * layer_bytes;
            pc.a[6] = c->kv_v.addr + (VkDeviceAddress)nd->layer * layer_bytes;
            pc.u[0] = hd;
            pc.u[1] = (uint32_t)(nd->src[0]->ne[0] / hd);
            pc.u[2] = (uint32_t)(nd->src[1]->ne[0] / hd);
            pc.u[3] = stride_f(nd->src[0]);
            pc.u[4] = stride_f(nd->src[1]);
            pc.u[5] = kv->type == MLLM_KV_F16;
            pc.u[6] = (uint32_t)kv->row;
            if (nd->src[2]->nb[1] != nd->src[1]->nb[1]) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: k and v strides differ");
            dispatch(c, cb, P_ROPE_STORE, &pc, (uint32_t)nd->src[0]->ne[1], 1);
            break;
        }
        case MLLM_OP_ATTENTION: {
            if (hd > 256 || hd % 2) return mllm_fail(MLLM_ERR_UNSUPPORTED, "Vulkan: head_dim %u unsupported (even, <= 256)", hd);
            ADDR(pc.a[0], nd->src[0]->data);
            pc.a[1] = c->kv_k.addr + (VkDeviceAddress)nd->layer * layer_bytes;
            pc.a[2] = c->kv_v.addr + (VkDeviceAddress)nd->layer * layer_bytes;
            ADDR(pc.a[3], nd->dst[0]->data);
            pc.u[0] = hd;
            pc.u[1] = (uint32_t)(nd->src[0]->ne[0] / hd);
            pc.u[2] = (uint32_t)(kv->row / kv->head_dim);
            pc.u[3] = stride_f(nd->src[0]);
            pc.u[4] = stride_f(nd->dst[0]);
            pc.u[5] = kv->type == MLLM_KV_F16;
            pc.u[6] = (uint32_t)kv->row;
            pc.f[0] = 1.0f / sqrtf((float)hd);
            if (nd->src[0]->ne[1] == 1 && hd == 64 && kv->type == MLLM_KV_F16 && pc.u[1] <= ATT_MAX_HEADS && kv->row % 8 == 0 &&
                pc.a[0] % 16 == 0 && pc.a[1] % 16 == 0 && pc.a[2] % 16 == 0) {
                pc.u[7] = ATT_SPLIT;
                pc.a[4] = c->att_part.addr;
                p_vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, c->layout, 0, 1, &c->ctr_set, 0, NULL);
                dispatch(c, cb, P_ATTENTION_DEC, &pc, pc.u[1], ATT_SPLIT);
            } else if (nd->src[0]->ne[1] <= ATT_SPLIT_MAX_TOKENS) {
                pc.u[7] = ATT_SPLIT;
                pc.a[4] = c->att_part.addr;
                dispatch3(c, cb, P_ATTENTION, &pc, pc.u[1], (uint32_t)nd->src[0]->ne[1], ATT_SPLIT);
                stage_end(c, cb);
                dispatch(c, cb, P_ATTN_COMBINE, &pc, pc.u[1], (uint32_t)nd->src[0]->ne[1]);
            } else {
                dispatch(c, cb, P_ATTENTION, &pc, pc.u[1], (uint32_t)nd->src[0]->ne[1]);
            }
            break;
        }
        case MLLM_OP_SWIGLU: {
            const mllm_tensor *gt = nd->dst[0], *up = nd->src[1];
            if (gt->nb[1] != (size_t)gt->ne[0] * 4 || up->nb[1] != gt->nb[1]) {
                return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: swiglu over non-contiguous tensors");
            }
            if (gt->ne[1] == 1 && gt->ne[0] <= FUSEX_KMAX && i + 1 < g->n_nodes && g->nodes[i + 1].op == MLLM_OP_MATMUL &&
                g->nodes[i + 1].src[0] == gt) {
                swiglu_up = up; /* the down projection computes silu(gate) * up as it reads */
                continue;
            }
            ADDR(pc.a[0], gt->data);
            ADDR(pc.a[1], up->data);
            const uint64_t total = (uint64_t)gt->ne[0] * (uint64_t)gt->ne[1];
            pc.u[0] = (uint32_t)total;
            dispatch(c, cb, P_SWIGLU, &pc, min_u32((total + 255) / 256, 65535), 1);
            break;
        }
        default: return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: op %d not implemented", (int)nd->op);
        }
        stage_end(c, cb);
    }
    /* the output rows go to the host-visible readback buffer in the same submission */
    const mllm_tensor *out = &g->acts[MLLM_ACT_OUT];
    if (g->n_out > 0) {
        VkDeviceAddress oa = addr_of(c, out->data);
        const vk_act *a = NULL;
        for (int j = 0; j < VK_MAX_ACTS; j++) {
            if (c->acts[j].host && (const char *)out->data >= c->acts[j].host &&
                (const char *)out->data < c->acts[j].host + c->acts[j].bytes) a = &c->acts[j];
        }
        if (!oa || !a) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: output tensor unknown to the device");
        VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                              .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT};
        p_vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
        VkBufferCopy reg = {.srcOffset = (VkDeviceSize)((const char *)out->data - a->host), .dstOffset = 0,
                            .size = (VkDeviceSize)g->n_out * out->nb[1]};
        p_vkCmdCopyBuffer(cb, a->dev.buf, c->readback.buf, 1, &reg);
        VkMemoryBarrier hb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                              .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
        p_vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &hb, 0, NULL, 0, NULL);
    }
    VKCHECK(p_vkEndCommandBuffer(cb), "vkEndCommandBuffer");
    return MLLM_OK;
}

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
        buf_free(c, &c->kv_k);
        buf_free(c, &c->kv_v);
        if ((st = buf_create(c, bytes, 0, &c->kv_k)) || (st = buf_create(c, bytes, 0, &c->kv_v))) return st;
        c->kv = kv;
        grew = 1;
    }
    if (c->rope_src != ex->rope_cos) {
        const size_t half = (size_t)kv->n_ctx * (size_t)(kv->head_dim / 2) * sizeof(float);
        c->rope_half_bytes = (half + 255) & ~(size_t)255;
        buf_free(c, &c->rope);
        if ((st = buf_create(c, 2 * c->rope_half_bytes, 0, &c->rope))) return st;
        if ((st = transfer(c, c->rope.buf, 0, (void *)ex->rope_cos, half, 1))) return st;
        if ((st = transfer(c, c->rope.buf, c->rope_half_bytes, (void *)ex->rope_sin, half, 1))) return st;
        c->rope_src = ex->rope_cos;
        grew = 1;
    }
    if (g->n_tokens > c->step_cap) {
        int64_t cap = g->n_tokens < 512 ? 512 : g->n_tokens;
        if ((st = buf_ensure(c, &c->step, (VkDeviceSize)(cap + 1) * sizeof(int32_t), 1, &grew))) return st;
        if ((st = buf_ensure(c, &c->step_dev, (VkDeviceSize)(cap + 1) * sizeof(int32_t), 0, &grew))) return st;
        c->step_cap = cap;
    }
    size_t so;
    const size_t q = qx_need(g, &so);
    if (q && (st = buf_ensure(c, &c->qx, q, 0, &grew))) return st;
    const size_t ap = att_part_need(g, kv->head_dim);
    if (ap && (st = buf_ensure(c, &c->att_part, ap, 0, &grew))) return st;
    if (ap && !c->att_ctr.buf) {
        static const uint32_t zeros[ATT_MAX_HEADS];
        if ((st = buf_create(c, sizeof zeros, 0, &c->att_ctr))) return st;
        if ((st = transfer(c, c->att_ctr.buf, 0, (void *)zeros, sizeof zeros, 1))) return st;
        VkDescriptorBufferInfo bi = {.buffer = c->att_ctr.buf, .offset = 0, .range = VK_WHOLE_SIZE};
        VkWriteDescriptorSet w = {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = c->ctr_set, .dstBinding = 0,
                                  .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .pBufferInfo = &bi};
        p_vkUpdateDescriptorSets(c->dev, 1, &w, 0, NULL);
        grew = 1;
    }
    const size_t rb = (size_t)g->n_out * g->acts[MLLM_ACT_OUT].nb[1];
    if (rb && (st = buf_ensure(c, &c->readback, rb, 1, &grew))) return st;
    if (grew) drop_cmds(c); /* recorded addresses changed */
    return MLLM_OK;
}

static void prof_collect(vk_ctx *c, const vk_cmd *cmd, int decode, int64_t t0) {
    const int64_t t1 = mllm_now_ns();
    uint64_t ts[PROF_MAX_TS];
    const uint32_t n = (uint32_t)cmd->n_stages + 1;
    if (p_vkGetQueryPoolResults(c->dev, c->tsq, 0, n, sizeof ts, ts, sizeof ts[0], VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) !=
        VK_SUCCESS) return;
    const double period = c->props.limits.timestampPeriod;
    for (int s = 0; s < cmd->n_stages; s++) {
        vk_prof_row *r = &c->prof_rows[cmd->stage_row[s]];
        r->ns += (double)(ts[s + 1] - ts[s]) * period;
        r->n++;
    }
    const int k = decode ? 0 : 1;
    c->prof_gpu_ns[k] += (double)(ts[n - 1] - ts[0]) * period;
    c->prof_host_ns[k] += (double)(t1 - t0);
    c->prof_graphs[k]++;
}

static void prof_print(const vk_ctx *c) {
    for (int k = 0; k < 2; k++) {
        if (!c->prof_graphs[k]) continue;
        const double g = (double)c->prof_graphs[k];
        fprintf(stderr, "mobilellm: Vulkan profile, %s graphs: %llu; per graph: GPU %.1f us (first to last timestamp), host submit+wait %.1f us\n",
                k ? "prompt" : "decode", (unsigned long long)c->prof_graphs[k], c->prof_gpu_ns[k] / g / 1e3, c->prof_host_ns[k] / g / 1e3);
        for (int i = 0; i < c->n_prof_rows; i++) {
            const vk_prof_row *r = &c->prof_rows[i];
            if (r->name[0] != (k ? 'p' : 'd') || !r->n) continue;
            fprintf(stderr, "mobilellm:   %-36s %6.1f us per graph  %5.1f stages per graph  %6.2f us per stage\n", r->name + 2,
                    r->ns / g / 1e3, (double)r->n / g, r->ns / (double)r->n / 1e3);
        }
    }
}

static mllm_status vk_compute(mllm_exec_backend *be, const mllm_graph *g, mllm_exec *ex) {
    vk_ctx *c = be->impl;
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
        if (c->prof && !hit->stage_row && !(hit->stage_row = malloc(PROF_MAX_TS))) {
            return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory (Vulkan profile)");
        }
        c->rec_rows = hit->stage_row;
        c->rec_n = 0;
        c->rec_decode = g->n_tokens == 1;
        st = record_graph(c, g, hit->cb);
        hit->n_stages = c->rec_n;
        c->rec_rows = NULL;
        if (st) return st;
        if (env_flag("MLLM_VULKAN_VERBOSE")) {
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
    const int64_t t0 = c->prof ? mllm_now_ns() : 0;
    if ((st = submit_step(c, hit->cb))) return st;
    if (c->prof && hit->n_stages > 0) prof_collect(c, hit, g->n_tokens == 1, t0);
    c->out_data = g->acts[MLLM_ACT_OUT].data;
    c->out_rows = g->n_out;
    c->out_row_bytes = g->acts[MLLM_ACT_OUT].nb[1];
    return MLLM_OK;
}

static mllm_status vk_read_output(mllm_exec_backend *be, const mllm_tensor *t, int64_t row0, int64_t n_rows, float *dst) {
    vk_ctx *c = be->impl;
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
            return transfer(c, a->dev.buf, (VkDeviceSize)(p - a->host), dst, (size_t)n_rows * t->nb[1], 0);
        }
    }
    return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: read_output of a tensor unknown to the device");
}

/* Context shift on the device copy of the cache: download, re-rotate with the CPU code, upload
 * (rare: half the movable context is dropped each time). */
static mllm_status vk_kv_shift(mllm_exec_backend *be, mllm_kv_cache *kv, int32_t dst, int32_t src, int32_t n_past,
                               const double *inv_freq) {
    vk_ctx *c = be->impl;
    if (c->kv != kv) { /* nothing computed yet on the device */
        mllm_kv_cache_shift(kv, dst, src, n_past, inv_freq);
        return MLLM_OK;
    }
    const size_t bytes = (size_t)kv->n_layer * (size_t)kv->n_ctx * kv->row_bytes;
    mllm_status st = transfer(c, c->kv_k.buf, 0, kv->k, bytes, 0);
    if (!st) st = transfer(c, c->kv_v.buf, 0, kv->v, bytes, 0);
    if (st) return st;
    mllm_kv_cache_shift(kv, dst, src, n_past, inv_freq);
    st = transfer(c, c->kv_k.buf, 0, kv->k, bytes, 1);
    if (!st) st = transfer(c, c->kv_v.buf, 0, kv->v, bytes, 1);
    return st;
}

static void vk_free(mllm_exec_backend *be) {
    if (!be) return;
    ctx_free(be->impl);
    free(be);
}

static const mllm_backend_iface vk_iface = {
    .name = "vulkan",
    .upload_weights = vk_upload,
    .alloc = vk_alloc,
    .free_buffer = vk_free_buffer,
    .compute = vk_compute,
    .read_output = vk_read_output,
    .free = vk_free,
    .kv_shift = vk_kv_shift,
};

mllm_status mllm_backend_vulkan_create(int32_t gpu_device, mllm_exec_backend **out) {
    *out = NULL;
    vk_ctx *c = calloc(1, sizeof *c);
    mllm_exec_backend *be = calloc(1, sizeof *be);
    if (!c || !be) {
        free(c);
        free(be);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory creating the Vulkan backend");
    }
    mllm_status st = create_instance(c);
    if (!st) st = pick_device(c, gpu_device);
    if (!st) st = create_device(c);
    if (st) {
        ctx_free(c);
        free(be);
        return st;
    }
    be->iface = &vk_iface;
    be->n_threads = 1;
    be->impl = c;
    *out = be;
    return MLLM_OK;
}

mllm_status mllm_vulkan_check(const mllm_model *m, int32_t gpu_device, int gpu_only) {
    const mllm_tensor *ts[3] = {&m->tok_embd, &m->output_norm, &m->output};
    for (int i = 0; i < 3; i++) {
        mllm_status st = check_weight(ts[i]);
        if (st) return st;
    }
    for (int32_t b = 0; b < m->hp.n_block; b++) {
        const mllm_block *bl = &m->blocks[b];
        const mllm_tensor *t[] = {&bl->attn_norm, &bl->wq, &bl->wk, &bl->wv, &bl->wo, &bl->ffn_norm, &bl->gate, &bl->up, &bl->down};
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
            mllm_status st = check_weight(t[i]);
            if (st) return st;
        }
    }
    if (m->hp.head_dim > 256 || m->hp.head_dim % 2) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "Vulkan backend: head_dim %d unsupported (even, <= 256)", m->hp.head_dim);
    }
    vk_ctx *c = calloc(1, sizeof *c);
    if (!c) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory probing Vulkan");
    mllm_status st = create_instance(c);
    if (!st) st = pick_device(c, gpu_device);
    if (!st && gpu_only && c->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU) {
        st = mllm_fail(MLLM_ERR_BACKEND, "Vulkan: no GPU, only the CPU implementation %s", c->props.deviceName);
    }
    ctx_free(c);
    return st;
}

#endif
