/* The compute pipelines of vk_pipelines.h: one pipeline layout (push constants only, see
 * shaders/push_constants.h) and a pipeline per entry from its embedded SPIR-V. */
#ifdef MLLM_HAVE_VULKAN
#include "backends/vulkan/vk_context.h"

static const char *const k_pipe_names[VK_PIPE_COUNT] = {
#define VK_PIPE_NAME(name, source, defines) #name,
    MLLM_VK_PIPELINES(VK_PIPE_NAME)
#undef VK_PIPE_NAME
};

const char *vk_pipe_name(vk_pipe p) { return k_pipe_names[p]; }

mllm_status vk_pipelines_create(vk_dev *c) {
    VkPushConstantRange pr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = VK_PUSH_BYTES};
    VkPipelineLayoutCreateInfo li = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO, .pushConstantRangeCount = 1,
                                     .pPushConstantRanges = &pr};
    VKCHECK(p_vkCreatePipelineLayout(c->dev, &li, NULL, &c->layout), "vkCreatePipelineLayout");
    for (int p = 0; p < VK_PIPE_COUNT; p++) {
        const mllm_vk_spirv *sh = &mllm_vk_spirv_of[p];
        if (!sh->size) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: pipeline %s has no embedded SPIR-V", k_pipe_names[p]);
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
    return MLLM_OK;
}

void vk_pipelines_free(vk_dev *c) {
    for (int p = 0; p < VK_PIPE_COUNT; p++) {
        if (c->pipes[p]) p_vkDestroyPipeline(c->dev, c->pipes[p], NULL);
    }
    if (c->layout) p_vkDestroyPipelineLayout(c->dev, c->layout, NULL);
}

#endif
