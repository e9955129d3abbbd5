/* Temporary micro-benchmark (not a test): matmul throughput per level, type, m and thread count. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "cpu/cpu_features.h"
#include "cpu/matmul.h"
#include "cpu/threadpool.h"
#include "quant/quant.h"
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
typedef struct { int wt; const void *w; int64_t n, k, m; const float *x; float *y; void *wd; mllm_threadpool *p; } task;
static void run(void *c, int ith, int nth) {
    task *t = c;
    mllm_matmul_prepare(t->wt, t->x, t->k, t->k, t->m, t->wd, ith, nth);
    mllm_threadpool_barrier(t->p);
    mllm_matmul_compute(t->wt, t->w, t->k, t->wd, t->m, t->y, t->n, t->n * ith / nth, t->n * (ith + 1) / nth);
}
int main(int argc, char **argv) {
    int64_t k = 1600, n = 32000;
    int types[] = {MLLM_TYPE_F16, MLLM_TYPE_Q8_0, MLLM_TYPE_Q4_0};
    const char *lv[] = {"avx2", "avx512", "avx512vnni"};
    int threads[] = {1, 4, 8, 16};
    float *wf = malloc(k * 4), *x = malloc(128 * k * 4), *y = malloc(128 * n * 4);
    for (int i = 0; i < 128 * k; i++) x[i] = (float)rand() / RAND_MAX - 0.5f;
    for (int t = 0; t < 3; t++) {
        int wt = types[t];
        size_t rb = mllm_type_row_bytes(wt, k);
        char *w = malloc(rb * n);
        for (int i = 0; i < k; i++) wf[i] = (float)rand() / RAND_MAX - 0.5f;
        for (int r = 0; r < n; r++) { wf[r % k] += 0.01f; mllm_quantize_row_ref(wt, wf, w + r * rb, k); }
        void *wd = malloc(mllm_matmul_wsize(wt, k, 128));
        for (int l = 0; l < 3; l++) {
            mllm_cpu_set_level_by_name(lv[l]);
            for (int ti = 0; ti < 4; ti++) {
                mllm_threadpool *p = mllm_threadpool_create(threads[ti]);
                for (int m = 1; m <= 128; m *= 128) {
                    task tk = {wt, w, n, k, m, x, y, wd, p};
                    mllm_threadpool_run(p, run, &tk);
                    int reps = m == 1 ? 20 : 3;
                    double t0 = now();
                    for (int r = 0; r < reps; r++) mllm_threadpool_run(p, run, &tk);
                    double dt = (now() - t0) / reps;
                    printf("%-5s %-10s th=%2d m=%3d %8.3f ms %6.1f GB/s %7.1f GFLOP/s\n", mllm_type_name(wt), lv[l],
                           threads[ti], m, dt * 1e3, rb * n / dt / 1e9, 2.0 * k * n * m / dt / 1e9);
                }
                mllm_threadpool_free(p);
            }
        }
        free(w); free(wd);
    }
    return 0;
}
