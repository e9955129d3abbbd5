/* MLLM_VULKAN_PROFILE=1: a timestamp after every barrier-separated stage of a recorded graph, the
 * GPU time per stage kind summed over all runs, printed when the runner is freed. */
#ifdef MLLM_HAVE_VULKAN
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/vulkan/vk_context.h"

mllm_status vk_profile_init(vk_run *c) {
    if (!vk_env_flag("MLLM_VULKAN_PROFILE")) return MLLM_OK;
    uint32_t nq = 0;
    VkQueueFamilyProperties qp[16];
    p_vkGetPhysicalDeviceQueueFamilyProperties(c->d->pd, &nq, NULL);
    if (nq > 16) nq = 16;
    p_vkGetPhysicalDeviceQueueFamilyProperties(c->d->pd, &nq, qp);
    if (c->d->qfam >= nq || qp[c->d->qfam].timestampValidBits == 0) {
        fprintf(stderr, "mobilellm: MLLM_VULKAN_PROFILE ignored: the queue has no timestamps\n");
        return MLLM_OK;
    }
    VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO, .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                .queryCount = PROF_MAX_TS};
    VKCHECK(p_vkCreateQueryPool(c->d->dev, &qi, NULL, &c->prof.timestamps), "vkCreateQueryPool");
    c->prof.on = 1;
    return MLLM_OK;
}

/* The first timestamp of a command buffer being recorded with stage rows. */
void vk_profile_begin(vk_run *c, VkCommandBuffer cb) {
    if (!c->prof.on || !c->prof.rec_rows) return;
    p_vkCmdResetQueryPool(cb, c->prof.timestamps, 0, PROF_MAX_TS);
    p_vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, c->prof.timestamps, 0);
}

static int prof_row(vk_run *c, const char *name) {
    for (int i = 0; i < c->prof.n_rows; i++) {
        if (strcmp(c->prof.rows[i].name, name) == 0) return i;
    }
    if (c->prof.n_rows == PROF_ROWS) return PROF_ROWS - 1; /* the last row collects the overflow */
    snprintf(c->prof.rows[c->prof.n_rows].name, sizeof c->prof.rows[0].name, "%s", name);
    return c->prof.n_rows++;
}

/* Ends a stage: a timestamp when profiling, then the barrier. */
void vk_stage_end(vk_run *c, VkCommandBuffer cb) {
    if (c->prof.on && c->prof.rec_rows && c->prof.rec_n + 2 < PROF_MAX_TS) {
        p_vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, c->prof.timestamps, (uint32_t)(c->prof.rec_n + 1));
        char name[40];
        snprintf(name, sizeof name, "%s%s", c->prof.rec_decode ? "d:" : "p:", c->prof.label);
        c->prof.rec_rows[c->prof.rec_n++] = (uint8_t)prof_row(c, name);
    }
    vk_barrier(cb);
}

/* Adds a finished run's stage times (and the host's submit-to-done time) to the sums. */
void vk_profile_collect(vk_run *c, const vk_cmd *cmd, int decode, uint64_t host_ns) {
    uint64_t ts[PROF_MAX_TS];
    const uint32_t n = (uint32_t)cmd->n_stages + 1;
    if (p_vkGetQueryPoolResults(c->d->dev, c->prof.timestamps, 0, n, sizeof ts, ts, sizeof ts[0], VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) !=
        VK_SUCCESS) return;
    const double period = c->d->props.limits.timestampPeriod;
    for (int s = 0; s < cmd->n_stages; s++) {
        vk_prof_row *r = &c->prof.rows[cmd->stage_row[s]];
        r->ns += (double)(ts[s + 1] - ts[s]) * period;
        r->n++;
    }
    const int k = decode ? 0 : 1;
    c->prof.gpu_ns[k] += (double)(ts[n - 1] - ts[0]) * period;
    c->prof.host_ns[k] += (double)host_ns;
    c->prof.graphs[k]++;
}

void vk_profile_print(const vk_run *c) {
    for (int k = 0; k < 2; k++) {
        if (!c->prof.graphs[k]) continue;
        const double g = (double)c->prof.graphs[k];
        fprintf(stderr, "mobilellm: Vulkan profile, %s graphs: %llu; per graph: GPU %.1f us (first to last timestamp), host submit+wait %.1f us\n",
                k ? "prompt" : "decode", (unsigned long long)c->prof.graphs[k], c->prof.gpu_ns[k] / g / 1e3, c->prof.host_ns[k] / g / 1e3);
        for (int i = 0; i < c->prof.n_rows; i++) {
            const vk_prof_row *r = &c->prof.rows[i];
            if (r->name[0] != (k ? 'p' : 'd') || !r->n) continue;
            fprintf(stderr, "mobilellm:   %-36s %6.1f us per graph  %5.1f stages per graph  %6.2f us per stage\n", r->name + 2,
                    r->ns / g / 1e3, (double)r->n / g, r->ns / (double)r->n / 1e3);
        }
    }
}

#endif
