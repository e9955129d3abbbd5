/* The compute pipelines of vk_pipelines.h: one pipeline layout (push constants, see
 * shaders/push_constants.h, and the descriptor set of attention_dec's counters) and a pipeline per
 * entry from its embedded SPIR-V. */
#ifdef MLLM_HAVE_VULKAN
#include <stdio.h>
#include <string.h>

#include "backends/vulkan/vk_context.h"

static const char *const k_pipe_names[VK_PIPE_COUNT] = {
#define VK_PIPE_NAME(name, source, defines) #name,
    MLLM_VK_PIPELINES(VK_PIPE_NAME)
#undef VK_PIPE_NAME
};

const char *vk_pipe_name(vk_pipe p) { return k_pipe_names[p]; }

/* Pipelines compiled with -DDOT4=1 need the integer dot product feature (vk_dev.dot4). */
static const char *const k_pipe_defines[VK_PIPE_COUNT] = {
#define VK_PIPE_DEFINES(name, source, defines) defines,
    MLLM_VK_PIPELINES(VK_PIPE_DEFINES)
#undef VK_PIPE_DEFINES
};

static int needs_dot4(int p) { return strstr(k_pipe_defines[p], "-DDOT4=1") != NULL; }

/* The layout of the one descriptor set: attention_dec's counters, a storage buffer at binding 0. */
static mllm_status counter_set_layout_create(vk_dev *d) {
    VkDescriptorSetLayoutBinding ctr_binding = {.binding = 0, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                                .descriptorCount = 1, .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo sli = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO, .bindingCount = 1,
                                           .pBindings = &ctr_binding};
    VKCHECK(p_vkCreateDescriptorSetLayout(d->dev, &sli, NULL, &d->set_layout), "vkCreateDescriptorSetLayout");
    return MLLM_OK;
}

mllm_status vk_counter_set_create(vk_run *r) {
    const vk_dev *d = r->d;
    VkDescriptorPoolSize ps = {.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = 1};
    VkDescriptorPoolCreateInfo dpi = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, .maxSets = 1, .poolSizeCount = 1,
                                      .pPoolSizes = &ps};
    VKCHECK(p_vkCreateDescriptorPool(d->dev, &dpi, NULL, &r->desc_pool), "vkCreateDescriptorPool");
    VkDescriptorSetAllocateInfo dai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO, .descriptorPool = r->desc_pool,
                                       .descriptorSetCount = 1, .pSetLayouts = &d->set_layout};
    VKCHECK(p_vkAllocateDescriptorSets(d->dev, &dai, &r->ctr_set), "vkAllocateDescriptorSets");
    return MLLM_OK;
}

void vk_bind_counters(vk_run *r, VkBuffer counters) {
    VkDescriptorBufferInfo bi = {.buffer = counters, .offset = 0, .range = VK_WHOLE_SIZE};
    VkWriteDescriptorSet w = {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = r->ctr_set, .dstBinding = 0,
                              .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .pBufferInfo = &bi};
    p_vkUpdateDescriptorSets(r->d->dev, 1, &w, 0, NULL);
}

/* Pipeline p from its embedded SPIR-V into c->pipes[p]. */
static VkResult pipeline_create(vk_dev *c, int p) {
    const mllm_vk_spirv *sh = &mllm_vk_spirv_of[p];
    VkShaderModuleCreateInfo mi = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = sh->size, .pCode = sh->code};
    VkShaderModule mod;
    VkResult r = p_vkCreateShaderModule(c->dev, &mi, NULL, &mod);
    if (r != VK_SUCCESS) return r;
    VkComputePipelineCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = mod, .pName = "main"},
        .layout = c->layout};
    r = p_vkCreateComputePipelines(c->dev, VK_NULL_HANDLE, 1, &ci, NULL, &c->pipes[p]);
    p_vkDestroyShaderModule(c->dev, mod, NULL);
    return r;
}

mllm_status vk_pipelines_create(vk_dev *c) {
    mllm_status st = counter_set_layout_create(c);
    if (st) return st;
    VkPushConstantRange pr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = VK_PUSH_BYTES};
    VkPipelineLayoutCreateInfo li = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO, .setLayoutCount = 1,
                                     .pSetLayouts = &c->set_layout, .pushConstantRangeCount = 1,
                                     .pPushConstantRanges = &pr};
    VKCHECK(p_vkCreatePipelineLayout(c->dev, &li, NULL, &c->layout), "vkCreatePipelineLayout");
    for (int p = 0; p < VK_PIPE_COUNT; p++) {
        if (needs_dot4(p)) continue;
        if (!mllm_vk_spirv_of[p].size) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: pipeline %s has no embedded SPIR-V", k_pipe_names[p]);
        const VkResult r = pipeline_create(c, p);
        if (r != VK_SUCCESS) return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: pipeline %s failed (VkResult %d)", k_pipe_names[p], (int)r);
    }
    /* a driver that lists the feature but cannot build these kernels gets the byte-by-byte ones */
    for (int p = 0; c->dot4 && p < VK_PIPE_COUNT; p++) {
        if (!needs_dot4(p)) continue;
        const VkResult r = mllm_vk_spirv_of[p].size ? pipeline_create(c, p) : VK_ERROR_INITIALIZATION_FAILED;
        if (r == VK_SUCCESS) continue;
        if (vk_env_flag("MLLM_VULKAN_VERBOSE")) {
            fprintf(stderr, "mobilellm: Vulkan pipeline %s failed (VkResult %d): integer dot products off\n", k_pipe_names[p], (int)r);
        }
        for (int q = 0; q < VK_PIPE_COUNT; q++) {
            if (!needs_dot4(q) || !c->pipes[q]) continue;
            p_vkDestroyPipeline(c->dev, c->pipes[q], NULL);
            c->pipes[q] = VK_NULL_HANDLE;
        }
        c->dot4 = 0;
    }
    return MLLM_OK;
}

void vk_pipelines_free(vk_dev *c) {
    for (int p = 0; p < VK_PIPE_COUNT; p++) {
        if (c->pipes[p]) p_vkDestroyPipeline(c->dev, c->pipes[p], NULL);
    }
    if (c->layout) p_vkDestroyPipelineLayout(c->dev, c->layout, NULL);
    if (c->set_layout) p_vkDestroyDescriptorSetLayout(c->dev, c->set_layout, NULL);
}

#endif
