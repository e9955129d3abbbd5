/* A fixed pool of worker threads. One call runs a task on some or all threads (the caller is
 * thread 0); inside the task, threads meet at barriers. Callers on several threads take turns in
 * the order they arrive (one run at a time), so a pool can be shared by many sessions and models.
 * Workers spin briefly after a run (decode steps come back to back), then sleep: an idle pool
 * uses no CPU. */
#ifndef MLLM_THREADPOOL_H
#define MLLM_THREADPOOL_H

typedef struct mllm_threadpool mllm_threadpool;
typedef void (*mllm_task_fn)(void *ctx, int ith, int nth);

/* NULL on failure (n_threads < 1 or out of memory). */
mllm_threadpool *mllm_threadpool_create(int n_threads);
void mllm_threadpool_free(mllm_threadpool *pool);
int mllm_threadpool_size(const mllm_threadpool *pool);
/* Runs fn(ctx, ith, nth) on nth threads (1 <= nth <= size; more are clamped), ith = 0 on the
 * caller; returns when all have returned. A call while another thread's run is in progress waits
 * for its turn (first come, first served); fn must not call run itself. */
void mllm_threadpool_run(mllm_threadpool *pool, mllm_task_fn fn, void *ctx, int nth);
/* All nth threads of the current run wait here for each other; only valid inside fn, and every
 * thread must call it the same number of times. */
void mllm_threadpool_barrier(mllm_threadpool *pool);

#endif
