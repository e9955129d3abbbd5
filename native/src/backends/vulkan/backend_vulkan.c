/* Vulkan backend: the whole forward pass on the GPU.
 *
 * - The loader is opened at run time (dlopen of libvulkan.so.1): a machine without Vulkan gets a
 *   clear MLLM_ERR_BACKEND, never a library that fails to load.
 * - Weights are uploaded once into device-local buffers (chunks no larger than the device's
 *   maxMemoryAllocationSize, 1 GiB at most) and stay resident; the KV cache, RoPE tables and all
 *   activations live on the device. Only the graph's output rows come back, copied to a
 *   host-visible buffer inside the same submission.
 * - Kernels take tensors as buffer device addresses in push constants (no descriptor sets), so
 *   any tensor is addressed whole, whatever maxStorageBufferRange is (128 MiB on lavapipe).
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
 *   (PROT_NONE) that maps 1:1 onto a device buffer: the graph built by model_graph.c is used
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

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "backends/vulkan/shaders/push_constants.h"
#include "backends/vulkan/vk_pipelines.h"
#include "core/types.h"
#include "graph/kv_cache.h"

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

static pthread_once_t g_load_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_fn_lock = PTHREAD_MUTEX_INITIALIZER;
static void *g_lib;
static char g_load_err[256];

static void load_loader(void) {
    const char *names[] = {"libvulkan.so.1", "libvulkan.so"};
    for (size_t i = 0; i < 2 && !g_lib; i++) g_lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!g_lib) {
        snprintf(g_load_err, sizeof g_load_err,
                 "no Vulkan loader (libvulkan.so.1) found: install a Vulkan driver (e.g. Debian's libvulkan1 and "
                 "mesa-vulkan-drivers) or use the CPU backend");
        return;
    }
    p_vkGetInstanceProcAddr = (PFN_vkGetInstanceProcAddr)dlsym(g_lib, "vkGetInstanceProcAddr");
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
    pthread_mutex_lock(&g_fn_lock);
#define LOAD(f) p_##f = (PFN_##f)p_vkGetInstanceProcAddr(inst, #f);
    VK_INSTANCE_FUNCS(LOAD)
    LOAD(vkCreateDebugUtilsMessengerEXT)
    LOAD(vkDestroyDebugUtilsMessengerEXT)
#undef LOAD
    pthread_mutex_unlock(&g_fn_lock);
}

static int load_device_funcs(VkDevice dev) {
    pthread_mutex_lock(&g_fn_lock);
    int ok = 1;
#define LOAD(f) ok &= (p_##f = (PFN_##f)p_vkGetDeviceProcAddr(dev, #f)) != NULL;
    VK_DEVICE_FUNCS(LOAD)
#undef LOAD
    pthread_mutex_unlock(&g_fn_lock);
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

/* Every kernel's push constants fit in this many bytes (the minimum maxPushConstantsSize), so one
 * pipeline layout serves them all. */
#define VK_PUSH_BYTES 128

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

    int prof;              /* MLLM_VULKAN_PROFILE */
    int xf_mode;           /* MLLM_VULKAN_XF: decode input staging, 0 per block, 1 shared row, 2 row for SwiGLU only */
    int mv_groups;         /* most workgroups of a decode matvec (MLLM_VULKAN_GROUPS) */
    int spin;              /* poll the fence of a decode step (MLLM_VULKAN_SPIN=0: block at once) */
    VkQueryPool tsq;
    uint8_t *rec_rows;     /* stage rows of the command buffer being recorded */
    int rec_n;
    int rec_decode;
    char cur_label[38];    /* the last dispatch's label; with a "d:"/"p:" prefix it fits a profile row name[40] */
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
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        VkResult r = p_vkGetFenceStatus(c->dev, c->fence);
        if (r == VK_SUCCESS) return MLLM_OK;
        if (r != VK_NOT_READY) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: vkGetFenceStatus failed (VkResult %d)", (int)r);
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) > 20000000L) break;
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
static pthread_mutex_t g_inst_lock = PTHREAD_MUTEX_INITIALIZER;
static VkInstance g_inst;
static VkDebugUtilsMessengerEXT g_messenger;

