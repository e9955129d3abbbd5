/* Speed benchmark in the manner of llama-bench: pp = one eval of p prompt tokens from an empty
 * cache (logits of the last token), tg = n single-token evals from an empty cache. Prints the
 * median and every repetition's tokens/s.
 * With --parallel N, in the manner of llama-batched-bench: N sessions each read a p-token prompt
 * (all in one batch), then take n decode steps together, one batch of N tokens per step; tg is
 * the aggregate decode rate N * n / time of all sequences.
 * Usage: mllm_bench -m FILE [-p 128] [-n 64] [-r 5] [-t 2] [-b 512] [--kv f16|f32] [--parallel N]
 *                   [--backend cpu|vulkan] */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mobilellm.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* --parallel: N sessions, prompts in one batch, then n steps of N decode tokens. */
static int bench_parallel(mllm_model *model, const char *path, int np, int p, int n, int reps, int kv) {
    mllm_session_params sp;
    mllm_session_params_init(&sp);
    sp.n_ctx = p + n + 16;
    sp.kv_type = kv;
    mllm_session *s[MLLM_MAX_BATCH_SEQS];
    for (int i = 0; i < np; i++) {
        if (mllm_session_create(model, &sp, &s[i])) { fprintf(stderr, "session: %s\n", mllm_last_error()); return 1; }
    }
    const int pp_tokens = np * p > 0 ? np * p : 1;
    mllm_batch *b;
    if (mllm_batch_create(model, pp_tokens > np ? pp_tokens : np, np, &b)) { fprintf(stderr, "batch: %s\n", mllm_last_error()); return 1; }
    int32_t *toks = malloc(sizeof(int32_t) * (size_t)(p > 0 ? p : 1));
    double pp[100], tg[100], tgc[100];
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
        for (int i = 0; i < np; i++) mllm_session_reset(s[i]);
        double t0 = now_s();
        if (p > 0) {
            for (int i = 0; i < np; i++) {
                for (int j = 0; j < p; j++) toks[j] = 1 + (j * 7919 + i * 31) % 1000;
                mllm_batch_add(b, s[i], toks, p, MLLM_LOGITS_LAST);
            }
            if (mllm_batch_decode(b)) { fprintf(stderr, "prompt: %s\n", mllm_last_error()); return 1; }
        }
        double t1 = now_s(), c1 = cpu_s();
        for (int k = 0; k < n; k++) {
            for (int i = 0; i < np; i++) {
                int32_t t = 1 + (k * 31 + i * 17) % 1000;
                mllm_batch_add(b, s[i], &t, 1, MLLM_LOGITS_LAST);
            }
            if (mllm_batch_decode(b)) { fprintf(stderr, "decode: %s\n", mllm_last_error()); return 1; }
        }
        double t2 = now_s();
        if (r >= 0) {
            pp[r] = np * p / (t1 - t0);
            tg[r] = (double)np * n / (t2 - t1);
            tgc[r] = (cpu_s() - c1) * 1e3 / n;
        }
    }
    printf("model %s parallel %d cpu %s\n", path, np, mllm_cpu_level());
    if (p > 0) printf("pp%d x%d: median %.1f t/s\n", p, np, median(pp, reps));
    printf("tg%d x%d:", n, np);
    for (int r = 0; r < reps; r++) printf(" %.1f", tg[r]);
    printf("  median %.1f t/s (aggregate)  cpu %.2f ms/step\n", median(tg, reps), median(tgc, reps));
    free(toks);
    mllm_batch_free(b);
    for (int i = 0; i < np; i++) mllm_session_free(s[i]);
    return 0;
}

