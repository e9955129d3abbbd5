/* Public session-state API: argument checks and files around model/session_state.c. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/errors.h"
#include "model/session_state.h"
#include "platform/file.h"

mllm_status mllm_session_state_size(const mllm_session *s, int64_t *out) {
    if (out) *out = 0;
    if (!s || !out) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_state_size: session and out_bytes must not be NULL");
    *out = (int64_t)mllm_state_bytes(s);
    return MLLM_OK;
}

mllm_status mllm_session_state_save(const mllm_session *s, void *buf, int64_t buf_size, int64_t *out_written) {
    if (out_written) *out_written = 0;
    if (!s || !out_written) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_state_save: session and out_written must not be NULL");
    mllm_status st = mllm_session_check_free(s, "mllm_session_state_save");
    if (st) return st;
    const int64_t need = (int64_t)mllm_state_bytes(s);
    *out_written = need;
    if (!buf || buf_size < need) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_state_save: the state needs %lld bytes, the buffer has %lld",
                         (long long)need, (long long)(buf ? buf_size : 0));
    }
    return mllm_state_write(s, buf, NULL);
}

mllm_status mllm_session_state_save_file(const mllm_session *s, const char *path) {
    if (!s || !path) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_state_save_file: session and path must not be NULL");
    mllm_status st = mllm_session_check_free(s, "mllm_session_state_save_file");
    if (st) return st;
    const size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory");
    snprintf(tmp, len + 16, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp); /* next to path, so the rename below stays within one file system */
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        st = mllm_fail(MLLM_ERR_IO, "cannot create a file next to '%s'", path);
    } else {
        st = mllm_state_write(s, NULL, f);
        if (fclose(f) != 0 && !st) st = mllm_fail(MLLM_ERR_IO, "cannot write '%s'", tmp);
        if (!st && mllm_file_replace(tmp, path) != 0) st = mllm_fail(MLLM_ERR_IO, "cannot rename the state file to '%s'", path);
        if (st) unlink(tmp);
    }
    free(tmp);
    return st;
}

mllm_status mllm_session_state_load(mllm_session *s, const void *buf, int64_t size) {
    if (!s || !buf || size < 0) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_state_load: session and buf must not be NULL, size not negative");
    }
    mllm_status st = mllm_session_check_free(s, "mllm_session_state_load");
    return st ? st : mllm_state_read(s, buf, (uint64_t)size);
}

mllm_status mllm_session_state_load_file(mllm_session *s, const char *path) {
    if (!s || !path) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_state_load_file: session and path must not be NULL");
    mllm_status st = mllm_session_check_free(s, "mllm_session_state_load_file");
    if (st) return st;
    mllm_file f;
    char why[160];
    if (mllm_file_open(path, &f, why, sizeof why) != 0) return mllm_fail(MLLM_ERR_IO, "cannot open '%s': %s", path, why);
    uint8_t *p = NULL;
    if (f.size > mllm_state_max_bytes(s)) /* refused before it is read */
        st = mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "'%s' (%llu bytes) is larger than any state of this session", path,
                       (unsigned long long)f.size);
    else if (!(p = malloc(f.size ? (size_t)f.size : 1))) st = mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory reading '%s'", path);
    else if (mllm_file_read(&f, p, (size_t)f.size, why, sizeof why) != 0) st = mllm_fail(MLLM_ERR_IO, "cannot read '%s': %s", path, why);
    const uint64_t size = f.size;
    mllm_file_close(&f);
    if (!st) st = mllm_state_read(s, p, (uint64_t)size);
    free(p);
    return st;
}

mllm_status mllm_session_copy_prefix(mllm_session *dst, const mllm_session *src, int32_t n) {
    if (!dst || !src) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_copy_prefix: sessions must not be NULL");
    if (dst == src) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_copy_prefix: source and destination are one session");
    mllm_status st = mllm_session_check_free(dst, "mllm_session_copy_prefix");
    if (!st) st = mllm_session_check_free(src, "mllm_session_copy_prefix");
    if (st) return st;
    if (dst->model != src->model) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_copy_prefix: the sessions belong to different models");
    if (dst->kv->type != src->kv->type) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_copy_prefix: the sessions' KV cache types differ");
    if (n < 1 || n > src->n_past) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_copy_prefix: n_tokens %d is outside 1..%d (the source's n_past)", n,
                         src->n_past);
    }
    if (n > dst->params.n_ctx) {
        return mllm_fail(MLLM_ERR_CONTEXT_FULL, "mllm_session_copy_prefix: %d tokens exceed the destination's n_ctx %d", n,
                         dst->params.n_ctx);
    }
    return mllm_session_copy_prefix_impl(dst, src, n);
}
