/* Vulkan instance (one per process), device choice and the model's logical device, queue and
 * command submissions; the Khronos validation layer's messages. */
#ifdef MLLM_HAVE_VULKAN
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/vulkan/backend_vulkan.h"
#include "backends/vulkan/vk_context.h"
#include "platform/clock.h"
#include "platform/memory.h"
#include "platform/threads.h"

int mllm_vulkan_built(void) { return 1; }

/* ---- validation messages --------------------------------------------------------------- */

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

int vk_env_flag(const char *name) {
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

/* ---- instance and device ----------------------------------------------------------------- */

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

static mllm_status create_instance_once(VkInstance *inst, VkDebugUtilsMessengerEXT *messenger);

static mllm_status create_instance(vk_dev *d) {
    mllm_mutex_lock(&g_inst_lock);
    mllm_status st = MLLM_OK;
    if (!g_inst) {
        VkInstance inst = VK_NULL_HANDLE;
        VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
        st = create_instance_once(&inst, &messenger);
        if (!st) {
            g_inst = inst;
            g_messenger = messenger;
        } else if (inst) {
            p_vkDestroyInstance(inst, NULL);
        }
    }
    d->inst = g_inst;
    mllm_mutex_unlock(&g_inst_lock);
    return st;
}

static mllm_status create_instance_once(VkInstance *inst, VkDebugUtilsMessengerEXT *messenger) {
    const char *no_loader = vk_load_loader();
    if (no_loader) return mllm_fail(MLLM_ERR_BACKEND, "%s", no_loader);
    const int validation = vk_env_flag("MLLM_VULKAN_VALIDATION");
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
    VkResult r = p_vkCreateInstance(&ci, NULL, inst);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER) {
        return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: no compatible driver found (install a Vulkan ICD, e.g. mesa-vulkan-drivers)");
    }
    if (r != VK_SUCCESS) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: vkCreateInstance failed (VkResult %d)", (int)r);
    vk_load_instance_funcs(*inst);
    if (use_layer && p_vkCreateDebugUtilsMessengerEXT) {
        VkDebugUtilsMessengerCreateInfoEXT mi = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
            .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT,
            .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
            .pfnUserCallback = debug_cb};
        if (p_vkCreateDebugUtilsMessengerEXT(*inst, &mi, NULL, messenger) == VK_SUCCESS) {
            __atomic_store_n(&g_val_enabled, 1, __ATOMIC_SEQ_CST);
        }
    }
    return MLLM_OK;
}

static mllm_status pick_device(vk_dev *c, int32_t index) {
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
    c->max_shared = c->props.limits.maxComputeSharedMemorySize;
    if (vk_env_flag("MLLM_VULKAN_VERBOSE")) {
        VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
        VkPhysicalDeviceVulkan11Features f11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES, .pNext = &f12};
        VkPhysicalDeviceFeatures2 f = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f11};
        p_vkGetPhysicalDeviceFeatures2(c->pd, &f);
        fprintf(stderr,
                "mobilellm: Vulkan device %d of %u: %s (%s), API %u.%u; fp16 arithmetic %d, 16-bit storage %d, 8-bit storage %d, "
                "subgroup size %u (ops 0x%x), maxStorageBufferRange %u, maxMemoryAllocationSize %llu, "
                "maxComputeSharedMemorySize %u\n",
                index < 0 ? 0 : index, n, c->props.deviceName, type_name(c->props.deviceType), VK_API_VERSION_MAJOR(c->props.apiVersion),
                VK_API_VERSION_MINOR(c->props.apiVersion), f12.shaderFloat16, f11.storageBuffer16BitAccess,
                f12.storageBuffer8BitAccess, sg.subgroupSize, sg.supportedOperations, c->props.limits.maxStorageBufferRange,
                (unsigned long long)m3.maxMemoryAllocationSize, c->max_shared);
    }
    return MLLM_OK;
}

/* Instance and physical device number index, checked against gpu_only. */
mllm_status vk_open_device(vk_dev *c, int32_t index, int gpu_only) {
    mllm_status st = create_instance(c);
    if (!st) st = pick_device(c, index);
    if (!st && gpu_only && c->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU) {
        st = mllm_fail(MLLM_ERR_BACKEND, "Vulkan: no GPU, only the CPU implementation %s", c->props.deviceName);
    }
    return st;
}

