/* Thread pool: every thread runs each task exactly once with its own ith, barriers separate
 * phases (each phase reads what all threads wrote in the previous one), pools can coexist and be
 * freed, and runs after an idle pause (workers asleep) still complete. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        mllm_threadpool_run(c.pool, barrier_task, &c);
    }
    for (int t = 0; t < n; t++) {
        CHECK(atomic_load(&c.calls[t]) == 5, "thread %d ran %d times (n=%d)", t, atomic_load(&c.calls[t]), n);
        CHECK(c.seen_nth[t] == n, "nth");
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
    for (int i = 0; i < runs; i++) mllm_threadpool_run(pool, add_task, &c);
    CHECK(atomic_load(&c.sum) == (long)runs * n * (n + 1) / 2, "sum %ld (n=%d)", atomic_load(&c.sum), n);
    mllm_threadpool_free(pool);
}

int main(void) {
    CHECK(mllm_threadpool_create(0) == NULL && mllm_threadpool_create(-3) == NULL, "bad sizes refused");
    mllm_threadpool_free(NULL);
    for (int n = 1; n <= 4; n++) { test_barrier(n); test_many_runs(n); }
    /* Two pools at once (one per session), freed in creation order. */
    mllm_threadpool *a = mllm_threadpool_create(3), *b = mllm_threadpool_create(2);
    sum_ctx ca = {0}, cb = {0};
    mllm_threadpool_run(a, add_task, &ca);
    mllm_threadpool_run(b, add_task, &cb);
    CHECK(atomic_load(&ca.sum) == 6 && atomic_load(&cb.sum) == 3, "two pools");
    mllm_threadpool_free(a);
    mllm_threadpool_free(b);
    /* A pool created and freed without ever running. */
    mllm_threadpool_free(mllm_threadpool_create(4));
    return test_result("test_threadpool");
}
