/* Fixed thread pool. A run publishes (fn, ctx) and bumps a generation counter; workers spin on it
 * for a short while (decode steps come back-to-back), then sleep on a condition variable. The
 * barrier is sense-reversing: arrivals count up, the last one resets the count and flips the
 * phase the others spin on. Nothing is allocated after create. */
#include "cpu/threadpool.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "platform/clock.h"
#include "platform/threads.h"
#include "platform/turns.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ volatile("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

/* How long an idle worker spins for the next run before it sleeps: longer than the gap between two
 * decode steps when the caller does its own work per token (the Java API's loop: sampling, text,
 * callback, tens of microseconds), since waking a sleeping worker costs about as much again per
 * token. Measured in time, not pause instructions, whose latency differs 10x between cores. */
#define SPIN_BEFORE_SLEEP_NS 300000
/* Pause iterations before a barrier waiter starts yielding its core (cores are often shared). */
#define SPIN_BEFORE_YIELD 256
/* How long a barrier waiter spins before it sleeps (where the OS can sleep on a word): above the
 * usual skew between threads (steps of 8 sequences: 1.04-1.14x as fast with 20 us as with 4.8 us on a
 * Zen 5 EPYC), unless a partner thread recently lost its core (a wait of over a millisecond: the
 * machine runs more threads than it has cores). Then a spinning waiter only takes a core from the
 * thread everyone waits for, and waiters sleep sooner for a while (with another program busy on one
 * of 2 cores, 20 us spins throughout decoded at 0.73x the speed of 4.8 us ones; this rule at 0.98-1.02x). */
#define SPIN_BEFORE_BARRIER_SLEEP_NS 20000
#define SPIN_BEFORE_BARRIER_SLEEP_CONTENDED_NS 4000
#define DESCHEDULED_WAIT_NS 1000000
#define CONTENDED_FOR_NS 200000000

/* Keep hot shared counters on their own cache lines. */
typedef struct { _Alignas(64) atomic_int v; } padded_int;

struct mllm_threadpool {
    int n_threads;
    mllm_thread *threads;  /* n_threads - 1 workers */
    mllm_task_fn fn;
    void *ctx;
    int nth;               /* threads taking part in the current run (workers ith >= nth skip it) */
    mllm_turns turns;      /* callers take turns: one run at a time, in arrival order */
    padded_int generation; /* bumped per run; workers wait for a change */
    padded_int n_done;     /* workers finished with the current run */
    padded_int n_arrived;  /* barrier arrivals */
    padded_int phase;      /* barrier phase */
    padded_int n_bsleep;   /* barrier waiters asleep on `phase` (mllm_word_wait) */
    atomic_int n_sleeping; /* workers blocked on `wake` */
    _Atomic int64_t contended_at; /* when a barrier wait last showed a descheduled partner (ns) */
    atomic_int stop;
    mllm_mutex mutex;
    mllm_cond wake;
};

typedef struct { mllm_threadpool *pool; int ith; } worker_arg;

static void spin_wait(int iter) {
    if (iter < SPIN_BEFORE_YIELD) CPU_RELAX();
    else mllm_thread_yield();
}

/* Returns the new generation, waiting first by spinning, then by sleeping. */
static int wait_for_run(mllm_threadpool *p, int seen) {
    const int64_t until = mllm_now_ns() + SPIN_BEFORE_SLEEP_NS;
    for (int i = 0;; i++) {
        int g = atomic_load_explicit(&p->generation.v, memory_order_acquire);
        if (g != seen) return g;
        CPU_RELAX();
        if (i % 64 == 63 && mllm_now_ns() > until) break;
    }
    mllm_mutex_lock(&p->mutex);
    atomic_fetch_add(&p->n_sleeping, 1); /* seq_cst: pairs with the publisher's load */
    int g;
    while ((g = atomic_load(&p->generation.v)) == seen) mllm_cond_wait(&p->wake, &p->mutex);
    atomic_fetch_sub(&p->n_sleeping, 1);
    mllm_mutex_unlock(&p->mutex);
    return g;
}

static void worker_main(void *arg) {
    worker_arg wa = *(worker_arg *)arg;
    free(arg);
    mllm_threadpool *p = wa.pool;
    int seen = 0;
    for (;;) {
        seen = wait_for_run(p, seen);
        if (atomic_load_explicit(&p->stop, memory_order_acquire)) break;
        if (wa.ith < p->nth) p->fn(p->ctx, wa.ith, p->nth);
        atomic_fetch_add_explicit(&p->n_done.v, 1, memory_order_release);
    }
}

/* Publishes a new generation and wakes sleepers. The seq_cst store/load pair with the worker's
 * n_sleeping increment guarantees a worker either sees the new generation or gets the signal. */
static void publish(mllm_threadpool *p) {
    atomic_fetch_add(&p->generation.v, 1);
    if (atomic_load(&p->n_sleeping) > 0) {
        mllm_mutex_lock(&p->mutex);
        mllm_cond_broadcast(&p->wake);
        mllm_mutex_unlock(&p->mutex);
    }
}