mllm_status vk_create_device(vk_dev *c) {
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
    if (portable && vk_env_flag("MLLM_VULKAN_VERBOSE")) {
        VkPhysicalDevicePortabilitySubsetFeaturesKHR ps = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PORTABILITY_SUBSET_FEATURES_KHR};
        VkPhysicalDeviceFeatures2 pf = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &ps};
        p_vkGetPhysicalDeviceFeatures2(c->pd, &pf);
        fprintf(stderr, "mobilellm: Vulkan portability subset (events %d, image view reinterpretation %d)\n", ps.events,
                ps.imageViewFormatReinterpretation);
    }
    /* Integer dot products (core in Vulkan 1.3, an extension before): one instruction per 4 byte
     * products in the q8_0/q4_0 kernels, where the driver has them and MLLM_VULKAN_DOT4 is not 0; not
     * on a portability implementation (MoltenVK), whose SPIRV-Cross translation to Metal does not
     * take those kernels (ci/check-msl.sh). */
    const char *extensions[2];
    uint32_t n_ext = 0;
    if (portable) extensions[n_ext++] = subset;
    VkPhysicalDeviceShaderIntegerDotProductFeatures dotf = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES};
    const char *dot_ext = VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME;
    const char *dot_env = getenv("MLLM_VULKAN_DOT4");
    if (!portable && !(dot_env && dot_env[0] == '0') && has_extension(c->pd, dot_ext)) {
        VkPhysicalDeviceFeatures2 q = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &dotf};
        p_vkGetPhysicalDeviceFeatures2(c->pd, &q);
        if (dotf.shaderIntegerDotProduct) {
            c->dot4 = 1;
            extensions[n_ext++] = dot_ext;
            f12.pNext = &dotf;
        }
    }
    VkDeviceCreateInfo di = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &f, .queueCreateInfoCount = 1,
                             .pQueueCreateInfos = &qi, .enabledExtensionCount = n_ext,
                             .ppEnabledExtensionNames = extensions};
    VKCHECK(p_vkCreateDevice(c->pd, &di, NULL, &c->dev), "vkCreateDevice");
    if (vk_env_flag("MLLM_VULKAN_VERBOSE")) fprintf(stderr, "mobilellm: Vulkan integer dot products %s\n", c->dot4 ? "on" : "off");
    if (!vk_load_device_funcs(c->dev)) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: the driver lacks a core 1.2 device function");
    p_vkGetDeviceQueue(c->dev, c->qfam, 0, &c->queue);
    VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                  .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, .queueFamilyIndex = c->qfam};
    VKCHECK(p_vkCreateCommandPool(c->dev, &pi, NULL, &c->xfer_pool), "vkCreateCommandPool");
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VKCHECK(p_vkCreateFence(c->dev, &fi, NULL, &c->xfer_fence), "vkCreateFence");
    const char *xf = getenv("MLLM_VULKAN_XF");
    c->xf_mode = xf && (xf[0] == '0' || xf[0] == '1') ? xf[0] - '0' : 2;
    const char *grp = getenv("MLLM_VULKAN_GROUPS");
    c->mv_groups = grp && atoi(grp) >= 16 && atoi(grp) <= 65535 ? atoi(grp) : MV_FUSED_GROUPS;
    const char *spin = getenv("MLLM_VULKAN_SPIN");
    c->spin = !(spin && spin[0] == '0');
    const char *batch = getenv("MLLM_VULKAN_BATCH_ROWS");
    c->batch_rows = batch && atoi(batch) >= 0 && atoi(batch) <= 4096 ? atoi(batch) : MV_BATCH_FUSED_ROWS;
    const char *bnc = getenv("MLLM_VULKAN_BATCH_NC");
    c->batch_nc = bnc && (atoi(bnc) == 2 || atoi(bnc) == 4 || atoi(bnc) == 8) ? atoi(bnc) : 0;
    mllm_status st = vk_pipelines_create(c);
    if (!st) st = vk_buf_create(c, 16u << 20, 1, MLLM_MEM_COMPUTE, &c->staging);
    return st;
}

void vk_dev_close(vk_dev *c) {
    if (!c->dev) return;
    p_vkDeviceWaitIdle(c->dev);
    for (int i = 0; i < c->n_wbufs; i++) vk_buf_free(c, &c->wbufs[i]);
    vk_buf_free(c, &c->staging);
    vk_pipelines_free(c);
    if (c->xfer_fence) p_vkDestroyFence(c->dev, c->xfer_fence, NULL);
    if (c->xfer_pool) p_vkDestroyCommandPool(c->dev, c->xfer_pool, NULL);
    p_vkDestroyDevice(c->dev, NULL);
    c->dev = VK_NULL_HANDLE;
    /* the instance (and its messenger) is the process-wide g_inst */
}

/* ---- submissions -------------------------------------------------------------------------- */

mllm_status vk_submit_wait_locked(vk_dev *d, VkCommandBuffer cb, VkFence fence) {
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cb};
    VKCHECK(p_vkResetFences(d->dev, 1, &fence), "vkResetFences");
    VKCHECK(p_vkQueueSubmit(d->queue, 1, &si, fence), "vkQueueSubmit");
    VKCHECK(p_vkWaitForFences(d->dev, 1, &fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
    return MLLM_OK;
}

/* Unless MLLM_VULKAN_SPIN=0, polls the fence for up to 20 ms before blocking: a blocked thread
 * wakes tens of microseconds after the GPU finishes, which is several percent of a decode step. */
mllm_status vk_submit_step(vk_dev *d, VkCommandBuffer cb, VkFence fence) {
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cb};
    VKCHECK(p_vkResetFences(d->dev, 1, &fence), "vkResetFences");
    mllm_mutex_lock(&d->lock); /* the queue is shared with transfers on other threads */
    VkResult sr = p_vkQueueSubmit(d->queue, 1, &si, fence);
    mllm_mutex_unlock(&d->lock);
    VKCHECK(sr, "vkQueueSubmit");
    const int64_t t0 = mllm_now_ns();
    while (d->spin) {
        VkResult r = p_vkGetFenceStatus(d->dev, fence);
        if (r == VK_SUCCESS) return MLLM_OK;
        if (r != VK_NOT_READY) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: vkGetFenceStatus failed (VkResult %d)", (int)r);
        if (mllm_now_ns() - t0 > 20000000) break;
    }
    VKCHECK(p_vkWaitForFences(d->dev, 1, &fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
    return MLLM_OK;
}

mllm_status vk_begin_once(vk_dev *d, VkCommandPool pool, VkCommandBuffer *cb) {
    VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, .commandPool = pool,
                                      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY, .commandBufferCount = 1};
    VKCHECK(p_vkAllocateCommandBuffers(d->dev, &ai, cb), "vkAllocateCommandBuffers");
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    VKCHECK(p_vkBeginCommandBuffer(*cb, &bi), "vkBeginCommandBuffer");
    return MLLM_OK;
}

#endif
