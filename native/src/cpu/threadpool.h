/* A fixed pool of worker threads. One call runs a task on all threads (the caller is thread 0);
 * inside the task, threads meet at barriers. Workers spin briefly, then sleep, between runs. */
#ifndef MLLM_THREADPOOL_H
#define MLLM_THREADPOOL_H

typedef struct mllm_threadpool mllm_threadpool;
typedef void (*mllm_task_fn)(void *ctx, int ith, int nth);

/* NULL on failure (n_threads < 1 or out of memory). */
mllm_threadpool *mllm_threadpool_create(int n_threads);
void mllm_threadpool_free(mllm_threadpool *pool);
int mllm_threadpool_size(const mllm_threadpool *pool);
/* Runs fn(ctx, ith, nth) on every thread, ith = 0 on the caller; returns when all have returned.
 * One run at a time per pool (a pool belongs to one session); fn must not call run itself. */
void mllm_threadpool_run(mllm_threadpool *pool, mllm_task_fn fn, void *ctx);
/* All nth threads of the current run wait here for each other; only valid inside fn, and every
 * thread must call it the same number of times. */
void mllm_threadpool_barrier(mllm_threadpool *pool);

#endif
