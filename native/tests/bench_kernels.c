/* Speed of the kernels a batched decode step spends most of its time in, one thread, data in cache:
 * the q8_0 activation quantizer and the panel matmul at several activation row counts (decode steps of
 * that many sequences; from 8 rows the AMX level takes its tile kernels). Not a test.
 *
 *   bench_kernels [--stream] [LEVEL...]   (default: every level this CPU runs; names as MOBILELLM_CPU
 *                                          takes them)
 *
 * Prints, per level: ns per quantized value (8 rows of 576), then per weight type and row count the
 * microseconds per matmul of the 1536 x 576 weight (the 125M shape's gate) and the multiply-adds per
 * second. With --stream each timed call walks STREAM_COPIES packed copies of the weight one after another
 * (64 MB of q4_0, 120 MB of q8_0), so the weights come from memory, as in a decode step, and the figures
 * are per copy. Each figure is the best of 5 timings of at least 0.2 s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/cpu_features.h"
#include "cpu/kernels.h"
#include "cpu/matmul.h"
#include "cpu/panel.h"
#include "platform/memory.h"
#include "quant/quant.h"

enum { K = 576, N_ROWS = 1536, MAX_M = 256, REPS = 5, STREAM_COPIES = 128 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static float *random_floats(size_t n, unsigned *seed) {
    float *x = malloc(n * sizeof(float));
    if (!x) return NULL;
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        x[i] = (float)(*seed >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
    }
    return x;
}

/* Seconds per call of fn(ctx): the best of REPS timings of at least 0.2 s each. */
static double best_seconds(void (*fn)(void *), void *ctx) {
    double best = 1e30;
    for (int r = 0; r < REPS; r++) {
        long calls = 0;
        const double t0 = now();
        double t;
        do {
            fn(ctx);
            calls++;
        } while ((t = now() - t0) < 0.2);
        if (t / (double)calls < best) best = t / (double)calls;
    }
    return best;
}

typedef struct {
    const mllm_kernels *kernels;
    int32_t type;
    const float *x;
    void *packed, *wdata;
    size_t copy_bytes; /* packed holds n_copies copies of the weight, copy_bytes apart */
    int n_copies;
    float *y;
    int64_t m;
} bench_ctx;

static void run_quantize(void *p) {
    bench_ctx *c = p;
    const size_t rb = mllm_type_row_bytes(MLLM_TYPE_Q8_0, K);
    for (int i = 0; i < 8; i++) c->kernels->quantize_q8_0(c->x + (size_t)i * K, (char *)c->wdata + (size_t)i * rb, K);
}

static void run_matmul(void *p) {
    bench_ctx *c = p;
    for (int i = 0; i < c->n_copies; i++)
        mllm_matmul_compute_panel(c->kernels, c->type, (const char *)c->packed + (size_t)i * c->copy_bytes, K, c->wdata, c->m,
                                  c->y, N_ROWS, 0, N_ROWS);
}

static int bench_level(const char *name, const float *w, const float *x, int n_copies) {
    if (mllm_cpu_set_level_by_name(name) != 0) {
        fprintf(stderr, "bench_kernels: level %s is unknown or not supported by this CPU\n", name);
        return 1;
    }
    bench_ctx c = {.kernels = mllm_kernels_for(mllm_cpu_current()), .x = x, .n_copies = n_copies};
    const size_t wbytes = mllm_type_row_bytes(MLLM_TYPE_Q8_0, K) * N_ROWS; /* the larger type's */
    void *rows = malloc(wbytes);
    c.packed = mllm_aligned_alloc(2u << 20, wbytes * (size_t)n_copies);
    if (c.packed) mllm_advise_huge_pages(c.packed, wbytes * (size_t)n_copies); /* as the engine's packed weights */
    c.wdata = malloc(mllm_matmul_wsize(MLLM_TYPE_Q8_0, K, MAX_M) + 64);
    c.y = malloc((size_t)MAX_M * N_ROWS * sizeof(float));
    if (!rows || !c.packed || !c.wdata || !c.y) {
        fprintf(stderr, "bench_kernels: out of memory\n");
        return 1;
    }
    printf("%-11s quantize_q8_0: %.3f ns/value\n", name, best_seconds(run_quantize, &c) / (8.0 * K) * 1e9);
    static const int32_t types[] = {MLLM_TYPE_Q4_0, MLLM_TYPE_Q8_0};
    static const int64_t ms[] = {1, 2, 4, 8, 16, 32, 64, 256};
    for (int t = 0; t < 2; t++) {
        c.type = types[t];
        mllm_quantize_row_ref(c.type, w, rows, (int64_t)K * N_ROWS);
        c.copy_bytes = mllm_type_row_bytes(c.type, K) * N_ROWS;
        for (int i = 0; i < n_copies; i++) mllm_panel_pack(c.type, rows, K, N_ROWS, (char *)c.packed + (size_t)i * c.copy_bytes);
        for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
            c.m = ms[i];
            mllm_matmul_prepare_rows(c.kernels, c.type, x, K, K, c.m, c.wdata, 0, c.m);
            const double s = best_seconds(run_matmul, &c) / n_copies;
            printf("%-11s %s m=%-2lld %8.1f us  %6.1f GMAC/s\n", name, mllm_type_name(c.type), (long long)c.m, s * 1e6,
                   (double)K * N_ROWS * (double)c.m / s * 1e-9);
        }
    }
    free(rows), free(c.wdata), free(c.y);
    mllm_aligned_free(c.packed);
    return 0;
}

int main(int argc, char **argv) {
    unsigned seed = 1;
    float *w = random_floats((size_t)K * N_ROWS, &seed), *x = random_floats((size_t)K * MAX_M, &seed);
    if (!w || !x) return 1;
    int rc = 0, first = 1, n_copies = 1;
    if (argc > 1 && strcmp(argv[1], "--stream") == 0) first = 2, n_copies = STREAM_COPIES;
    if (argc > first) {
        for (int i = first; i < argc; i++) rc |= bench_level(argv[i], w, x, n_copies);
    } else {
        static const mllm_cpu_level_t levels[] = {MLLM_CPU_SCALAR, MLLM_CPU_AVX2,    MLLM_CPU_AVXVNNI, MLLM_CPU_AVX512,
                                                  MLLM_CPU_AVX512VNNI, MLLM_CPU_AMX, MLLM_CPU_NEON,    MLLM_CPU_NEON_DOTPROD};
        for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++)
            if (mllm_cpu_level_supported(levels[l])) rc |= bench_level(mllm_cpu_level_name(levels[l]), w, x, n_copies);
    }
    free(w), free(x);
    return rc;
}
