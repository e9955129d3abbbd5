/* The platform layer (src/platform) on POSIX systems: Linux, macOS. */
#if !defined(_WIN32)
#define _GNU_SOURCE /* sched_getaffinity, MAP_ANONYMOUS, madvise */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#include "platform/clock.h"
#include "platform/dynlib.h"
#include "platform/file.h"
#include "platform/memory.h"
#include "platform/threads.h"

/* ---- threads ----------------------------------------------------------------------------- */

typedef struct { void (*fn)(void *); void *arg; } thread_start;

static void *thread_main(void *p) {
    thread_start s = *(thread_start *)p;
    free(p);
    s.fn(s.arg);
    return NULL;
}

int mllm_thread_start(mllm_thread *t, void (*fn)(void *), void *arg) {
    thread_start *s = malloc(sizeof *s);
    if (!s) return -1;
    s->fn = fn;
    s->arg = arg;
    if (pthread_create(&t->id, NULL, thread_main, s) != 0) {
        free(s);
        return -1;
    }
    return 0;
}

void mllm_thread_join(mllm_thread t) { pthread_join(t.id, NULL); }
void mllm_thread_yield(void) { sched_yield(); }

int mllm_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
#if defined(__linux__)
    cpu_set_t set; /* the affinity mask, e.g. under taskset or in a container */
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) n = CPU_COUNT(&set);
#endif
    return n < 1 ? 1 : n > 1 << 20 ? 1 << 20 : (int)n;
}

int mllm_mutex_init(mllm_mutex *m) { return pthread_mutex_init(m, NULL); }
void mllm_mutex_destroy(mllm_mutex *m) { pthread_mutex_destroy(m); }
void mllm_mutex_lock(mllm_mutex *m) { pthread_mutex_lock(m); }
void mllm_mutex_unlock(mllm_mutex *m) { pthread_mutex_unlock(m); }

int mllm_cond_init(mllm_cond *c) { return pthread_cond_init(c, NULL); }
void mllm_cond_destroy(mllm_cond *c) { pthread_cond_destroy(c); }
void mllm_cond_wait(mllm_cond *c, mllm_mutex *m) { pthread_cond_wait(c, m); }
void mllm_cond_broadcast(mllm_cond *c) { pthread_cond_broadcast(c); }

void mllm_once_run(mllm_once *once, void (*fn)(void)) { pthread_once(once, fn); }

int mllm_tls_create(mllm_tls_key *key, void (*destructor)(void *)) { return pthread_key_create(key, destructor); }
void *mllm_tls_get(mllm_tls_key key) { return pthread_getspecific(key); }
int mllm_tls_set(mllm_tls_key key, void *value) { return pthread_setspecific(key, value); }

#if defined(__linux__)
void mllm_word_wait(atomic_int *word, int expected) {
    syscall(SYS_futex, (int *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}
void mllm_word_wake_all(atomic_int *word) {
    syscall(SYS_futex, (int *)word, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
}
#endif

/* ---- clock ------------------------------------------------------------------------------- */

int64_t mllm_now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* ---- memory ------------------------------------------------------------------------------ */

void *mllm_aligned_alloc(size_t align, size_t size) {
    void *p = NULL; /* posix_memalign: unlike aligned_alloc, any size, and on every macOS */
    return posix_memalign(&p, align, size ? size : align) == 0 ? p : NULL;
}

void mllm_aligned_free(void *p) { free(p); }

size_t mllm_page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

uint64_t mllm_physical_memory(void) {
#if defined(_SC_PHYS_PAGES)
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) return (uint64_t)pages * (uint64_t)page;
#endif
    return 0;
}

void *mllm_reserve_address_space(size_t size) {
    int flags = MAP_PRIVATE | MAP_ANONYMOUS;
#ifdef MAP_NORESERVE
    flags |= MAP_NORESERVE;
#endif
    void *p = mmap(NULL, size, PROT_NONE, flags, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void mllm_release_address_space(void *p, size_t size) { munmap(p, size); }

void mllm_discard_file_pages(const void *p, size_t size) {
    const uintptr_t pg = mllm_page_size();
    uintptr_t a = ((uintptr_t)p + pg - 1) & ~(pg - 1), e = ((uintptr_t)p + size) & ~(pg - 1);
    if (e > a) madvise((void *)a, e - a, MADV_DONTNEED);
}

void mllm_advise_huge_pages(void *p, size_t size) {
#ifdef MADV_HUGEPAGE
    madvise(p, size, MADV_HUGEPAGE);
#else
    (void)p, (void)size;
#endif
}

/* ---- files ------------------------------------------------------------------------------- */

static int fail_errno(int e, char *why, size_t why_size) {
    strncpy(why, strerror(e), why_size - 1);
    why[why_size - 1] = 0;
    return -1;
}

static const char *file_kind(mode_t m) {
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a plain file";
}

int mllm_file_open(const char *path, mllm_file *f, char *why, size_t why_size) {
    /* O_NONBLOCK: opening a FIFO (or some devices) would otherwise wait for a writer before the
     * type check below could refuse it. Regular files ignore the flag. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return fail_errno(errno, why, why_size);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return fail_errno(e, why, why_size);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(why, why_size, "%s", file_kind(st.st_mode));
        return MLLM_FILE_NOT_REGULAR;
    }
    f->handle = fd;
    f->size = (uint64_t)st.st_size;
    return 0;
}

int mllm_file_read(mllm_file *f, void *buf, size_t n, char *why, size_t why_size) {
    for (size_t done = 0; done < n;) {
        ssize_t r = read((int)f->handle, (char *)buf + done, n - done);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return fail_errno(errno, why, why_size);
        if (r == 0) {
            snprintf(why, why_size, "unexpected end of file at byte %zu", done);
            return -1;
        }
        done += (size_t)r;
    }
    return 0;
}

void *mllm_file_map(mllm_file *f) {
    if (f->size == 0 || f->size > SIZE_MAX) return NULL;
    void *p = mmap(NULL, (size_t)f->size, PROT_READ, MAP_PRIVATE, (int)f->handle, 0);
    return p == MAP_FAILED ? NULL : p;
}

void mllm_file_unmap(void *base, size_t size) { munmap(base, size); }

int mllm_file_replace(const char *from, const char *to) { return rename(from, to) == 0 ? 0 : -1; }

void mllm_file_close(mllm_file *f) {
    if (f->handle >= 0) close((int)f->handle);
    f->handle = -1;
}

/* ---- shared libraries -------------------------------------------------------------------- */

void *mllm_dynlib_open(const char *name) { return dlopen(name, RTLD_NOW | RTLD_LOCAL); }
void *mllm_dynlib_symbol(void *lib, const char *name) { return dlsym(lib, name); }

#endif