int main(int argc, char **argv) {
    const char *path = NULL;
    int p = 128, n = 64, reps = 5, threads = 2, batch = 512, kv = MLLM_KV_F16, parallel = 0, backend = MLLM_BACKEND_CPU;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) { fprintf(stderr, "missing value for %s\n", a); return 2; }
        if (!strcmp(a, "-m")) path = v;
        else if (!strcmp(a, "-p")) p = atoi(v);
        else if (!strcmp(a, "-n")) n = atoi(v);
        else if (!strcmp(a, "-r")) reps = atoi(v);
        else if (!strcmp(a, "-t")) threads = atoi(v);
        else if (!strcmp(a, "-b")) batch = atoi(v);
        else if (!strcmp(a, "--kv")) kv = !strcmp(v, "f32") ? MLLM_KV_F32 : MLLM_KV_F16;
        else if (!strcmp(a, "--parallel")) parallel = atoi(v);
        else if (!strcmp(a, "--backend")) backend = !strcmp(v, "vulkan") ? MLLM_BACKEND_VULKAN : MLLM_BACKEND_CPU;
        else { fprintf(stderr, "unknown option %s\n", a); return 2; }
        i++;
    }
    if (!path || reps < 1 || reps > 100 || parallel < 0 || parallel > MLLM_MAX_BATCH_SEQS) {
        fprintf(stderr, "usage: %s -m FILE [-p N] [-n N] [-r R] [-t T] [-b B] [--parallel N] [--backend cpu|vulkan]\n", argv[0]);
        return 2;
    }
    mllm_model_params mp;
    mllm_model_params_init(&mp);
    mp.n_threads = threads;
    mp.backend = backend;
    mllm_model *model;
    if (mllm_model_load(path, &mp, &model)) { fprintf(stderr, "load: %s\n", mllm_last_error()); return 1; }
    mllm_model_info info;
    mllm_model_get_info(model, &info);
    if (parallel > 0) {
        int r = bench_parallel(model, path, parallel, p, n, reps, kv);
        mllm_model_free(model);
        return r;
    }
    mllm_session_params sp;
    mllm_session_params_init(&sp);
    sp.n_ctx = (p > n ? p : n) + 16;
    sp.n_batch = batch;
    sp.kv_type = kv;
    sp.n_threads = threads;
    mllm_session *s;
    if (mllm_session_create(model, &sp, &s)) { fprintf(stderr, "session: %s\n", mllm_last_error()); return 1; }
    int32_t *toks = malloc(sizeof(int32_t) * (size_t)(p > 0 ? p : 1));
    for (int i = 0; i < p; i++) toks[i] = 1 + (i * 7919) % 1000;
    double pp[100], tg[100], ppc[100], tgc[100]; /* t/s, and CPU ms per token (all threads) */
    /* warm-up: one short prompt and a few tokens */
    mllm_session_eval(s, toks, p > 8 ? 8 : (p > 0 ? p : 1), MLLM_LOGITS_LAST);
    mllm_session_reset(s);
    for (int r = 0; r < reps; r++) {
        if (p > 0) {
            mllm_session_reset(s);
            double t0 = now_s(), c0 = cpu_s();
            if (mllm_session_eval(s, toks, p, MLLM_LOGITS_LAST)) { fprintf(stderr, "eval: %s\n", mllm_last_error()); return 1; }
            pp[r] = p / (now_s() - t0);
            ppc[r] = (cpu_s() - c0) * 1e3 / p;
        }
        if (n > 0) {
            mllm_session_reset(s);
            int32_t t = 1;
            double t0 = now_s(), c0 = cpu_s();
            for (int i = 0; i < n; i++) {
                if (mllm_session_eval(s, &t, 1, MLLM_LOGITS_LAST)) { fprintf(stderr, "eval: %s\n", mllm_last_error()); return 1; }
                t = 1 + (i * 31) % 1000;
            }
            tg[r] = n / (now_s() - t0);
            tgc[r] = (cpu_s() - c0) * 1e3 / n;
        }
    }
    printf("model %s threads %d cpu %s\n", path, threads, mllm_cpu_level());
    if (p > 0) {
        printf("pp%d:", p);
        for (int r = 0; r < reps; r++) printf(" %.1f", pp[r]);
        printf("  median %.1f t/s  cpu %.3f ms/token\n", median(pp, reps), median(ppc, reps));
    }
    if (n > 0) {
        printf("tg%d:", n);
        for (int r = 0; r < reps; r++) printf(" %.1f", tg[r]);
        printf("  median %.1f t/s  cpu %.3f ms/token\n", median(tg, reps), median(tgc, reps));
    }
    free(toks);
    mllm_session_free(s);
    mllm_model_free(model);
    return 0;
}
