/* The Vulkan loader, opened at run time (libvulkan.so.1; vulkan-1.dll on Windows; on macOS the
 * Vulkan loader or MoltenVK itself), so that the library loads on machines without Vulkan, and the
 * entry points the backend uses, as p_<name> pointers. */
#ifndef MLLM_VK_LOADER_H
#define MLLM_VK_LOADER_H

#define VK_NO_PROTOTYPES
#define VK_ENABLE_BETA_EXTENSIONS /* VK_KHR_portability_subset (MoltenVK) is still a provisional extension */
#include <vulkan/vulkan.h>

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

#define VK_DECLARE(f) extern PFN_##f p_##f;
VK_GLOBAL_FUNCS(VK_DECLARE)
VK_INSTANCE_FUNCS(VK_DECLARE)
VK_DEVICE_FUNCS(VK_DECLARE)
VK_DECLARE(vkCreateDebugUtilsMessengerEXT)
VK_DECLARE(vkDestroyDebugUtilsMessengerEXT)
#undef VK_DECLARE

/* Opens the loader once per process and loads the global functions; NULL on success, else why not. */
const char *vk_load_loader(void);
/* Instance and device functions are the same for every instance of one loader (the loader's
 * trampolines), so they are loaded once per process. vk_load_device_funcs: 0 if one is missing. */
void vk_load_instance_funcs(VkInstance inst);
int vk_load_device_funcs(VkDevice dev);

#endif