static mllm_status create_instance_once(vk_ctx *c);

static mllm_status create_instance(vk_ctx *c) {
    pthread_mutex_lock(&g_inst_lock);
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
    pthread_mutex_unlock(&g_inst_lock);
    return st;
}

static mllm_status create_instance_once(vk_ctx *c) {
    pthread_once(&g_load_once, load_loader);
    if (g_load_err[0]) return mllm_fail(MLLM_ERR_BACKEND, "%s", g_load_err);
    const int validation = env_flag("MLLM_VULKAN_VALIDATION");
    const char *layer = "VK_LAYER_KHRONOS_validation", *ext = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    int use_layer = 0;
    if (validation) {
        use_layer = has_layer(layer);
        if (!use_layer) fprintf(stderr, "mobilellm: MLLM_VULKAN_VALIDATION is set but %s is not installed\n", layer);
    }
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "mobilellm",
                             .pEngineName = "mobilellm", .apiVersion = VK_API_VERSION_1_2};
    VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app,
                               .enabledLayerCount = use_layer ? 1 : 0, .ppEnabledLayerNames = &layer,
                               .enabledExtensionCount = use_layer ? 1 : 0, .ppEnabledExtensionNames = &ext};
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
    VkDeviceCreateInfo di = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &f, .queueCreateInfoCount = 1,
                             .pQueueCreateInfos = &qi};
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
    VkPushConstantRange pr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = VK_PUSH_BYTES};
    VkPipelineLayoutCreateInfo li = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO, .pushConstantRangeCount = 1,
                                     .pPushConstantRanges = &pr};
    VKCHECK(p_vkCreatePipelineLayout(c->dev, &li, NULL, &c->layout), "vkCreatePipelineLayout");
    for (int p = 0; p < VK_PIPE_COUNT; p++) {
        const mllm_vk_spirv *sh = &mllm_vk_spirv_of[p];
        if (!sh->size) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: pipeline %d has no embedded SPIR-V", p);
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
        if (r != VK_SUCCESS) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: pipeline %s failed (VkResult %d)", sh->name, (int)r);
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
                munmap(c->acts[i].host, c->acts[i].bytes);
            }
        }
        vk_buf *bs[] = {&c->kv_k, &c->kv_v, &c->rope, &c->step, &c->step_dev, &c->qx, &c->att_part, &c->att_ctr, &c->readback, &c->staging};
        for (size_t i = 0; i < sizeof bs / sizeof bs[0]; i++) buf_free(c, bs[i]);
        for (int p = 0; p < VK_PIPE_COUNT; p++) {
            if (c->pipes[p]) p_vkDestroyPipeline(c->dev, c->pipes[p], NULL);
        }
        if (c->layout) p_vkDestroyPipelineLayout(c->dev, c->layout, NULL);
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

