/* Load-time repacking of matmul weights into panels (cpu/panel.h) for the CPU backend: one
 * anonymous allocation (huge pages where the kernel gives them) holds every packed matrix; the
 * file's pages of those matrices are released. Only types and shapes whose panel kernel exists at
 * the current kernel level are packed; MOBILELLM_REPACK=0 turns it off (for comparisons). */
#include <stdlib.h>
#include <string.h>

#include "api/errors.h"
#include "cpu/cpu_features.h"
#include "cpu/kernels.h"
#include "cpu/panel.h"
#include "gguf/gguf.h"
#include "model/model.h"
#include "platform/memory.h"

#define HUGE_PAGE ((size_t)2 << 20)

static int packable(const mllm_tensor *t) {
    const mllm_kernels *K = mllm_kernels_for(mllm_cpu_current());
    const int slot = mllm_kernel_slot(t->type);
    return t->layout == MLLM_LAYOUT_ROWS && slot >= 0 && K->panel[slot] &&
           mllm_panel_supported(t->type, t->ne[0], t->ne[1]) && t->ne[2] == 1 && t->ne[3] == 1;
}

static size_t tensor_bytes(const mllm_tensor *t) { return t->nb[1] * (size_t)t->ne[1]; }

/* The model's matmul weights, each once (a tied output head is the embedding matrix). */
static int collect(mllm_model *m, mllm_tensor **out) {
    int n = 0;
    for (int32_t b = 0; b < m->hp.n_block; b++) {
        mllm_block *bl = &m->blocks[b];
        mllm_tensor *w[] = {&bl->wq, &bl->wk, &bl->wv, &bl->wo, &bl->gate, &bl->up, &bl->down};
        for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) out[n++] = w[i];
    }
    out[n++] = &m->output;
    return n;
}

mllm_status mllm_model_pack_weights(mllm_model *m) {
    const char *env = getenv("MOBILELLM_REPACK");
    if (env && strcmp(env, "0") == 0) return MLLM_OK;
    mllm_tensor **ts = malloc(sizeof *ts * ((size_t)m->hp.n_block * 7 + 1));
    if (!ts) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory packing weights");
    const int n = collect(m, ts);
    size_t total = 0;
    for (int i = 0; i < n; i++)
        if (packable(ts[i])) total += (tensor_bytes(ts[i]) + 63) & ~(size_t)63;
    if (total == 0) {
        free(ts);
        return MLLM_OK;
    }
    const size_t cap = (total + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uint8_t *buf = mllm_aligned_alloc(HUGE_PAGE, cap);
    if (!buf) {
        free(ts);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes for the packed weights", total);
    }
    mllm_advise_huge_pages(buf, cap); /* fewer TLB misses while streaming weights */
    const int tied = m->tied;
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        mllm_tensor *t = ts[i];
        if (!packable(t)) continue;
        const void *src = t->data;
        mllm_panel_pack(t->type, src, t->ne[0], t->ne[1], buf + off);
        if (m->file->mapped) mllm_discard_file_pages(src, tensor_bytes(t));
        t->data = buf + off;
        t->layout = MLLM_LAYOUT_PANEL16;
        if (tied && t == &m->output) m->tok_embd = *t; /* the embedding lookup reads packed rows */
        off += (tensor_bytes(t) + 63) & ~(size_t)63;
    }
    free(ts);
    m->packed = buf;
    return MLLM_OK;
}
