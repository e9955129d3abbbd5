/* The Vulkan loader: opened as a shared library (platform/dynlib.h), then the entry points through vkGetInstanceProcAddr and
 * vkGetDeviceProcAddr. */
#ifdef MLLM_HAVE_VULKAN
#include "backends/vulkan/vk_loader.h"

#include <stdio.h>

#include "platform/dynlib.h"
#include "platform/threads.h"

#define VK_DEFINE(f) PFN_##f p_##f;
VK_GLOBAL_FUNCS(VK_DEFINE)
VK_INSTANCE_FUNCS(VK_DEFINE)
VK_DEVICE_FUNCS(VK_DEFINE)
VK_DEFINE(vkCreateDebugUtilsMessengerEXT)
VK_DEFINE(vkDestroyDebugUtilsMessengerEXT)
#undef VK_DEFINE
static PFN_vkGetInstanceProcAddr p_vkGetInstanceProcAddr;

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

/* A mutex guards the (idempotent) stores of concurrent first uses. */
void vk_load_instance_funcs(VkInstance inst) {
    mllm_mutex_lock(&g_fn_lock);
#define LOAD(f) p_##f = (PFN_##f)p_vkGetInstanceProcAddr(inst, #f);
    VK_INSTANCE_FUNCS(LOAD)
    LOAD(vkCreateDebugUtilsMessengerEXT)
    LOAD(vkDestroyDebugUtilsMessengerEXT)
#undef LOAD
    mllm_mutex_unlock(&g_fn_lock);
}

int vk_load_device_funcs(VkDevice dev) {
    mllm_mutex_lock(&g_fn_lock);
    int ok = 1;
#define LOAD(f) ok &= (p_##f = (PFN_##f)p_vkGetDeviceProcAddr(dev, #f)) != NULL;
    VK_DEVICE_FUNCS(LOAD)
#undef LOAD
    mllm_mutex_unlock(&g_fn_lock);
    return ok;
}

const char *vk_load_loader(void) {
    mllm_once_run(&g_load_once, load_loader);
    return g_load_err[0] ? g_load_err : NULL;
}

#endif
