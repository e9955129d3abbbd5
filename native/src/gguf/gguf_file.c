/* Opening a GGUF file: map it (or read it fully) and hand the bytes to the parser. */
#include "gguf/gguf.h"

#include <stdlib.h>

#include "api/errors.h"
#include "platform/file.h"
#include "platform/memory.h"

mllm_status mllm_gguf_open(const char *path, int use_mmap, mllm_gguf **out) {
    if (out) *out = NULL;
    if (!path || !out) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "gguf open: path and out must not be NULL");
    mllm_file f;
    char why[256];
    if (mllm_file_open(path, &f, why, sizeof why) != 0) return mllm_fail(MLLM_ERR_IO, "cannot open '%s': %s", path, why);
    if (f.size > SIZE_MAX) {
        mllm_file_close(&f);
        return mllm_fail(MLLM_ERR_IO, "'%s' is too large for this process's address space", path);
    }
    size_t size = (size_t)f.size;
    if (size < 24) {
        mllm_file_close(&f);
        return mllm_fail(MLLM_ERR_FORMAT, "'%s' is %zu bytes, smaller than a GGUF header (24 bytes)", path, size);
    }
    uint8_t *base = use_mmap ? mllm_file_map(&f) : NULL;
    int mapped = base != NULL;
    if (!base) { /* read fully: also the fallback when mapping is impossible */
        /* 64-byte aligned like a mapping (page aligned), so tensor data keeps the file's alignment */
        base = mllm_aligned_alloc(64, size);
        if (!base) {
            mllm_file_close(&f);
            return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes for '%s'", size, path);
        }
        if (mllm_file_read(&f, base, size, why, sizeof why) != 0) {
            mllm_aligned_free(base);
            mllm_file_close(&f);
            return mllm_fail(MLLM_ERR_IO, "cannot read '%s': %s", path, why);
        }
    }
    mllm_file_close(&f);
    return mllm_gguf_parse(base, size, mapped, out);
}

void mllm_gguf_release(uint8_t *base, size_t size, int mapped) {
    if (!base) return;
    if (mapped) mllm_file_unmap(base, size);
    else mllm_aligned_free(base);
}

void mllm_gguf_close(mllm_gguf *g) {
    if (!g) return;
    for (int64_t i = 0; i < g->n_kv; i++) free(g->kv[i].key);
    free(g->kv);
    free(g->tensors);
    mllm_gguf_release(g->base, g->size, g->mapped);
    free(g);
}
