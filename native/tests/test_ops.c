/* Graph ops run on a 3-thread pool with sizes that do not divide evenly, compared with scalar
 * double-precision formulas written here (and, for quantized matmuls, the quant module's
 * single-threaded reference mllm_matmul_ref).
 * Tolerance 1e-5 relative: the ops compute in f32 over short vectors (<= 40 terms), so rounding
 * stays near 1e-6 of the magnitudes involved. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/backend_cpu.h"
#include "backends/cpu/chunk_claim.h"
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
    mllm_threadpool_run(g_pool, task, &r, mllm_threadpool_size(g_pool));
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
        /* odd cases: rows handed out through chunk counters (chunk_claim.h) */
        static int32_t counters[MLLM_CHUNK_COUNTERS(NTH)];
        memset(counters, 0, sizeof counters);
        mllm_exec ex = {.wdata = wdata, .chunk_counters = qt % 2 ? counters : NULL};
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

/* rope_store then attention, chunk after chunk (3 chunks of 4 tokens), 6 query heads over 2 KV
 * heads, against double-precision formulas written here. The reference K/V rows are rounded to the
 * cache's type as the cache stores them (f16, or q8_0 blocks through the quant module's reference
 * quantizer), so the comparison checks the arithmetic, not the storage's rounding. */
typedef struct attn_case {
    const char *name;
    int kv_type;
    int hd;
    mllm_attn_layer at;
    int n_batch; /* sizes the ring of a sliding-window layer: window + n_batch - 1 rows */
    int chunk;   /* keys per attention chunk (0: the default, more than CTX) */
} attn_case;

enum { NH = 6, NKV = 2, CHUNK = 4, CHUNKS = 3, CTX = 16, MAXHD = 32 };

static void round_row(int kv_type, double *row, int n) {
    float f[NKV * MAXHD], g[NKV * MAXHD];
    for (int i = 0; i < n; i++) f[i] = (float)row[i];
    if (kv_type == MLLM_KV_Q8_0) {
        block_q8_0 b[NKV * MAXHD / QK8_0];
        mllm_quantize_row_ref(MLLM_TYPE_Q8_0, f, b, n);
        mllm_dequantize_row_ref(MLLM_TYPE_Q8_0, b, g, n);
    } else {
        for (int i = 0; i < n; i++) g[i] = kv_type == MLLM_KV_F16 ? mllm_fp16_to_fp32(mllm_fp32_to_fp16(f[i])) : f[i];
    }
    for (int i = 0; i < n; i++) row[i] = g[i];
}

static void position_head(double *x, int hd, int pos, int rope, int norm, double eps) {
    for (int i = 0; rope && i < hd / 2; i++) {
        double a = pos * pow(10000.0, -2.0 * i / hd), x0 = x[2 * i], x1 = x[2 * i + 1];
        x[2 * i] = x0 * cos(a) - x1 * sin(a);
        x[2 * i + 1] = x0 * sin(a) + x1 * cos(a);
    }
    double ss = 0;
    for (int i = 0; norm && i < hd; i++) ss += x[i] * x[i];
    for (int i = 0; norm && i < hd; i++) x[i] /= sqrt(ss / hd + eps);
}

