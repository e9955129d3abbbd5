/* Device memory: buffers (device-local or host-visible, addressed by buffer device addresses,
 * counted in the owning device's memory by kind), copies between host and device through the
 * staging buffer and between device buffers, and the memory barriers. */
#ifdef MLLM_HAVE_VULKAN
#include <string.h>

#include "backends/vulkan/vk_context.h"

static int find_mem_type(const vk_dev *c, uint32_t bits, VkMemoryPropertyFlags want) {
    for (uint32_t i = 0; i < c->mem.memoryTypeCount; i++) {
        if ((bits & (1u << i)) && (c->mem.memoryTypes[i].propertyFlags & want) == want) return (int)i;
    }
    return -1;
}

void vk_buf_free(vk_dev *c, vk_buf *b) {
    if (b->buf) p_vkDestroyBuffer(c->dev, b->buf, NULL);
    if (b->mem) p_vkFreeMemory(c->dev, b->mem, NULL); /* unmaps */
    if (b->counted) mllm_device_count(c->owner, b->kind, -(long long)b->counted);
    memset(b, 0, sizeof *b);
}

/* host: host-visible coherent (cached when available: read back by the CPU). */
mllm_status vk_buf_create(vk_dev *c, VkDeviceSize size, int host, mllm_mem_kind kind, vk_buf *b) {
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
        vk_buf_free(c, b);
        return mllm_fail(MLLM_ERR_BACKEND, "Vulkan: no suitable memory type for a %s buffer", host ? "host-visible" : "device");
    }
    VkMemoryAllocateFlagsInfo fi = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
                                    .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT};
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .pNext = &fi, .allocationSize = req.size,
                               .memoryTypeIndex = (uint32_t)mt};
    VkResult r = p_vkAllocateMemory(c->dev, &ai, NULL, &b->mem);
    if (r != VK_SUCCESS) {
        vk_buf_free(c, b);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "Vulkan: cannot allocate %llu bytes of %s memory (VkResult %d)",
                         (unsigned long long)size, host ? "host-visible" : "device", (int)r);
    }
    b->kind = kind;
    b->counted = req.size;
    mllm_device_count(c->owner, kind, (long long)req.size);
    VKCHECK(p_vkBindBufferMemory(c->dev, b->buf, b->mem, 0), "vkBindBufferMemory");
    if (host) VKCHECK(p_vkMapMemory(c->dev, b->mem, 0, VK_WHOLE_SIZE, 0, &b->map), "vkMapMemory");
    VkBufferDeviceAddressInfo da = {.sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO, .buffer = b->buf};
    b->addr = p_vkGetBufferDeviceAddress(c->dev, &da);
    b->size = size - 256;
    return MLLM_OK;
}

/* Grows a buffer to at least `size` bytes (contents lost). *grew is set when it changed. */
mllm_status vk_buf_ensure(vk_dev *c, vk_buf *b, VkDeviceSize size, int host, mllm_mem_kind kind, int *grew) {
    if (b->buf && b->size >= size) return MLLM_OK;
    vk_buf_free(c, b);
    *grew = 1;
    return vk_buf_create(c, size, host, kind, b);
}

/* Everything written before (shaders, transfers, host) is visible to everything after. */
void vk_full_barrier(VkCommandBuffer cb) {
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_HOST_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                           VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_HOST_READ_BIT};
    p_vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
                           VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT, 0, 1,
                           &mb, 0, NULL, 0, NULL);
}

/* Between two compute stages: the first one's writes are visible to the second. */
void vk_barrier(VkCommandBuffer cb) {
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT};
    p_vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb, 0, NULL, 0,
                           NULL);
}

/* One command buffer of the transfer pool around record(cb): submitted and waited for. Caller
 * holds c->lock. */
static mllm_status run_once(vk_dev *c, void (*record)(VkCommandBuffer cb, const void *ctx), const void *ctx) {
    VkCommandBuffer cb;
    mllm_status st = vk_begin_once(c, c->xfer_pool, &cb);
    if (st) return st;
    vk_full_barrier(cb);
    record(cb, ctx);
    vk_full_barrier(cb);
    VkResult r = p_vkEndCommandBuffer(cb);
    st = r == VK_SUCCESS ? vk_submit_wait_locked(c, cb, c->xfer_fence)
                         : mllm_fail(MLLM_ERR_BACKEND, "Vulkan: vkEndCommandBuffer failed (%d)", (int)r);
    p_vkFreeCommandBuffers(c->dev, c->xfer_pool, 1, &cb);
    return st;
}

typedef struct copy_op {
    VkBuffer src, dst;
    VkBufferCopy region;
} copy_op;

static void record_copy(VkCommandBuffer cb, const void *ctx) {
    const copy_op *op = ctx;
    p_vkCmdCopyBuffer(cb, op->src, op->dst, 1, &op->region);
}

mllm_status vk_transfer(vk_dev *c, VkBuffer dev, VkDeviceSize dev_off, void *host, size_t bytes, int to_dev) {
    mllm_status st = MLLM_OK;
    mllm_mutex_lock(&c->lock);
    for (size_t done = 0; done < bytes && !st; ) {
        size_t n = bytes - done < c->staging.size ? bytes - done : (size_t)c->staging.size;
        if (to_dev) memcpy(c->staging.map, (char *)host + done, n);
        copy_op op = {.src = to_dev ? c->staging.buf : dev, .dst = to_dev ? dev : c->staging.buf,
                      .region = {.srcOffset = to_dev ? 0 : dev_off + done, .dstOffset = to_dev ? dev_off + done : 0, .size = n}};
        st = run_once(c, record_copy, &op);
        if (!st && !to_dev) memcpy((char *)host + done, c->staging.map, n);
        done += n;
    }
    mllm_mutex_unlock(&c->lock);
    return st;
}

mllm_status vk_copy(vk_dev *c, VkBuffer dst, VkDeviceSize dst_off, VkBuffer src, VkDeviceSize src_off, VkDeviceSize bytes) {
    copy_op op = {.src = src, .dst = dst, .region = {.srcOffset = src_off, .dstOffset = dst_off, .size = bytes}};
    mllm_mutex_lock(&c->lock);
    mllm_status st = bytes ? run_once(c, record_copy, &op) : MLLM_OK;
    mllm_mutex_unlock(&c->lock);
    return st;
}

#endif