static mllm_status vk_alloc(mllm_runner *r, size_t bytes, void **out) {
    vk_ctx *c = r->impl;
    int slot = -1;
    for (int i = 0; i < VK_MAX_ACTS && slot < 0; i++) {
        if (!c->acts[i].host) slot = i;
    }
    if (slot < 0) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: too many activation buffers");
    size_t sz = bytes ? bytes : 64;
    void *h = mmap(NULL, sz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (h == MAP_FAILED) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "cannot reserve %zu bytes of address space", sz);
    mllm_status st = buf_create(c, sz, 0, &c->acts[slot].dev);
    if (st) {
        munmap(h, sz);
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
            buf_free(c, &c->acts[i].dev);
            munmap(c->acts[i].host, c->acts[i].bytes);
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

/* mul_mv.comp stages a decode input row of at most this many values in shared memory */
#define FUSEX_KMAX 3584

/* What recording one graph needs besides the node at hand. A failure is kept in err: the
 * functions below then record nothing more, and record_graph returns it after the node. */
typedef struct vk_rec {
    vk_ctx *c;
    VkCommandBuffer cb;
    VkDeviceAddress step;  /* the step buffer's device copy */
    size_t qx_scale_off;   /* where the q8_0 activation scales start in c->qx */
    int32_t node;          /* index of the node being recorded */
    mllm_status err;
} vk_rec;

static mllm_status rec_fail(vk_rec *r, mllm_status s, const char *what) {
    if (!r->err) r->err = mllm_fail(s, "Vulkan: node %d: %s", r->node, what);
    return r->err;
}

/* Device address of a tensor's host pointer (a weight or an activation). */
static VkDeviceAddress dev_addr(vk_rec *r, const void *host) {
    VkDeviceAddress a = addr_of(r->c, host);
    if (!a) rec_fail(r, MLLM_ERR_BACKEND, "reads memory unknown to the device");
    return a;
}

static VkDeviceAddress cache_layer(const vk_ctx *c, const vk_buf *cache, int32_t layer) {
    return cache->addr + (VkDeviceAddress)layer * (VkDeviceAddress)c->kv->n_ctx * c->kv->row_bytes;
}

static void dispatch(vk_rec *r, vk_pipe p, const void *pc, uint32_t pc_bytes, uint32_t x, uint32_t y, uint32_t z) {
    vk_ctx *c = r->c;
    if (r->err) return;
    if (c->prof) snprintf(c->cur_label, sizeof c->cur_label, "%s", mllm_vk_spirv_of[p].name);
    p_vkCmdBindPipeline(r->cb, VK_PIPELINE_BIND_POINT_COMPUTE, c->pipes[p]);
    p_vkCmdPushConstants(r->cb, c->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, pc_bytes, pc);
    p_vkCmdDispatch(r->cb, x ? x : 1, y ? y : 1, z ? z : 1);
    c->n_dispatch++;
}

static void record_get_rows(vk_rec *r, const mllm_node *n) {
    const vk_pc_get_rows pc = {
        .weights = dev_addr(r, n->src[0]->data),
        .dst = dev_addr(r, n->dst[0]->data),
        .step = r->step,
        .type = (uint32_t)n->src[0]->type,
        .n_cols = (uint32_t)n->src[0]->ne[0],
        .dst_stride = stride_f(n->dst[0]),
    };
    dispatch(r, VK_PIPE_get_rows, &pc, sizeof pc, (uint32_t)n->dst[0]->ne[1], 1, 1);
}

static void record_rms_norm(vk_rec *r, const mllm_node *n) {
    const int add = n->src[2] && !n->fused.residual_added;
    if (add && n->src[2]->nb[1] != n->src[0]->nb[1]) {
        rec_fail(r, MLLM_ERR_BACKEND, "residual and stream strides differ");
        return;
    }
    const vk_pc_rms_norm pc = {
        .x = dev_addr(r, n->src[0]->data),
        .weight = dev_addr(r, n->src[1]->data),
        .residual = add ? dev_addr(r, n->src[2]->data) : 0,
        .dst = dev_addr(r, n->dst[0]->data),
        .n_cols = (uint32_t)n->src[0]->ne[0],
        .x_stride = stride_f(n->src[0]),
        .add_residual = (uint32_t)add,
        .dst_stride = stride_f(n->dst[0]),
        .row0 = (uint32_t)n->row0,
        .eps = n->eps,
    };
    dispatch(r, VK_PIPE_rms_norm, &pc, sizeof pc, (uint32_t)n->n_rows, 1, 1);
}

/* The matvec pipeline for a weight type: decode rows staged by the kernel (with the SwiGLU input
 * through a shared row, see mul_mv.comp's XF_STAGE) or 8 prompt rows per workgroup. */
static vk_pipe mv_pipe(const vk_ctx *c, int32_t type, int staged, int swiglu_in) {
    const int shared_row = c->xf_mode == 1 || (c->xf_mode == 2 && swiglu_in);
    switch (type) {
    case MLLM_TYPE_F32: return staged ? VK_PIPE_mv_f32_1 : VK_PIPE_mv_f32_8;
    case MLLM_TYPE_F16: return staged ? VK_PIPE_mv_f16_1 : VK_PIPE_mv_f16_8;
    case MLLM_TYPE_Q8_0: return !staged ? VK_PIPE_mv_q8_0_8 : shared_row ? VK_PIPE_mv_q8_0_1 : VK_PIPE_mv_q8_0_1s;
    default: return !staged ? VK_PIPE_mv_q4_0_8 : shared_row ? VK_PIPE_mv_q4_0_1 : VK_PIPE_mv_q4_0_1s;
    }
}

/* One dispatch per weight (gate and up share one in decode: MV_DUAL), with the fusions the
 * planner marked: the norm or SwiGLU before it computed while staging the input, and the
 * RoPE + KV store or residual add after it done on the output rows. */
static void record_matmul(vk_rec *r, const mllm_node *n) {
    vk_ctx *c = r->c;
    const mllm_node *norm = n->fused.pre_norm, *swiglu = n->fused.pre_swiglu, *post = n->fused.post;
    const mllm_tensor *x = n->src[0];
    const uint32_t k = (uint32_t)x->ne[0], m = (uint32_t)x->ne[1];
    const int32_t wt = n->src[1]->type;
    const int quant = wt == MLLM_TYPE_Q8_0 || wt == MLLM_TYPE_Q4_0;
    if (k % 32 != 0) {
        rec_fail(r, MLLM_ERR_UNSUPPORTED, "matmul rows are not a multiple of 32 values");
        return;
    }
    /* decode: the matvec kernels stage, convert and quantize x themselves (k <= FUSEX_KMAX) */
    const int staged = m == 1 && k <= FUSEX_KMAX;
    if (!staged && (norm || swiglu || post)) {
        rec_fail(r, MLLM_ERR_BACKEND, "a fusion on a matmul the kernels cannot fuse");
        return;
    }
    /* with a fused norm the kernel reads the norm's input rows */
    const VkDeviceAddress xa = norm ? dev_addr(r, mllm_tensor_row(norm->src[0], norm->row0)) : dev_addr(r, x->data);
    if (quant && !staged) { /* the node's weights share one activation type: quantize once */
        const vk_pc_quant_q8 qp = {
            .x = xa, .quants = c->qx.addr, .scales = c->qx.addr + r->qx_scale_off, .k = k, .m = m, .x_stride = stride_f(x)};
        dispatch(r, VK_PIPE_quant_q8, &qp, sizeof qp, min_u32(((uint64_t)m * k / 32 + 63) / 64, 4096), 1, 1);
        stage_end(c, r->cb);
    }
    const int rope = post && post->op == MLLM_OP_ROPE_STORE, accumulate = post && post->op == MLLM_OP_RMS_NORM;
    const int dual = staged && n->n_w == 2 && !swiglu && n->src[1]->type == n->src[2]->type &&
                     n->src[1]->ne[1] == n->src[2]->ne[1] && n->dst[0]->nb[1] == n->dst[1]->nb[1];
    for (int w = 0; w < (dual ? 1 : n->n_w); w++) {
        const mllm_tensor *wm = n->src[1 + w];
        vk_pc_mul_mv pc = {
            .weights = dev_addr(r, wm->data),
            .x = quant && !staged ? c->qx.addr : xa,
            .x_scales = quant && !staged ? c->qx.addr + r->qx_scale_off : 0,
            .y = dev_addr(r, n->dst[w]->data),
            .step = r->step,
            .k = k,
            .n_rows = (uint32_t)wm->ne[1],
            .m = m,
            .x_stride = stride_f(x),
            .y_stride = stride_f(n->dst[w]),
        };
        if (swiglu) {
            pc.up = dev_addr(r, swiglu->src[1]->data);
            pc.flags |= MV_SWIGLU_IN;
        }
        if (norm) {
            pc.norm_weight = dev_addr(r, norm->src[1]->data);
            pc.flags |= MV_NORM_IN;
            pc.eps = norm->eps;
        }
        if (accumulate) { /* y = stream + W x */
            pc.y = dev_addr(r, post->src[0]->data);
            pc.flags |= MV_ACCUMULATE;
        }
        if (rope) { /* q: rotate in place; k: rotate into the cache; v: into the cache */
            const uint32_t f16 = c->kv->type == MLLM_KV_F16 ? MV_KV_F16 : 0u;
            pc.flags |= w == 0 ? MV_ROPE : w == 1 ? MV_ROPE | MV_TO_KV | f16 : MV_TO_KV | f16;
            pc.rope = c->rope.addr;
            pc.rope_sin_offset = (uint32_t)(c->rope_half_bytes / sizeof(float));
            pc.head_dim = (uint32_t)c->kv->head_dim;
            pc.cache_row = (uint32_t)c->kv->row;
            if (w > 0) pc.y = cache_layer(c, w == 1 ? &c->kv_k : &c->kv_v, post->layer);
        }
        if (dual) {
            pc.flags |= MV_DUAL;
            pc.weights2 = dev_addr(r, n->src[2]->data);
            pc.y2 = dev_addr(r, n->dst[1]->data);
        }
        /* decode: at most mv_groups workgroups, each looping over row groups, so the input row is
         * staged (normed, quantized) once per workgroup, not once per 4 rows (the 32000-row
         * output head took 60 us on an H200 restaging 8000 times) */
        const uint64_t groups = (uint64_t)(dual ? 2 : 1) * (uint64_t)((wm->ne[1] + 3) / 4);
        const vk_pipe p = mv_pipe(c, wm->type, staged, swiglu != NULL);
        dispatch(r, p, &pc, sizeof pc, min_u32(groups, staged ? (uint64_t)c->mv_groups : 65535), staged ? m : (m + 7) / 8, 1);
        if (c->prof) snprintf(c->cur_label, sizeof c->cur_label, "%s r%u k%u", mllm_vk_spirv_of[p].name, pc.n_rows, k);
    }
}

static void record_rope_store(vk_rec *r, const mllm_node *n) {
    vk_ctx *c = r->c;
    const uint32_t hd = (uint32_t)c->kv->head_dim;
    if (n->src[2]->nb[1] != n->src[1]->nb[1]) {
        rec_fail(r, MLLM_ERR_BACKEND, "k and v strides differ");
        return;
    }
    const vk_pc_rope_store pc = {
        .q = dev_addr(r, n->src[0]->data),
        .k = dev_addr(r, n->src[1]->data),
        .v = dev_addr(r, n->src[2]->data),
        .rope_cos = c->rope.addr,
        .rope_sin = c->rope.addr + c->rope_half_bytes,
        .k_cache = cache_layer(c, &c->kv_k, n->layer),
        .v_cache = cache_layer(c, &c->kv_v, n->layer),
        .step = r->step,
        .head_dim = hd,
        .n_head = (uint32_t)(n->src[0]->ne[0] / hd),
        .n_kv = (uint32_t)(n->src[1]->ne[0] / hd),
        .q_stride = stride_f(n->src[0]),
        .kv_stride = stride_f(n->src[1]),
        .cache_f16 = c->kv->type == MLLM_KV_F16,
        .cache_row = (uint32_t)c->kv->row,
    };
    dispatch(r, VK_PIPE_rope_store, &pc, sizeof pc, (uint32_t)n->src[0]->ne[1], 1, 1);
}

/* Decode over an f16 cache with 64-value heads: one dispatch (attention_dec); other small
 * batches: split-K attention plus a combine pass; prompts: one workgroup per (head, token). */
static void record_attention(vk_rec *r, const mllm_node *n) {
    vk_ctx *c = r->c;
    const mllm_kv_cache *kv = c->kv;
    const uint32_t hd = (uint32_t)kv->head_dim, n_head = (uint32_t)(n->src[0]->ne[0] / hd), n_tok = (uint32_t)n->src[0]->ne[1];
    if (hd > 256 || hd % 2) {
        rec_fail(r, MLLM_ERR_UNSUPPORTED, "head_dim unsupported (even, <= 256)");
        return;
    }
    const VkDeviceAddress q = dev_addr(r, n->src[0]->data), dst = dev_addr(r, n->dst[0]->data);
    const VkDeviceAddress kc = cache_layer(c, &c->kv_k, n->layer), vc = cache_layer(c, &c->kv_v, n->layer);
    const float scale = 1.0f / sqrtf((float)hd);
    if (n_tok == 1 && hd == 64 && kv->type == MLLM_KV_F16 && n_head <= ATT_MAX_HEADS && kv->row % 8 == 0 && q % 16 == 0 &&
        kc % 16 == 0 && vc % 16 == 0) {
        const vk_pc_attention_dec pc = {.q = q, .k_cache = kc, .v_cache = vc, .dst = dst, .partials = c->att_part.addr,
                                        .counters = c->att_ctr.addr, .step = r->step, .n_head = n_head,
                                        .n_kv = (uint32_t)(kv->row / kv->head_dim), .cache_row = (uint32_t)kv->row,
                                        .n_split = ATT_SPLIT, .scale = scale};
        dispatch(r, VK_PIPE_attention_dec, &pc, sizeof pc, n_head, ATT_SPLIT, 1);
        return;
    }
    const int split = n_tok <= ATT_SPLIT_MAX_TOKENS;
    const vk_pc_attention pc = {.q = q, .k_cache = kc, .v_cache = vc, .dst = dst, .partials = split ? c->att_part.addr : 0,
                                .step = r->step, .head_dim = hd, .n_head = n_head, .n_kv = (uint32_t)(kv->row / kv->head_dim),
                                .q_stride = stride_f(n->src[0]), .dst_stride = stride_f(n->dst[0]),
                                .cache_f16 = kv->type == MLLM_KV_F16, .cache_row = (uint32_t)kv->row,
                                .n_split = split ? ATT_SPLIT : 0, .scale = scale};
    dispatch(r, VK_PIPE_attention, &pc, sizeof pc, n_head, n_tok, split ? ATT_SPLIT : 1);
    if (!split) return;
    stage_end(c, r->cb);
    const vk_pc_attn_combine cp = {.dst = dst, .partials = c->att_part.addr, .head_dim = hd, .n_head = n_head,
                                   .dst_stride = stride_f(n->dst[0]), .n_split = ATT_SPLIT};
    dispatch(r, VK_PIPE_attn_combine, &cp, sizeof cp, n_head, n_tok, 1);
}

static void record_swiglu(vk_rec *r, const mllm_node *n) {
    const mllm_tensor *gate = n->dst[0], *up = n->src[1];
    if (gate->nb[1] != (size_t)gate->ne[0] * sizeof(float) || up->nb[1] != gate->nb[1]) {
        rec_fail(r, MLLM_ERR_BACKEND, "swiglu over non-contiguous tensors");
        return;
    }
    const uint64_t total = (uint64_t)gate->ne[0] * (uint64_t)gate->ne[1];
    const vk_pc_swiglu pc = {.gate = dev_addr(r, gate->data), .up = dev_addr(r, up->data), .n = (uint32_t)total};
    dispatch(r, VK_PIPE_swiglu, &pc, sizeof pc, min_u32((total + 255) / 256, 65535), 1, 1);
}

typedef void (*record_fn)(vk_rec *r, const mllm_node *n);
static const record_fn k_record[MLLM_OP_COUNT] = {
    [MLLM_OP_GET_ROWS] = record_get_rows,
    [MLLM_OP_RMS_NORM] = record_rms_norm,
    [MLLM_OP_MATMUL] = record_matmul,
    [MLLM_OP_ROPE_STORE] = record_rope_store,
    [MLLM_OP_ATTENTION] = record_attention,
    [MLLM_OP_SWIGLU] = record_swiglu,
};

/* The output rows go to the host-visible readback buffer in the same submission. */
static mllm_status record_readback(vk_ctx *c, const mllm_graph *g, VkCommandBuffer cb) {
    const mllm_tensor *out = &g->acts[MLLM_ACT_OUT];
    const vk_act *a = NULL;
    for (int j = 0; j < VK_MAX_ACTS; j++) {
        if (c->acts[j].host && (const char *)out->data >= c->acts[j].host &&
            (const char *)out->data < c->acts[j].host + c->acts[j].bytes) a = &c->acts[j];
    }
    if (!a) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: output tensor unknown to the device");
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT};
    p_vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
    VkBufferCopy reg = {.srcOffset = (VkDeviceSize)((const char *)out->data - a->host), .dstOffset = 0,
                        .size = (VkDeviceSize)g->n_out * out->nb[1]};
    p_vkCmdCopyBuffer(cb, a->dev.buf, c->readback.buf, 1, &reg);
    VkMemoryBarrier hb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    p_vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &hb, 0, NULL, 0, NULL);
    return MLLM_OK;
}

