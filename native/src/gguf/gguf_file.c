/* A GGUF file's lifetime: map it (or read it fully), have gguf_parse.c read its directory, and
 * release both on close. */
#include "gguf/gguf.h"

#include <stdlib.h>

#include "core/errors.h"
#include "platform/file.h"
#include "platform/memory.h"

mllm_status mllm_gguf_open(const char *path, int use_mmap, mllm_gguf **out) {
    if (out) *out = NULL;
    if (!path || !out) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "gguf open: path and out must not be NULL");
    mllm_file f;
    char why[256];
    int r = mllm_file_open(path, &f, why, sizeof why);
    if (r == MLLM_FILE_NOT_REGULAR) {
        return mllm_fail(MLLM_ERR_IO, "'%s' is not a regular file (%s); a model must be a GGUF file", path, why);
    }
    if (r != 0) return mllm_fail(MLLM_ERR_IO, "cannot open '%s': %s", path, why);
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

mllm_status mllm_gguf_parse(uint8_t *base, size_t size, int mapped, mllm_gguf **out) {
    if (out) *out = NULL;
    mllm_gguf *g = calloc(1, sizeof *g);
    if (!g) {
        mllm_gguf_release(base, size, mapped);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory opening GGUF");
    }
    g->base = base;
    g->size = size;
    g->mapped = mapped;
    mllm_status s = mllm_gguf_read_directory(g);
    if (s != MLLM_OK) {
        mllm_gguf_close(g);
        return s;
    }
    *out = g;
    return MLLM_OK;
}

void mllm_gguf_release(uint8_t *base, size_t size, int mapped) {
    if (!base) return;
    if (mapped) mllm_file_unmap(base, size);
    else mllm_aligned_free(base);
}

void mllm_gguf_close(mllm_gguf *g) {
    if (!g) return;
    mllm_gguf_free_directory(g);
    mllm_gguf_release(g->base, g->size, g->mapped);
    free(g);
}
