/* A GGUF file's lifetime: map it (or read it fully), have gguf_parse.c read its directory, and
 * release both on close. */
#define _POSIX_C_SOURCE 200809L
#include "gguf/gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errors.h"

static mllm_status read_all(int fd, const char *path, uint8_t *buf, size_t size) {
    size_t done = 0;
    while (done < size) {
        ssize_t r = read(fd, buf + done, size - done);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            return mllm_fail(MLLM_ERR_IO, "cannot read '%s' at byte %zu: %s", path, done,
                             r < 0 ? strerror(errno) : "unexpected end of file");
        }
        done += (size_t)r;
    }
    return MLLM_OK;
}

static const char *file_kind(mode_t m) {
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a plain file";
}

mllm_status mllm_gguf_open(const char *path, int use_mmap, mllm_gguf **out) {
    if (out) *out = NULL;
    if (!path || !out) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "gguf open: path and out must not be NULL");
    /* O_NONBLOCK: opening a FIFO (or some devices) would otherwise wait for a writer before the
     * type check below could refuse it. Regular files ignore the flag. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return mllm_fail(MLLM_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return mllm_fail(MLLM_ERR_IO, "cannot stat '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return mllm_fail(MLLM_ERR_IO, "'%s' is not a regular file (%s); a model must be a GGUF file", path,
                         file_kind(st.st_mode));
    }
    size_t size = (size_t)st.st_size;
    if (size < 24) {
        close(fd);
        return mllm_fail(MLLM_ERR_FORMAT, "'%s' is %zu bytes, smaller than a GGUF header (24 bytes)", path, size);
    }
    uint8_t *base = NULL;
    int mapped = 0;
    if (use_mmap) {
        void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            base = p;
            mapped = 1;
        }
    }
    if (!base) { /* read fully: also the fallback when mapping is impossible */
        /* 64-byte aligned like a mapping (page aligned), so tensor data keeps the file's alignment */
        base = aligned_alloc(64, (size + 63) & ~(size_t)63);
        if (!base) {
            close(fd);
            return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes for '%s'", size, path);
        }
        mllm_status s = read_all(fd, path, base, size);
        if (s != MLLM_OK) {
            free(base);
            close(fd);
            return s;
        }
    }
    close(fd);
    return mllm_gguf_parse(base, size, mapped, out);
}

mllm_status mllm_gguf_parse(uint8_t *base, size_t size, int mapped, mllm_gguf **out) {
    if (out) *out = NULL;
    mllm_gguf *g = calloc(1, sizeof *g);
    if (!g) {
        if (mapped) munmap(base, size);
        else free(base);
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

void mllm_gguf_close(mllm_gguf *g) {
    if (!g) return;
    mllm_gguf_free_directory(g);
    if (g->base) {
        if (g->mapped) munmap(g->base, g->size);
        else free(g->base);
    }
    free(g);
}
