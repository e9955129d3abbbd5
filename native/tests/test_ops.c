/* Graph ops run on a 3-thread pool with sizes that do not divide evenly, compared with scalar
 * double-precision formulas written here (and, for quantized matmuls, the quant module's
 * single-threaded reference mllm_matmul_ref).
 * Tolerance 1e-5 relative: the ops compute in f32 over short vectors (<= 40 terms), so rounding
 * stays near 1e-6 of the magnitudes involved. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/ops.h"
#include "cpu/cpu_features.h"
#include "cpu/matmul.h"
#include "cpu/threadpool.h"
#include "graph/graph.h"
#include "graph/kv_cache.h"
#include "platform/memory.h"
#include "quant/quant.h"
#include "util/test_check.h"

#define NTH 3
#define TOL 1e-5

static uint64_t g_seed = 42;
static float rnd(void) {
    g_seed = g_seed * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(g_seed >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
}
static float *rnd_vec(size_t n) {
    float *v = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) v[i] = rnd();
    return v;
}

typedef struct run_ctx {
    const mllm_node *n;
    const mllm_cpu_run *run;
} run_ctx;
static void task(void *c, int ith, int nth) {
    run_ctx *r = c;
    mllm_op_run(r->n, r->run, ith, nth);
}
static mllm_threadpool *g_pool;
static void run(const mllm_node *n, const mllm_exec *ex) {
    const mllm_cpu_run cr = {ex, mllm_kernels_for(mllm_cpu_current()), g_pool};
    run_ctx r = {n, &cr};
    mllm_threadpool_run(g_pool, task, &r);
}

static int close_to(double got, double want, double tol) { return fabs(got - want) <= tol * (1.0 + fabs(want)); }

static void test_rms_norm_swiglu(void) {
    enum { D = 37, R = 6 };
    float *x = rnd_vec(D * R), *res = rnd_vec(D * R), *w = rnd_vec(D), *out = calloc(D * R, sizeof(float));
    float *x0 = malloc(sizeof(float) * D * R);
    memcpy(x0, x, sizeof(float) * D * R);
    mllm_tensor tx, tr, tw, to;
    mllm_tensor_f32(&tx, D, R, x);
    mllm_tensor_f32(&tr, D, R, res);
    mllm_tensor_f32(&tw, D, 1, w);
    mllm_tensor_f32(&to, D, R, out);
    mllm_node n = {.op = MLLM_OP_RMS_NORM, .src = {&tx, &tw, &tr}, .dst = {&to}, .row0 = 2, .n_rows = 3, .eps = 1e-5f};
    mllm_exec ex = {0};
    run(&n, &ex);
    for (int r = 0; r < R; r++) {
        int in_range = r >= 2 && r < 5;
        double ss = 0;
        for (int i = 0; i < D; i++) {
            double xi = (double)x0[r * D + i] + (in_range ? res[r * D + i] : 0.0);
            CHECK(close_to(x[r * D + i], xi, TOL)); /* residual added only to the rows normed */
            ss += xi * xi;
        }
        if (!in_range) continue;
        double sc = 1.0 / sqrt(ss / D + 1e-5);
        for (int i = 0; i < D; i++) {
            double xi = (double)x0[r * D + i] + res[r * D + i];
            CHECK(close_to(out[(r - 2) * D + i], xi * sc * w[i], TOL));
        }
    }
    /* swiglu over 6 x 37 values */
    float *g = rnd_vec(D * R), *u = rnd_vec(D * R), *g0 = malloc(sizeof(float) * D * R);
    memcpy(g0, g, sizeof(float) * D * R);
    mllm_tensor tg, tu;
    mllm_tensor_f32(&tg, D, R, g);
    mllm_tensor_f32(&tu, D, R, u);
    mllm_node s = {.op = MLLM_OP_SWIGLU, .src = {NULL, &tu}, .dst = {&tg}};
    run(&s, &ex);
    int bad = 0;
    for (int i = 0; i < D * R; i++) bad += !close_to(g[i], g0[i] / (1.0 + exp(-(double)g0[i])) * u[i], TOL);
    CHECK(bad == 0);
    free(x); free(res); free(w); free(out); free(x0); free(g); free(u); free(g0);
}