static mllm_status record_graph(vk_ctx *c, const mllm_graph *g, VkCommandBuffer cb) {
    vk_rec r = {.c = c, .cb = cb, .step = c->step_dev.addr};
    qx_need(g, &r.qx_scale_off);
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
    for (r.node = 0; r.node < g->n_nodes; r.node++) {
        const mllm_node *n = &g->nodes[r.node];
        if (n->fused.done_by) continue;
        k_record[n->op](&r, n);
        if (r.err) return r.err;
        stage_end(c, cb);
    }
    if (g->n_out > 0) {
        mllm_status st = record_readback(c, g, cb);
        if (st) return st;
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
        grew = 1;
    }
    const size_t rb = (size_t)g->n_out * g->acts[MLLM_ACT_OUT].nb[1];
    if (rb && (st = buf_ensure(c, &c->readback, rb, 1, &grew))) return st;
    if (grew) drop_cmds(c); /* recorded addresses changed */
    return MLLM_OK;
}

static void prof_collect(vk_ctx *c, const vk_cmd *cmd, int decode, struct timespec t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
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
    c->prof_host_ns[k] += (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
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
    struct timespec t0;
    if (c->prof) clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((st = submit_step(c, hit->cb))) return st;
    if (c->prof && hit->n_stages > 0) prof_collect(c, hit, g->n_tokens == 1, t0);
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
            return transfer(c, a->dev.buf, (VkDeviceSize)(p - a->host), dst, (size_t)n_rows * t->nb[1], 0);
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
    mllm_status st = transfer(c, c->kv_k.buf, 0, kv->k, bytes, 0);
    if (!st) st = transfer(c, c->kv_v.buf, 0, kv->v, bytes, 0);
    if (st) return st;
    mllm_kv_cache_shift(kv, dst, src, n_past, inv_freq);
    st = transfer(c, c->kv_k.buf, 0, kv->k, bytes, 1);
    if (!st) st = transfer(c, c->kv_v.buf, 0, kv->v, bytes, 1);
    return st;
}

static void vk_runner_free(mllm_runner *r) {
    if (!r) return;
    ctx_free(r->impl);
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

/* Instance and physical device of a device number, checked against gpu_only; c owns them. */
static mllm_status open_device(vk_ctx *c, const vk_device *vd) {
    mllm_status st = create_instance(c);
    if (!st) st = pick_device(c, vd->gpu_device);
    if (!st && vd->gpu_only && c->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU) {
        st = mllm_fail(MLLM_ERR_BACKEND, "Vulkan: no GPU, only the CPU implementation %s", c->props.deviceName);
    }
    return st;
}

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
    mllm_status st = open_device(c, vd);
    if (!st) st = create_device(c);
    if (!st) st = upload_weights(c, vd->weights, vd->n_weights);
    if (st) {
        ctx_free(c);
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
    mllm_status st = open_device(probe, vd);
    ctx_free(probe);
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
    .name = "vulkan",
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
