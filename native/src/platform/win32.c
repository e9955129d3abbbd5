/* The platform layer (src/platform) on Windows: Win32 API, Windows 8 or newer (WaitOnAddress). */
#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0602
#endif
#include <windows.h>

#include <malloc.h>
#include <process.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/clock.h"
#include "platform/dynlib.h"
#include "platform/file.h"
#include "platform/memory.h"
#include "platform/threads.h"

_Static_assert(sizeof(SRWLOCK) == sizeof(mllm_mutex), "mllm_mutex holds an SRWLOCK");
_Static_assert(sizeof(CONDITION_VARIABLE) == sizeof(mllm_cond), "mllm_cond holds a CONDITION_VARIABLE");
_Static_assert(sizeof(INIT_ONCE) == sizeof(mllm_once), "mllm_once holds an INIT_ONCE");

/* ---- threads ----------------------------------------------------------------------------- */

typedef struct { void (*fn)(void *); void *arg; } thread_start;

static unsigned __stdcall thread_main(void *p) {
    thread_start s = *(thread_start *)p;
    free(p);
    s.fn(s.arg);
    return 0;
}

int mllm_thread_start(mllm_thread *t, void (*fn)(void *), void *arg) {
    thread_start *s = malloc(sizeof *s);
    if (!s) return -1;
    s->fn = fn;
    s->arg = arg;
    /* _beginthreadex, not CreateThread: the C runtime sets up its per-thread state */
    uintptr_t h = _beginthreadex(NULL, 0, thread_main, s, 0, NULL);
    if (!h) {
        free(s);
        return -1;
    }
    t->handle = (void *)h;
    return 0;
}

void mllm_thread_join(mllm_thread t) {
    WaitForSingleObject(t.handle, INFINITE);
    CloseHandle(t.handle);
}

void mllm_thread_yield(void) { SwitchToThread(); }

int mllm_cpu_count(void) {
    DWORD_PTR process, system;
    if (GetProcessAffinityMask(GetCurrentProcess(), &process, &system) && process) {
        int n = 0;
        for (; process; process &= process - 1) n++;
        return n;
    }
    DWORD n = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
    return n < 1 ? 1 : (int)n;
}

int mllm_mutex_init(mllm_mutex *m) {
    InitializeSRWLock((PSRWLOCK)m);
    return 0;
}
void mllm_mutex_destroy(mllm_mutex *m) { (void)m; /* SRW locks hold no resources */ }
void mllm_mutex_lock(mllm_mutex *m) { AcquireSRWLockExclusive((PSRWLOCK)m); }
void mllm_mutex_unlock(mllm_mutex *m) { ReleaseSRWLockExclusive((PSRWLOCK)m); }

int mllm_cond_init(mllm_cond *c) {
    InitializeConditionVariable((PCONDITION_VARIABLE)c);
    return 0;
}
void mllm_cond_destroy(mllm_cond *c) { (void)c; }
void mllm_cond_wait(mllm_cond *c, mllm_mutex *m) {
    SleepConditionVariableSRW((PCONDITION_VARIABLE)c, (PSRWLOCK)m, INFINITE, 0);
}
void mllm_cond_broadcast(mllm_cond *c) { WakeAllConditionVariable((PCONDITION_VARIABLE)c); }

typedef struct { void (*fn)(void); } once_call;

static BOOL CALLBACK once_main(PINIT_ONCE once, PVOID param, PVOID *context) {
    ((once_call *)param)->fn();
    return TRUE;
}

void mllm_once_run(mllm_once *once, void (*fn)(void)) {
    once_call call = {fn};
    InitOnceExecuteOnce((PINIT_ONCE)once, once_main, &call, NULL);
}

/* Fiber-local storage, unlike TlsAlloc, calls a destructor when a thread exits. The callback type
 * differs from void (*)(void *) only by WINAPI, which is no calling convention on x86-64 and arm64. */
int mllm_tls_create(mllm_tls_key *key, void (*destructor)(void *)) {
    DWORD k = FlsAlloc((PFLS_CALLBACK_FUNCTION)(void (*)(void))destructor);
    if (k == FLS_OUT_OF_INDEXES) return -1;
    *key = k;
    return 0;
}
void *mllm_tls_get(mllm_tls_key key) { return FlsGetValue(key); }
int mllm_tls_set(mllm_tls_key key, void *value) { return FlsSetValue(key, value) ? 0 : -1; }

void mllm_word_wait(atomic_int *word, int expected) {
    WaitOnAddress((volatile VOID *)word, &expected, sizeof expected, INFINITE);
}
void mllm_word_wake_all(atomic_int *word) { WakeByAddressAll((PVOID)word); }

/* ---- clock ------------------------------------------------------------------------------- */

int64_t mllm_now_ns(void) {
    static LARGE_INTEGER freq; /* fixed at boot; racing first callers store the same value */
    if (!freq.QuadPart) QueryPerformanceFrequency(&freq);
    LARGE_INTEGER t;
    QueryPerformanceCounter(&t);
    const int64_t f = freq.QuadPart;
    return t.QuadPart / f * 1000000000 + t.QuadPart % f * 1000000000 / f;
}

/* ---- memory ------------------------------------------------------------------------------ */

void *mllm_aligned_alloc(size_t align, size_t size) { return _aligned_malloc(size ? size : align, align); }
void mllm_aligned_free(void *p) { _aligned_free(p); }

size_t mllm_page_size(void) {
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwPageSize;
}

uint64_t mllm_physical_memory(void) {
    MEMORYSTATUSEX ms = {.dwLength = sizeof ms};
    return GlobalMemoryStatusEx(&ms) ? (uint64_t)ms.ullTotalPhys : 0;
}