static void test_matmul(void) {
    enum { K = 64, M = 3 };
    const int rows[3] = {5, 17, 40};
    /* f32; q8_0; and a mixed group sharing q8_0 activations (as in mixed-quant files) */
    const int32_t types[3][3] = {{MLLM_TYPE_F32, MLLM_TYPE_F32, MLLM_TYPE_F32},
                                 {MLLM_TYPE_Q8_0, MLLM_TYPE_Q8_0, MLLM_TYPE_Q8_0},
                                 {MLLM_TYPE_Q8_0, MLLM_TYPE_Q4_0, MLLM_TYPE_Q5_0}};
    for (int qt = 0; qt < 3; qt++) {
        int32_t type = types[qt][0];
        float *x = rnd_vec(K * M);
        float *wf[3], *y[3];
        void *wq[3];
        mllm_tensor tw[3], ty[3], tx;
        mllm_tensor_f32(&tx, K, M, x);
        mllm_node n = {.op = MLLM_OP_MATMUL, .n_w = 3, .src = {&tx}};
        for (int w = 0; w < 3; w++) {
            type = types[qt][w];
            size_t rb = (size_t)mllm_row_bytes(type, K);
            wf[w] = rnd_vec((size_t)rows[w] * K);
            wq[w] = malloc(rb * rows[w]);
            for (int r = 0; r < rows[w]; r++) mllm_quantize_row(type, wf[w] + r * K, (char *)wq[w] + rb * r, K);
            y[w] = calloc((size_t)rows[w] * M, sizeof(float));
            mllm_tensor_init(&tw[w], type, (int64_t[]){K, rows[w], 1, 1}, wq[w]);
            mllm_tensor_f32(&ty[w], rows[w], M, y[w]);
            n.src[1 + w] = &tw[w];
            n.dst[w] = &ty[w];
        }
        void *wdata = mllm_aligned_alloc(64, mllm_matmul_wsize(types[qt][0], K, M) + 64);
        mllm_exec ex = {.wdata = wdata};
        run(&n, &ex);
        int bad = 0;
        for (int w = 0; w < 3; w++) {
            float *want = malloc(sizeof(float) * rows[w] * M);
            if (qt) {
                mllm_matmul_ref(types[qt][w], wq[w], rows[w], K, x, K, M, want, rows[w]);
            } else {
                for (int i = 0; i < M; i++)
                    for (int r = 0; r < rows[w]; r++) {
                        double s = 0;
                        for (int k = 0; k < K; k++) s += (double)wf[w][r * K + k] * x[i * K + k];
                        want[i * rows[w] + r] = (float)s;
                    }
            }
            for (int i = 0; i < rows[w] * M; i++) bad += !close_to(y[w][i], want[i], qt ? 1e-4 : TOL);
            free(want);
            free(wf[w]);
            free(wq[w]);
            free(y[w]);
        }
        CHECK(bad == 0);
        if (bad) fprintf(stderr, "matmul case %d: %d wrong values\n", qt, bad);
        free(x);
        mllm_aligned_free(wdata);
    }
}

