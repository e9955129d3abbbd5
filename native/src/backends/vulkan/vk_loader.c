/* The Vulkan loader: dlopen, then the entry points through vkGetInstanceProcAddr and
 * vkGetDeviceProcAddr. */
#ifdef MLLM_HAVE_VULKAN
#include "backends/vulkan/vk_loader.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#define VK_DEFINE(f) PFN_##f p_##f;
VK_GLOBAL_FUNCS(VK_DEFINE)
VK_INSTANCE_FUNCS(VK_DEFINE)
VK_DEVICE_FUNCS(VK_DEFINE)
VK_DEFINE(vkCreateDebugUtilsMessengerEXT)
VK_DEFINE(vkDestroyDebugUtilsMessengerEXT)
#undef VK_DEFINE
static PFN_vkGetInstanceProcAddr p_vkGetInstanceProcAddr;

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

/* A mutex guards the (idempotent) stores of concurrent first uses. */
void vk_load_instance_funcs(VkInstance inst) {
    pthread_mutex_lock(&g_fn_lock);
#define LOAD(f) p_##f = (PFN_##f)p_vkGetInstanceProcAddr(inst, #f);
    VK_INSTANCE_FUNCS(LOAD)
    LOAD(vkCreateDebugUtilsMessengerEXT)
    LOAD(vkDestroyDebugUtilsMessengerEXT)
#undef LOAD
    pthread_mutex_unlock(&g_fn_lock);
}

int vk_load_device_funcs(VkDevice dev) {
    pthread_mutex_lock(&g_fn_lock);
    int ok = 1;
#define LOAD(f) ok &= (p_##f = (PFN_##f)p_vkGetDeviceProcAddr(dev, #f)) != NULL;
    VK_DEVICE_FUNCS(LOAD)
#undef LOAD
    pthread_mutex_unlock(&g_fn_lock);
    return ok;
}

const char *vk_load_loader(void) {
    pthread_once(&g_load_once, load_loader);
    return g_load_err[0] ? g_load_err : NULL;
}

#endif