mllm_threadpool *mllm_threadpool_create(int n_threads) {
    if (n_threads < 1) return NULL;
    mllm_threadpool *p = calloc(1, sizeof(*p));
    if (!p) return NULL;
    p->n_threads = 1; /* threads actually started; free() joins exactly those */
    p->nth = 1;
    atomic_init(&p->contended_at, INT64_MIN / 2); /* never */
    p->threads = calloc((size_t)n_threads, sizeof(mllm_thread));
    int ok = p->threads != NULL;
    int have_mutex = ok && mllm_mutex_init(&p->mutex) == 0;
    int have_wake = have_mutex && mllm_cond_init(&p->wake) == 0;
    int have_turn = have_wake && mllm_turns_init(&p->turns) == 0;
    if (!have_turn) {
        if (have_wake) mllm_cond_destroy(&p->wake);
        if (have_mutex) mllm_mutex_destroy(&p->mutex);
        free(p->threads);
        free(p);
        return NULL;
    }
    for (int i = 1; i < n_threads; i++) {
        worker_arg *wa = malloc(sizeof(*wa));
        if (wa) { wa->pool = p; wa->ith = i; }
        if (!wa || mllm_thread_start(&p->threads[i - 1], worker_main, wa) != 0) {
            free(wa);
            mllm_threadpool_free(p);
            return NULL;
        }
        p->n_threads = i + 1;
    }
    return p;
}

void mllm_threadpool_free(mllm_threadpool *p) {
    if (!p) return;
    atomic_store_explicit(&p->stop, 1, memory_order_release);
    publish(p);
    for (int i = 0; i < p->n_threads - 1; i++) mllm_thread_join(p->threads[i]);
    mllm_cond_destroy(&p->wake);
    mllm_turns_destroy(&p->turns);
    mllm_mutex_destroy(&p->mutex);
    free(p->threads);
    free(p);
}

int mllm_threadpool_size(const mllm_threadpool *p) { return p ? p->n_threads : 0; }

void mllm_threadpool_run(mllm_threadpool *p, mllm_task_fn fn, void *ctx, int nth) {
    if (nth > p->n_threads) nth = p->n_threads;
    if (nth < 1) nth = 1;
    mllm_turns_take(&p->turns);
    if (p->n_threads == 1 || nth == 1) { /* nothing to share: the workers stay asleep */
        p->nth = 1;
        fn(ctx, 0, 1);
        mllm_turns_end(&p->turns);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->nth = nth;
    atomic_store_explicit(&p->n_done.v, 0, memory_order_relaxed);
    publish(p); /* release: workers see fn/ctx/nth */
    fn(ctx, 0, nth);
    for (int i = 0; atomic_load_explicit(&p->n_done.v, memory_order_acquire) != p->n_threads - 1; i++)
        spin_wait(i);
    mllm_turns_end(&p->turns);
}

/* Waiters spin briefly (the others are usually a few microseconds away), then sleep on the phase
 * word, so that on a busy machine a waiting thread hands its core to whoever runs late instead of
 * burning it. The seq_cst pair (sleeper: n_bsleep++ then re-read phase; last arriver: store phase
 * then read n_bsleep) guarantees that a sleeper either sees the new phase or gets woken. */
void mllm_threadpool_barrier(mllm_threadpool *p) {
    int n = p->nth;
    if (n == 1) return;
    int ph = atomic_load_explicit(&p->phase.v, memory_order_acquire);
    if (atomic_fetch_add_explicit(&p->n_arrived.v, 1, memory_order_acq_rel) == n - 1) {
        atomic_store_explicit(&p->n_arrived.v, 0, memory_order_relaxed);
        atomic_store(&p->phase.v, ph + 1); /* seq_cst */
#if MLLM_HAVE_WORD_WAIT
        if (atomic_load(&p->n_bsleep.v) > 0) mllm_word_wake_all(&p->phase.v);
#endif
        return;
    }
#if MLLM_HAVE_WORD_WAIT
    int64_t until = 0;
#endif
    for (int i = 0; atomic_load_explicit(&p->phase.v, memory_order_acquire) == ph; i++) {
#if MLLM_HAVE_WORD_WAIT
        if (!until) {
            const int64_t now = mllm_now_ns();
            const int contended = now - atomic_load_explicit(&p->contended_at, memory_order_relaxed) < CONTENDED_FOR_NS;
            until = now + (contended ? SPIN_BEFORE_BARRIER_SLEEP_CONTENDED_NS : SPIN_BEFORE_BARRIER_SLEEP_NS);
        }
        if (i % 32 != 31 || mllm_now_ns() < until) { /* the clock read every 32 pauses */
            CPU_RELAX();
            continue;
        }
        atomic_fetch_add(&p->n_bsleep.v, 1); /* seq_cst */
        const int64_t slept_at = mllm_now_ns();
        if (atomic_load(&p->phase.v) == ph) mllm_word_wait(&p->phase.v, ph);
        atomic_fetch_sub(&p->n_bsleep.v, 1);
        const int64_t woke_at = mllm_now_ns();
        if (woke_at - slept_at > DESCHEDULED_WAIT_NS) atomic_store_explicit(&p->contended_at, woke_at, memory_order_relaxed);
#else
        spin_wait(i);
#endif
    }
}