/* rope_store then attention for 4 new tokens after 3 cached ones, 6 query heads over 2 KV heads. */
static void test_rope_attention(int kv_type) {
    enum { HD = 8, NH = 6, NKV = 2, PAST = 3, N = 4, CTX = 16 };
    const double theta = 10000.0;
    mllm_kv_cache *kv = NULL;
    CHECK_OK(mllm_kv_cache_create(kv_type, 2, CTX, NKV, HD, &kv));
    if (!kv) return;
    const int layer = 1;
    double kref[CTX][NKV * HD], vref[CTX][NKV * HD];
    for (int p = 0; p < PAST; p++) { /* pre-filled rows, stored exactly in either cache type */
        for (int i = 0; i < NKV * HD; i++) {
            float k = mllm_fp16_to_fp32(mllm_fp32_to_fp16(rnd())), v = mllm_fp16_to_fp32(mllm_fp32_to_fp16(rnd()));
            kref[p][i] = k;
            vref[p][i] = v;
            if (kv_type == MLLM_KV_F16) {
                ((uint16_t *)mllm_kv_k_row(kv, layer, p))[i] = mllm_fp32_to_fp16(k);
                ((uint16_t *)mllm_kv_v_row(kv, layer, p))[i] = mllm_fp32_to_fp16(v);
            } else {
                ((float *)mllm_kv_k_row(kv, layer, p))[i] = k;
                ((float *)mllm_kv_v_row(kv, layer, p))[i] = v;
            }
        }
    }
    float *q = rnd_vec(N * NH * HD), *k = rnd_vec(N * NKV * HD), *v = rnd_vec(N * NKV * HD);
    double qref[N][NH * HD];
    float cs[CTX * HD / 2], sn[CTX * HD / 2];
    for (int p = 0; p < CTX; p++)
        for (int i = 0; i < HD / 2; i++) {
            cs[p * HD / 2 + i] = (float)cos(p * pow(theta, -2.0 * i / HD));
            sn[p * HD / 2 + i] = (float)sin(p * pow(theta, -2.0 * i / HD));
        }
    /* expected rotated q and k: pair (2i, 2i+1) by angle pos * theta^(-2i/hd) */
    for (int t = 0; t < N; t++) {
        int pos = PAST + t;
        for (int h = 0; h < NH + NKV; h++) {
            float *src = h < NH ? q + (t * NH + h) * HD : k + (t * NKV + h - NH) * HD;
            double *dst = h < NH ? qref[t] + h * HD : kref[pos] + (h - NH) * HD;
            for (int i = 0; i < HD / 2; i++) {
                double a = pos * pow(theta, -2.0 * i / HD), x0 = src[2 * i], x1 = src[2 * i + 1];
                dst[2 * i] = x0 * cos(a) - x1 * sin(a);
                dst[2 * i + 1] = x0 * sin(a) + x1 * cos(a);
            }
        }
        for (int i = 0; i < NKV * HD; i++) vref[pos][i] = v[t * NKV * HD + i];
    }
    mllm_tensor tq, tk, tv, to;
    float *out = calloc(N * NH * HD, sizeof(float));
    mllm_tensor_f32(&tq, NH * HD, N, q);
    mllm_tensor_f32(&tk, NKV * HD, N, k);
    mllm_tensor_f32(&tv, NKV * HD, N, v);
    mllm_tensor_f32(&to, NH * HD, N, out);
    float *scratch = malloc(sizeof(float) * NTH * CTX);
    mllm_exec ex = {.n_past = PAST, .kv = kv, .rope_cos = cs, .rope_sin = sn, .att_scratch = scratch};
    mllm_node rs = {.op = MLLM_OP_ROPE_STORE, .src = {&tq, &tk, &tv}, .layer = layer};
    mllm_node at = {.op = MLLM_OP_ATTENTION, .src = {&tq}, .dst = {&to}, .layer = layer};
    run(&rs, &ex);
    run(&at, &ex);
    /* f16 cache: K and V are rounded to 11 significant bits (2.4e-4 relative) */
    const double tol = kv_type == MLLM_KV_F16 ? 2e-3 : TOL;
    int bad = 0;
    for (int t = 0; t < N; t++) {
        for (int i = 0; i < NH * HD; i++) bad += !close_to(q[t * NH * HD + i], qref[t][i], TOL);
        for (int i = 0; i < NKV * HD; i++) {
            const void *row = mllm_kv_k_row(kv, layer, PAST + t);
            double got = kv_type == MLLM_KV_F16 ? mllm_fp16_to_fp32(((const uint16_t *)row)[i]) : ((const float *)row)[i];
            bad += !close_to(got, kref[PAST + t][i], tol);
        }
    }
    CHECK(bad == 0);
    bad = 0;
    for (int t = 0; t < N; t++) {
        int pos = PAST + t;
        for (int h = 0; h < NH; h++) {
            int g = h / (NH / NKV);
            double sc[CTX], mx = -1e300, sum = 0;
            for (int s = 0; s <= pos; s++) {
                double d = 0;
                for (int i = 0; i < HD; i++) d += qref[t][h * HD + i] * kref[s][g * HD + i];
                sc[s] = d / sqrt((double)HD);
                mx = fmax(mx, sc[s]);
            }
            for (int s = 0; s <= pos; s++) sum += (sc[s] = exp(sc[s] - mx));
            for (int i = 0; i < HD; i++) {
                double o = 0;
                for (int s = 0; s <= pos; s++) o += sc[s] / sum * vref[s][g * HD + i];
                bad += !close_to(out[(t * NH + h) * HD + i], o, tol);
            }
        }
    }
    CHECK(bad == 0);
    if (bad) fprintf(stderr, "attention kv_type %d: %d wrong values\n", kv_type, bad);
    free(q); free(k); free(v); free(out); free(scratch);
    mllm_kv_cache_free(kv);
}

static void test_get_rows(void) {
    enum { D = 32, V = 5 };
    float *e = rnd_vec(D * V);
    uint16_t h[D * V];
    for (int i = 0; i < D * V; i++) h[i] = mllm_fp32_to_fp16(e[i]);
    mllm_tensor te, to;
    float out[3 * D];
    mllm_tensor_init(&te, MLLM_TYPE_F16, (int64_t[]){D, V, 1, 1}, h);
    mllm_tensor_f32(&to, D, 3, out);
    const int32_t tok[3] = {3, 0, 4};
    mllm_exec ex = {.tokens = tok};
    mllm_node n = {.op = MLLM_OP_GET_ROWS, .src = {&te}, .dst = {&to}};
    run(&n, &ex);
    int bad = 0;
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < D; i++) bad += out[r * D + i] != mllm_fp16_to_fp32(h[tok[r] * D + i]);
    CHECK(bad == 0);
    free(e);
}

int main(void) {
    g_pool = mllm_threadpool_create(NTH);
    if (!g_pool) return 1;
    test_rms_norm_swiglu();
    test_matmul();
    test_rope_attention(MLLM_KV_F32);
    test_rope_attention(MLLM_KV_F16);
    test_get_rows();
    mllm_threadpool_free(g_pool);
    return test_result("test_ops");
}
