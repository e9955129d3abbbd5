/* Threads, locks, one-time initialisation, thread-local slots and waiting on a memory word, with
 * one implementation per OS family (posix.c: Linux and macOS; win32.c: Windows). The lowest
 * layer of the engine: it includes nothing of the engine. */
#ifndef MLLM_PLATFORM_THREADS_H
#define MLLM_PLATFORM_THREADS_H

#include <stdatomic.h>

#if defined(_WIN32)
/* Win32 objects held by value without pulling <windows.h> into every file (it defines macros such
 * as min, max and small): each is one pointer-sized word (SRWLOCK, CONDITION_VARIABLE, INIT_ONCE). */
typedef struct { void *handle; } mllm_thread;
typedef struct { void *word; } mllm_mutex;
typedef struct { void *word; } mllm_cond;
typedef struct { void *word; } mllm_once;
typedef unsigned long mllm_tls_key; /* a fiber-local storage index */
#define MLLM_MUTEX_INIT {0}
#define MLLM_ONCE_INIT {0}
#else
#include <pthread.h>
typedef struct { pthread_t id; } mllm_thread;
typedef pthread_mutex_t mllm_mutex;
typedef pthread_cond_t mllm_cond;
typedef pthread_once_t mllm_once;
typedef pthread_key_t mllm_tls_key;
#define MLLM_MUTEX_INIT PTHREAD_MUTEX_INITIALIZER
#define MLLM_ONCE_INIT PTHREAD_ONCE_INIT
#endif

/* Functions returning int give 0 on success. */
int mllm_thread_start(mllm_thread *t, void (*fn)(void *), void *arg);
void mllm_thread_join(mllm_thread t);
/* Gives the core to another ready thread, if any. */
void mllm_thread_yield(void);
/* Cores this process may run on (its affinity mask where the OS has one), at least 1. */
int mllm_cpu_count(void);

int mllm_mutex_init(mllm_mutex *m);
void mllm_mutex_destroy(mllm_mutex *m);
void mllm_mutex_lock(mllm_mutex *m);
void mllm_mutex_unlock(mllm_mutex *m);

int mllm_cond_init(mllm_cond *c);
void mllm_cond_destroy(mllm_cond *c);
/* Releases m, sleeps until woken (or spuriously), takes m again. */
void mllm_cond_wait(mllm_cond *c, mllm_mutex *m);
void mllm_cond_broadcast(mllm_cond *c);

/* Runs fn exactly once per `once`, however many threads call this; all return after it ran. */
void mllm_once_run(mllm_once *once, void (*fn)(void));

/* A per-thread pointer slot; `destructor` (may be NULL) gets a thread's non-NULL value when that
 * thread exits. */
int mllm_tls_create(mllm_tls_key *key, void (*destructor)(void *));
void *mllm_tls_get(mllm_tls_key key);
int mllm_tls_set(mllm_tls_key key, void *value);

/* Sleeping on a memory word (Linux futex, Windows WaitOnAddress). Where the OS offers none in
 * its public API (macOS), MLLM_HAVE_WORD_WAIT is 0 and callers spin and yield instead. */
#if defined(__linux__) || defined(_WIN32)
#define MLLM_HAVE_WORD_WAIT 1
/* Sleeps while *word == expected; may return early (spuriously), so callers re-check. */
void mllm_word_wait(atomic_int *word, int expected);
/* Wakes every thread sleeping in mllm_word_wait on word. */
void mllm_word_wake_all(atomic_int *word);
#else
#define MLLM_HAVE_WORD_WAIT 0
#endif

#endif
