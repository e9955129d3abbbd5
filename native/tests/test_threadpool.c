/* Thread pool: every thread runs each task exactly once with its own ith, barriers separate
 * phases (each phase reads what all threads wrote in the previous one), pools can coexist and be
 * freed, and runs after an idle pause (workers asleep) still complete. A run may use fewer threads
 * than the pool has; callers on several threads take turns (one run at a time, none lost); an
 * idle pool uses no CPU. */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(_WIN32)
#include <time.h>
#endif

#include "cpu/threadpool.h"
#include "platform/clock.h"
#include "platform/threads.h"
#include "util/test_check.h"

enum { MAX_THREADS = 8, PHASES = 200 };

typedef struct {
    mllm_threadpool *pool;
    atomic_int calls[MAX_THREADS];
    int seen_nth[MAX_THREADS];
    /* slot[t] = the phase thread t last completed; after a barrier every slot must equal it. */
    volatile int slot[MAX_THREADS];
    atomic_int errors;
} barrier_ctx;

static void barrier_task(void *p, int ith, int nth) {
    barrier_ctx *c = p;
    atomic_fetch_add(&c->calls[ith], 1);
    c->seen_nth[ith] = nth;
    for (int ph = 1; ph <= PHASES; ph++) {
        c->slot[ith] = ph;
        mllm_threadpool_barrier(c->pool);
        for (int t = 0; t < nth; t++)
            if (c->slot[t] != ph) atomic_fetch_add(&c->errors, 1);
        mllm_threadpool_barrier(c->pool); /* nobody starts phase ph+1 until all have checked */
    }
}

static void test_barrier(int n) {
    barrier_ctx c;
    memset(&c, 0, sizeof(c));
    c.pool = mllm_threadpool_create(n);
    CHECK(c.pool != NULL, "create(%d)", n);
    if (!c.pool) return;
    CHECK(mllm_threadpool_size(c.pool) == n, "size");
    for (int run = 0; run < 5; run++) {
        if (run == 3) { /* let workers fall asleep, then wake them */
            for (int64_t t0 = mllm_now_ns(); mllm_now_ns() - t0 < 20 * 1000 * 1000;) mllm_thread_yield();
        }
        memset((void *)c.slot, 0, sizeof(c.slot));
        mllm_threadpool_run(c.pool, barrier_task, &c, n);
    }
    for (int t = 0; t < n; t++) {
        CHECK(atomic_load(&c.calls[t]) == 5, "thread %d ran %d times (n=%d)", t, atomic_load(&c.calls[t]), n);
        CHECK(c.seen_nth[t] == n, "nth");
    }
    /* a run on fewer threads: only ith < nth take part, and the barriers count only them */
    for (int nth = 1; nth < n; nth++) {
        memset(&c.calls, 0, sizeof c.calls);
        memset((void *)c.slot, 0, sizeof(c.slot));
        mllm_threadpool_run(c.pool, barrier_task, &c, nth);
        for (int t = 0; t < n; t++) CHECK(atomic_load(&c.calls[t]) == (t < nth), "thread %d of %d in a run on %d", t, n, nth);
    }
    CHECK(atomic_load(&c.errors) == 0, "%d barrier violations with %d threads", atomic_load(&c.errors), n);
    mllm_threadpool_free(c.pool);
}

/* Many short runs: the run/finish handshake must never lose or repeat a task. */
typedef struct { atomic_long sum; } sum_ctx;
static void add_task(void *p, int ith, int nth) { atomic_fetch_add(&((sum_ctx *)p)->sum, ith + 1); }

static void test_many_runs(int n) {
    mllm_threadpool *pool = mllm_threadpool_create(n);
    sum_ctx c = {0};
    const int runs = 3000;
    for (int i = 0; i < runs; i++) mllm_threadpool_run(pool, add_task, &c, n);
    CHECK(atomic_load(&c.sum) == (long)runs * n * (n + 1) / 2, "sum %ld (n=%d)", atomic_load(&c.sum), n);
    mllm_threadpool_free(pool);
}

/* Several threads run on one pool at once (sessions sharing a model's pool): each run must be
 * whole and none lost. */
typedef struct { mllm_threadpool *pool; sum_ctx sum; } caller_ctx;
static void caller(void *p) {
    caller_ctx *c = p;
    for (int i = 0; i < 200; i++) mllm_threadpool_run(c->pool, add_task, &c->sum, 3);
}

static void test_callers_take_turns(void) {
    enum { CALLERS = 4 };
    mllm_threadpool *pool = mllm_threadpool_create(3);
    caller_ctx c[CALLERS];
    mllm_thread t[CALLERS];
    for (int i = 0; i < CALLERS; i++) {
        c[i].pool = pool;
        atomic_init(&c[i].sum.sum, 0);
        CHECK(mllm_thread_start(&t[i], caller, &c[i]) == 0, "start caller %d", i);
    }
    for (int i = 0; i < CALLERS; i++) {
        mllm_thread_join(t[i]);
        CHECK(atomic_load(&c[i].sum.sum) == 200L * 6, "caller %d: sum %ld", i, atomic_load(&c[i].sum.sum));
    }
    mllm_threadpool_free(pool);
}

#if !defined(_WIN32) /* process CPU time and sleeping without spinning: POSIX clocks */
static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* After a run the workers spin for a fraction of a millisecond, then sleep: a pool left idle for
 * 300 ms must cost (nearly) no CPU time. A spinning worker would burn all 300 ms. */
static void test_idle_pool_sleeps(void) {
    mllm_threadpool *pool = mllm_threadpool_create(4);
    sum_ctx c = {0};
    mllm_threadpool_run(pool, add_task, &c, 4);
    struct timespec settle = {0, 20 * 1000 * 1000}, idle = {0, 300 * 1000 * 1000};
    nanosleep(&settle, NULL);
    const double c0 = cpu_seconds();
    nanosleep(&idle, NULL);
    const double used = cpu_seconds() - c0;
    CHECK(used < 0.03, "an idle pool of 4 used %.1f ms of CPU in 300 ms", used * 1e3);
    mllm_threadpool_free(pool);
}
#endif

int main(void) {
    CHECK(mllm_threadpool_create(0) == NULL && mllm_threadpool_create(-3) == NULL, "bad sizes refused");
    mllm_threadpool_free(NULL);
    for (int n = 1; n <= 4; n++) { test_barrier(n); test_many_runs(n); }
    /* Two pools at once (one per session), freed in creation order. */
    mllm_threadpool *a = mllm_threadpool_create(3), *b = mllm_threadpool_create(2);
    sum_ctx ca = {0}, cb = {0};
    mllm_threadpool_run(a, add_task, &ca, 3);
    mllm_threadpool_run(b, add_task, &cb, 2);
    CHECK(atomic_load(&ca.sum) == 6 && atomic_load(&cb.sum) == 3, "two pools");
    mllm_threadpool_free(a);
    mllm_threadpool_free(b);
    /* A pool created and freed without ever running. */
    mllm_threadpool_free(mllm_threadpool_create(4));
    test_callers_take_turns();
#if !defined(_WIN32)
    test_idle_pool_sleeps();
#endif
    return test_result("test_threadpool");
}
