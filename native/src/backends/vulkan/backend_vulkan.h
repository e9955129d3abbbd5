/* The Vulkan backend: the whole forward pass on a GPU (or any Vulkan 1.2 device with buffer device
 * addresses). Built only with Vulkan headers and glslc at hand; the loader is opened at run time. */
#ifndef MLLM_BACKEND_VULKAN_H
#define MLLM_BACKEND_VULKAN_H

#include "graph/backend.h"

/* A device for usable Vulkan device number gpu_device (-1: the first of discrete, integrated,
 * virtual, CPU devices); with gpu_only a CPU implementation such as lavapipe does not count. The
 * device itself is looked for when the model is handed over (take_model), after its weights are
 * checked. Fails with MLLM_ERR_BACKEND when the library was built without Vulkan. */
mllm_status mllm_vulkan_device_create(int32_t gpu_device, int gpu_only, mllm_device **out);
/* 1 when the library was built with the Vulkan backend. */
int mllm_vulkan_built(void);
/* Khronos validation layer state (MLLM_VULKAN_VALIDATION=1): errors reported so far. */
int mllm_vk_validation_errors(void);
int mllm_vk_validation_enabled(void);

#endif