void *mllm_reserve_address_space(size_t size) { return VirtualAlloc(NULL, size, MEM_RESERVE, PAGE_NOACCESS); }
void mllm_release_address_space(void *p, size_t size) { VirtualFree(p, 0, MEM_RELEASE); }

/* VirtualUnlock on pages that are not locked takes them out of the working set: clean pages of a
 * file mapping go to the standby list and are read again from the file if touched. It reports
 * ERROR_NOT_LOCKED, which is expected here. */
void mllm_discard_file_pages(const void *p, size_t size) {
    const uintptr_t pg = mllm_page_size();
    uintptr_t a = ((uintptr_t)p + pg - 1) & ~(pg - 1), e = ((uintptr_t)p + size) & ~(pg - 1);
    if (e > a) VirtualUnlock((void *)a, e - a);
}

/* Large pages need the "Lock pages in memory" privilege and a different allocation call. */
void mllm_advise_huge_pages(void *p, size_t size) { (void)p, (void)size; }

/* ---- files ------------------------------------------------------------------------------- */

static int fail_last_error(char *why, size_t why_size) {
    DWORD e = GetLastError();
    DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, e, 0, why,
                             (DWORD)why_size, NULL);
    while (n > 0 && (why[n - 1] == '\n' || why[n - 1] == '\r' || why[n - 1] == '.' || why[n - 1] == ' ')) n--;
    if (n == 0) snprintf(why, why_size, "Windows error %lu", (unsigned long)e);
    else why[n] = 0;
    return -1;
}

/* UTF-8 to UTF-16 (the engine's paths are UTF-8, like Java's strings passed through FFM). */
static wchar_t *widen(const char *s) {
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0) return NULL;
    wchar_t *w = malloc(sizeof *w * (size_t)n);
    if (w && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
        free(w);
        w = NULL;
    }
    return w;
}

/* What a handle that is no disk file refers to, for the caller's message. */
static const char *handle_kind(DWORD type) {
    if (type == FILE_TYPE_CHAR) return "a character device";
    if (type == FILE_TYPE_PIPE) return "a pipe";
    return "not a plain file";
}

int mllm_file_open(const char *path, mllm_file *f, char *why, size_t why_size) {
    wchar_t *w = widen(path);
    if (!w) {
        snprintf(why, why_size, "the path is not valid UTF-8");
        return -1;
    }
    /* before opening: CreateFileW cannot open a directory without backup semantics */
    DWORD attrs = GetFileAttributesW(w);
    if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY)) {
        free(w);
        snprintf(why, why_size, "a directory");
        return MLLM_FILE_NOT_REGULAR;
    }
    /* shared like a POSIX open: others may read, write, rename or delete meanwhile. Opening a
     * pipe or device does not wait; the type check below refuses it before any read. */
    HANDLE h = CreateFileW(w, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE) return fail_last_error(why, why_size);
    DWORD type = GetFileType(h);
    if (type != FILE_TYPE_DISK) {
        CloseHandle(h);
        snprintf(why, why_size, "%s", handle_kind(type));
        return MLLM_FILE_NOT_REGULAR;
    }
    LARGE_INTEGER size;
    if (!GetFileSizeEx(h, &size)) {
        fail_last_error(why, why_size);
        CloseHandle(h);
        return -1;
    }
    f->handle = (intptr_t)h;
    f->size = (uint64_t)size.QuadPart;
    return 0;
}

int mllm_file_read(mllm_file *f, void *buf, size_t n, char *why, size_t why_size) {
    for (size_t done = 0; done < n;) {
        DWORD want = n - done > 0x40000000 ? 0x40000000 : (DWORD)(n - done), got = 0;
        if (!ReadFile((HANDLE)f->handle, (char *)buf + done, want, &got, NULL)) return fail_last_error(why, why_size);
        if (got == 0) {
            snprintf(why, why_size, "unexpected end of file at byte %zu", done);
            return -1;
        }
        done += got;
    }
    return 0;
}

void *mllm_file_map(mllm_file *f) {
    if (f->size == 0 || f->size > SIZE_MAX) return NULL;
    HANDLE m = CreateFileMappingW((HANDLE)f->handle, NULL, PAGE_READONLY, 0, 0, NULL);
    if (!m) return NULL;
    void *p = MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0);
    CloseHandle(m); /* the view keeps the mapping alive */
    return p;
}

void mllm_file_unmap(void *base, size_t size) { UnmapViewOfFile(base); }

int mllm_file_replace(const char *from, const char *to) {
    wchar_t *wf = widen(from), *wt = widen(to);
    const int ok = wf && wt && MoveFileExW(wf, wt, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH);
    free(wf);
    free(wt);
    return ok ? 0 : -1;
}

void mllm_file_close(mllm_file *f) {
    if (f->handle != (intptr_t)INVALID_HANDLE_VALUE) CloseHandle((HANDLE)f->handle);
    f->handle = (intptr_t)INVALID_HANDLE_VALUE;
}

/* ---- shared libraries -------------------------------------------------------------------- */

/* The application folder and the system folders (where the Vulkan loader vulkan-1.dll lives), never
 * the current folder or PATH. */
void *mllm_dynlib_open(const char *name) { return LoadLibraryExA(name, NULL, LOAD_LIBRARY_SEARCH_DEFAULT_DIRS); }

void *mllm_dynlib_symbol(void *lib, const char *name) {
    FARPROC p = GetProcAddress((HMODULE)lib, name);
    void *out;
    memcpy(&out, &p, sizeof out); /* function to object pointer: same size on Windows */
    return out;
}

#endif
