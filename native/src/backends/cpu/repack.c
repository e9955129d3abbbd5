/* Load-time repacking of matmul weights into panels (cpu/panel.h) for the CPU backend: one
 * anonymous allocation (huge pages where the kernel gives them) holds every packed matrix; the
 * file's pages of those matrices are released. Only types and shapes whose panel kernel exists at
 * the model's kernel level are packed; MOBILELLM_REPACK=0 turns it off (for comparisons). */
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/backend_cpu.h"
#include "core/errors.h"
#include "cpu/panel.h"
#include "platform/memory.h"

#define HUGE_PAGE ((size_t)2 << 20)

static int packable(const mllm_kernels *K, const mllm_weight *w) {
    const mllm_tensor *t = w->tensor;
    const int slot = mllm_kernel_slot(t->type);
    if (w->use != MLLM_WEIGHT_MATMUL) return 0;
    return t->layout == MLLM_LAYOUT_ROWS && slot >= 0 && K->panel[slot] &&
           mllm_panel_supported(t->type, t->ne[0], t->ne[1]) && t->ne[2] == 1 && t->ne[3] == 1;
}

static size_t tensor_bytes(const mllm_tensor *t) { return t->nb[1] * (size_t)t->ne[1]; }

mllm_status mllm_cpu_repack(const mllm_kernels *K, const mllm_model_desc *m, void **packed) {
    *packed = NULL;
    const char *env = getenv("MOBILELLM_REPACK");
    if (env && strcmp(env, "0") == 0) return MLLM_OK;
    size_t total = 0;
    for (int i = 0; i < m->n_weights; i++)
        if (packable(K, &m->weights[i])) total += (tensor_bytes(m->weights[i].tensor) + 63) & ~(size_t)63;
    if (total == 0) return MLLM_OK;
    const size_t cap = (total + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uint8_t *buf = mllm_aligned_alloc(HUGE_PAGE, cap);
    if (!buf) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes for the packed weights", total);
    mllm_advise_huge_pages(buf, cap); /* fewer TLB misses while streaming weights */
    size_t off = 0;
    for (int i = 0; i < m->n_weights; i++) {
        mllm_tensor *t = m->weights[i].tensor;
        if (!packable(K, &m->weights[i])) continue;
        void *src = t->data;
        mllm_panel_pack(t->type, src, t->ne[0], t->ne[1], buf + off);
        if (m->in_file_mapping) mllm_discard_file_pages(src, tensor_bytes(t));
        /* tensors sharing the matrix (a tied embedding) read the packed rows too */
        for (int j = 0; j < m->n_weights; j++) {
            mllm_tensor *u = m->weights[j].tensor;
            if (u != t && u->data == src) {
                u->data = buf + off;
                u->layout = MLLM_LAYOUT_PANEL16;
            }
        }
        t->data = buf + off;
        t->layout = MLLM_LAYOUT_PANEL16;
        off += (tensor_bytes(t) + 63) & ~(size_t)63;
    }
    *packed = buf;
    return MLLM_OK;
}