static void test_rope_attention(const attn_case *c) {
    const int HD = c->hd, row = NKV * HD;
    const mllm_attn_layer *at = &c->at;
    mllm_attn_layer layers[2] = {{.rope = 1}, *at};
    const int layer = 1;
    mllm_kv_cache *kv = NULL;
    mllm_device *dev = NULL;
    CHECK_OK(mllm_cpu_device_create(1, 0, &dev));
    if (dev) CHECK_OK(mllm_kv_cache_create(dev, c->kv_type, 2, CTX, c->n_batch, NKV, HD, layers, &kv));
    if (!kv) return;
    CHECK(kv->layers[layer].ring == (at->window && at->window + c->n_batch - 1 < CTX));
    static double kref[CTX][NKV * MAXHD], vref[CTX][NKV * MAXHD];
    float cs[CTX * MAXHD / 2], sn[CTX * MAXHD / 2];
    for (int p = 0; p < CTX; p++)
        for (int i = 0; i < HD / 2; i++) {
            cs[p * HD / 2 + i] = (float)cos(p * pow(10000.0, -2.0 * i / HD));
            sn[p * HD / 2 + i] = (float)sin(p * pow(10000.0, -2.0 * i / HD));
        }
    const size_t stride = MLLM_ATT_SCRATCH(CTX, HD);
    const int64_t part_items = MLLM_ATT_PART_ITEMS(NTH, CTX) * MLLM_ATT_CHUNK; /* room for chunks of 1 key */
    float *scratch = malloc(sizeof(float) * NTH * stride), *part = malloc(sizeof(float) * (size_t)part_items * MLLM_ATT_PART_ITEM(HD));
    int bad = 0;
    for (int chunk = 0; chunk < CHUNKS; chunk++) {
        const int past = chunk * CHUNK;
        float *q = rnd_vec(CHUNK * NH * HD), *k = rnd_vec(CHUNK * row), *v = rnd_vec(CHUNK * row);
        double qref[CHUNK][NH * MAXHD];
        for (int t = 0; t < CHUNK; t++) {
            const int pos = past + t;
            const double temp = at->temp_tuning ? 1.0 + at->temp_scale * log(floor((pos + 1.0) / at->temp_floor) + 1.0) : 1.0;
            for (int h = 0; h < NH + NKV; h++) {
                const float *src = h < NH ? q + (t * NH + h) * HD : k + (t * NKV + h - NH) * HD;
                double *dst = h < NH ? qref[t] + h * HD : kref[pos] + (h - NH) * HD;
                for (int i = 0; i < HD; i++) dst[i] = src[i];
                position_head(dst, HD, pos, at->rope, at->qk_norm, at->eps);
                for (int i = 0; h < NH && i < HD; i++) dst[i] *= temp;
            }
            for (int i = 0; i < row; i++) vref[pos][i] = v[t * row + i];
            round_row(c->kv_type, kref[pos], row);
            round_row(c->kv_type, vref[pos], row);
        }
        mllm_tensor tq, tk, tv, to;
        float *out = calloc(CHUNK * NH * HD, sizeof(float));
        mllm_tensor_f32(&tq, NH * HD, CHUNK, q);
        mllm_tensor_f32(&tk, row, CHUNK, k);
        mllm_tensor_f32(&tv, row, CHUNK, v);
        mllm_tensor_f32(&to, NH * HD, CHUNK, out);
        const mllm_seq_rows seq = {.row0 = 0, .n_rows = CHUNK, .n_past = past, .kv = kv};
        mllm_exec ex = {.seqs = &seq, .n_seqs = 1, .rope_cos = cs, .rope_sin = sn, .n_positions = CTX, .att_scratch = scratch,
                        .att_stride = (int32_t)stride, .att_chunk = c->chunk};
        mllm_node rs = {.op = MLLM_OP_ROPE_STORE, .src = {&tq, &tk, &tv}, .layer = layer, .attn = at};
        mllm_node an = {.op = MLLM_OP_ATTENTION, .src = {&tq}, .dst = {&to}, .layer = layer, .attn = at};
        run(&rs, &ex);
        run(&an, &ex);
        if (c->chunk) {
            /* again with room for chunk results: these 4 rows (8 work items for 3 threads) then spread
             * their chunks over the threads; every bit must be the same as each item's own merge */
            float *first = malloc(sizeof(float) * CHUNK * NH * HD);
            memcpy(first, out, sizeof(float) * CHUNK * NH * HD);
            memset(out, 0, sizeof(float) * CHUNK * NH * HD);
            ex.att_part = part, ex.att_part_items = part_items;
            run(&an, &ex);
            CHECK(memcmp(first, out, sizeof(float) * CHUNK * NH * HD) == 0, "%s: chunks spread over threads changed the bits",
                  c->name);
            free(first);
        }
        mllm_kv_cache_advance(kv, past + CHUNK);
        for (int t = 0; t < CHUNK; t++)
            for (int i = 0; i < NH * HD; i++) bad += !close_to(q[t * NH * HD + i], qref[t][i], TOL);
        for (int t = 0; t < CHUNK; t++) { /* the cache's copy of the new keys (both copies in a ring) */
            const int pos = past + t;
            for (int copy = 0; copy < mllm_kv_copies(kv, layer); copy++) {
                float got[NKV * MAXHD];
                const void *kr = mllm_kv_k_at(kv, layer, mllm_kv_row_of(kv, layer, pos) + copy * kv->layers[layer].rows);
                if (c->kv_type == MLLM_KV_Q8_0) mllm_dequantize_row_ref(MLLM_TYPE_Q8_0, kr, got, row);
                for (int i = 0; i < row; i++) {
                    double g = c->kv_type == MLLM_KV_Q8_0 ? got[i]
                               : c->kv_type == MLLM_KV_F16 ? mllm_fp16_to_fp32(((const uint16_t *)kr)[i]) : ((const float *)kr)[i];
                    bad += !close_to(g, kref[pos][i], TOL);
                }
            }
        }
        for (int t = 0; t < CHUNK; t++) {
            const int pos = past + t, first = at->window && pos - at->window + 1 > 0 ? pos - at->window + 1 : 0;
            for (int h = 0; h < NH; h++) {
                const int g = h / (NH / NKV);
                double sc[CTX], mx = -1e300, sum = 0;
                for (int j = first; j <= pos; j++) {
                    double d = 0;
                    for (int i = 0; i < HD; i++) d += qref[t][h * HD + i] * kref[j][g * HD + i];
                    sc[j] = d / sqrt((double)HD);
                    mx = fmax(mx, sc[j]);
                }
                for (int j = first; j <= pos; j++) sum += (sc[j] = exp(sc[j] - mx));
                for (int i = 0; i < HD; i++) {
                    double o = 0;
                    for (int j = first; j <= pos; j++) o += sc[j] / sum * vref[j][g * HD + i];
                    bad += !close_to(out[(t * NH + h) * HD + i], o, 1e-4); /* q8_0 dots: 32-term int sums scaled */
                }
            }
        }
        free(q); free(k); free(v); free(out);
    }
    CHECK(bad == 0, "%s", c->name);
    if (bad) fprintf(stderr, "attention case %s: %d wrong values\n", c->name, bad);
    free(scratch);
    free(part);
    mllm_kv_cache_free(kv);
    dev->iface->free(dev);
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

/* mllm_claim_chunk under simulated schedules (one thread claims at a time, picked at random, thread 0
 * seldom: a thread the OS delays): every chunk goes to exactly one claim, each range's chunks go out in
 * order, a thread takes other chunks only once its own range is gone, and nobody stops while a chunk
 * is left. */
static void test_chunk_claims(void) {
    for (int nth = 1; nth <= 4; nth++)
        for (int64_t n_chunks = 1; n_chunks <= 20; n_chunks++) {
            int32_t counters[MLLM_CHUNK_COUNTERS(4)] = {0};
            int taken[20] = {0}, done[4] = {0}, n_done = 0, bad = 0;
            int64_t range_next[4];
            const int64_t per = (n_chunks + nth - 1) / nth;
            for (int t = 0; t < nth; t++) range_next[t] = t * per;
            while (n_done < nth) {
                int t = (int)((rnd() * 0.5f + 0.5f) * (float)nth) % nth;
                if (t == 0 && nth > 1 && rnd() < 0.6f) t = 1; /* thread 0 runs late */
                if (done[t]) continue;
                const int64_t c = mllm_claim_chunk(counters, t, nth, per, n_chunks);
                if (c < 0) {
                    done[t] = 1, n_done++;
                    for (int64_t i = 0; i < n_chunks; i++) bad += !taken[i]; /* stopped with a chunk left */
                    continue;
                }
                if (c >= n_chunks || taken[c]++) {
                    bad++;
                    continue;
                }
                bad += c != range_next[c / per]++; /* in order within a range */
                if (c / per != t)                  /* someone else's: only once the own range is gone */
                    for (int64_t i = t * per; i < (t + 1) * per && i < n_chunks; i++) bad += !taken[i];
            }
            CHECK(bad == 0, "chunk claims nth=%d n_chunks=%lld: %d wrong", nth, (long long)n_chunks, bad);
        }
}

int main(void) {
    test_chunk_claims();
    g_pool = mllm_threadpool_create(NTH);
    if (!g_pool) return 1;
    test_rms_norm_swiglu();
    test_matmul();
    static const attn_case cases[] = {
        {"f32", MLLM_KV_F32, 8, {.rope = 1}, CHUNK, 0},
        {"f16", MLLM_KV_F16, 8, {.rope = 1}, CHUNK, 0},
        {"q8_0", MLLM_KV_Q8_0, 32, {.rope = 1}, CHUNK, 0},
        /* MobileLLM-R1: QK-norm after RoPE */
        {"qk-norm f16", MLLM_KV_F16, 8, {.rope = 1, .qk_norm = 1, .eps = 1e-5f}, CHUNK, 0},
        /* a NoPE layer with temperature tuning whose scale grows every 2 positions */
        {"nope temperature q8_0", MLLM_KV_Q8_0, 32, {.temp_tuning = 1, .temp_scale = 0.1f, .temp_floor = 2}, CHUNK, 0},
        /* sliding window of 3 in a ring of 3 + 4 - 1 = 6 rows, written over twice in 12 positions */
        {"window ring f32", MLLM_KV_F32, 8, {.rope = 1, .window = 3}, CHUNK, 0},
        {"window ring f16 qk-norm", MLLM_KV_F16, 8, {.rope = 1, .qk_norm = 1, .eps = 1e-5f, .window = 3}, CHUNK, 0},
        {"window ring q8_0", MLLM_KV_Q8_0, 32, {.rope = 1, .window = 3}, CHUNK, 0},
        /* a window the whole context holds: no ring */
        {"window full f16", MLLM_KV_F16, 8, {.rope = 1, .window = 5}, 12, 0},
        /* key ranges in chunks of 3 (of 1 for single keys), merged in order */
        {"chunks f16", MLLM_KV_F16, 16, {.rope = 1}, CHUNK, 3},
        {"chunks f32", MLLM_KV_F32, 16, {.rope = 1}, CHUNK, 3},
        {"chunks q8_0", MLLM_KV_Q8_0, 32, {.rope = 1}, CHUNK, 5},
        {"chunks of one key f16", MLLM_KV_F16, 16, {.rope = 1}, CHUNK, 1},
        {"chunks window ring f16", MLLM_KV_F16, 16, {.rope = 1, .window = 7}, CHUNK, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) test_rope_attention(&cases[i]);
    test_get_rows();
    mllm_threadpool_free(g_pool);
    return test_result("test_ops");
}
