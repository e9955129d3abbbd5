/* Forward pass of tiny random models against the double-precision reference in
 * util/tiny_model.h: plain llama, GQA ratios 1/2/3, layer sharing, untied head, chunked and
 * incremental evaluation, truncate/reset, context full and context shift, F16 and Q8_0 KV caches,
 * MobileLLM-R1 (llama4) and MobileLLM-Pro (sliding-window rings, NoPE, temperature tuning) files,
 * scoring and embeddings.
 *
 * Tolerances. Weights and activations are f32 in the engine; every value passes through a few
 * dot products of length <= 96 and 2-4 layers whose RMS norms keep activations O(1). f32 rounding
 * (6e-8 relative) accumulates to a few 1e-6 on logits of magnitude ~1-5, so TOL_F32 = 2e-4 leaves
 * a wide margin yet is far below the 1e-2..1 changes a real bug (wrong RoPE pair, wrong KV head,
 * missing residual) produces. The F16 KV cache rounds K and V to 11 significant bits (relative
 * error 2^-12 ~ 2.4e-4 per value); attention with peaked scores and two layers amplify that
 * to ~1e-3 relative on logits of magnitude up to ~10, so TOL_F16 = 3e-2 (measured: ~6e-3). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/vulkan/backend_vulkan.h"
#include "mobilellm.h"
#include "util/test_check.h"
#include "util/tiny_model.h"

#define TOL_F32 2e-4
#define TOL_F16 3e-2

static char g_path[64];

static mllm_model *load_tiny(const tiny_model *tm, int n_threads) {
    snprintf(g_path, sizeof g_path, "/tmp/mllm_tiny_%d.gguf", (int)getpid());
    if (tiny_write(tm, g_path) != 0) {
        fprintf(stderr, "cannot write %s\n", g_path);
        return NULL;
    }
    mllm_model_params mp;
    mllm_model_params_init(&mp);
    mp.n_threads = n_threads;
    mllm_model *m = NULL;
    mllm_status s = mllm_model_load(g_path, &mp, &m);
    unlink(g_path);
    if (s) fprintf(stderr, "load failed: %s\n", mllm_last_error());
    return m;
}

static mllm_session *new_session(mllm_model *m, int n_ctx, int n_batch, int kv_type, int shift, int n_keep) {
    mllm_session_params sp;
    mllm_session_params_init(&sp);
    sp.n_ctx = n_ctx;
    sp.n_batch = n_batch;
    sp.kv_type = kv_type;
    sp.context_shift = shift;
    sp.n_keep = n_keep;
    mllm_session *s = NULL;
    if (mllm_session_create(m, &sp, &s)) fprintf(stderr, "session failed: %s\n", mllm_last_error());
    return s;
}

static double max_diff(const float *a, const double *ref, size_t n) {
    double mx = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - ref[i]);
        if (!(d <= mx)) mx = d; /* NaN propagates */
    }
    return mx;
}

static void make_tokens(int32_t *t, int n, int n_vocab, uint64_t seed) {
    for (int i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        t[i] = (int32_t)((seed >> 33) % (uint64_t)n_vocab);
    }
}

/* Evaluates tokens with ALL logits and compares every row with the reference (with K/V rounded to
 * q8_0 as a q8_0 cache holds them when round_q8). */
static double check_logits_kv(mllm_session *s, const tiny_model *tm, const int32_t *tok, int n, double tol, const char *what,
                              int round_q8) {
    double *ref = malloc(sizeof(double) * (size_t)n * tm->c.n_vocab);
    ref_forward_kv(tm, tok, n, ref, NULL, round_q8);
    CHECK_OK(mllm_session_eval(s, tok, n, MLLM_LOGITS_ALL));
    int32_t rows = 0;
    const float *lg = mllm_session_logits(s, &rows);
    double d = 1e9;
    CHECK(lg && rows == n);
    if (lg && rows == n) d = max_diff(lg, ref, (size_t)n * tm->c.n_vocab);
    if (!(d <= tol)) fprintf(stderr, "%s: max |diff| %.3g > %.3g\n", what, d, tol);
    CHECK(d <= tol);
    free(ref);
    return d;
}

static double check_all_logits(mllm_session *s, const tiny_model *tm, const int32_t *tok, int n, double tol, const char *what) {
    return check_logits_kv(s, tm, tok, n, tol, what, 0);
}

static void test_variants(void) {
    struct { const char *arch; int n_head, n_kv, repeat, tied, threads, n_batch; const char *name; } v[] = {
        {"llama", 4, 4, 1, 1, 1, 64, "gqa1"},
        {"llama", 4, 2, 1, 1, 2, 64, "gqa2 2 threads"},
        {"llama", 6, 2, 1, 0, 3, 64, "gqa3 untied 3 threads"},
        {"mobilellm", 4, 2, 2, 1, 2, 64, "block_repeat 2"},
        {"llama", 4, 1, 1, 1, 2, 3, "mqa n_batch 3"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        tiny_cfg c = tiny_default();
        c.arch = v[i].arch;
        c.n_head = v[i].n_head;
        c.n_kv = v[i].n_kv;
        c.n_embd = v[i].n_head * 16;
        c.repeat = v[i].repeat;
        c.tied = v[i].tied;
        c.seed += i;
        tiny_model tm;
        tiny_init(&tm, &c);
        mllm_model *m = load_tiny(&tm, v[i].threads);
        CHECK(m != NULL);
        if (!m) continue;
        mllm_model_info info;
        CHECK_OK(mllm_model_get_info(m, &info));
        CHECK(info.n_layer == c.n_block * c.repeat && info.block_repeat == c.repeat && info.tied_embeddings == c.tied);
        CHECK(info.n_head_kv == c.n_kv && info.head_dim == 16 && info.n_vocab == 40 && info.eos_token == 2);
        mllm_session *s = new_session(m, 32, v[i].n_batch, MLLM_KV_F32, 0, 0);
        int32_t tok[12];
        make_tokens(tok, 12, c.n_vocab, 7 + i);
        double d = check_all_logits(s, &tm, tok, 12, TOL_F32, v[i].name);
        printf("%-24s max |logit diff| %.2e\n", v[i].name, d);
        mllm_session_free(s);
        mllm_model_free(m);
        tiny_free(&tm);
    }
}

/* Token-by-token decode gives the same logits as one batch; LAST and NONE modes. */
static void test_incremental_and_modes(void) {
    tiny_cfg c = tiny_default();
    tiny_model tm;
    tiny_init(&tm, &c);
    mllm_model *m = load_tiny(&tm, 2);
    if (!m) { CHECK(0); return; }
    mllm_session *s = new_session(m, 32, 16, MLLM_KV_F32, 0, 0);
    enum { N = 10 };
    int32_t tok[N];
    make_tokens(tok, N, c.n_vocab, 99);
    double ref[N * 40];
    ref_forward(&tm, tok, N, ref, NULL);
    for (int i = 0; i < N; i++) {
        CHECK_OK(mllm_session_eval(s, &tok[i], 1, MLLM_LOGITS_LAST));
        int32_t rows;
        const float *lg = mllm_session_logits(s, &rows);
        CHECK(lg && rows == 1 && max_diff(lg, ref + i * 40, 40) <= TOL_F32);
        CHECK(mllm_session_n_past(s) == i + 1);
    }
    /* prefill without logits, then LAST: the last row of the reference */
    CHECK_OK(mllm_session_reset(s));
    CHECK_OK(mllm_session_eval(s, tok, N - 1, MLLM_LOGITS_NONE));
    int32_t rows = 5;
    CHECK(mllm_session_logits(s, &rows) == NULL && rows == 0);
    CHECK_OK(mllm_session_eval(s, tok + N - 1, 1, MLLM_LOGITS_LAST));
    const float *lg = mllm_session_logits(s, &rows);
    CHECK(lg && rows == 1 && max_diff(lg, ref + (N - 1) * 40, 40) <= TOL_F32);
    /* LAST over a multi-chunk call (n_batch 16 > N here, so use a session with n_batch 4) */
    mllm_session *s4 = new_session(m, 32, 4, MLLM_KV_F32, 0, 0);
    CHECK_OK(mllm_session_eval(s4, tok, N, MLLM_LOGITS_LAST));
    lg = mllm_session_logits(s4, &rows);
    CHECK(lg && rows == 1 && max_diff(lg, ref + (N - 1) * 40, 40) <= TOL_F32);

    /* truncate to 4, continue with other tokens: equals a fresh run of the new sequence */
    int32_t alt[N];
    memcpy(alt, tok, sizeof alt);
    for (int i = 4; i < N; i++) alt[i] = (tok[i] + 5) % c.n_vocab;
    double ref2[N * 40];
    ref_forward(&tm, alt, N, ref2, NULL);
    CHECK_OK(mllm_session_truncate(s4, 4));
    CHECK(mllm_session_n_past(s4) == 4 && mllm_session_logits(s4, NULL) == NULL);
    CHECK_OK(mllm_session_eval(s4, alt + 4, N - 4, MLLM_LOGITS_ALL));
    lg = mllm_session_logits(s4, &rows);
    CHECK(lg && rows == N - 4 && max_diff(lg, ref2 + 4 * 40, (N - 4) * 40) <= TOL_F32);
    CHECK_ERR(mllm_session_truncate(s4, N + 1), MLLM_ERR_INVALID_ARGUMENT, "n_keep");

    /* argument checks */
    int32_t bad = 40;
    CHECK_ERR(mllm_session_eval(s4, &bad, 1, MLLM_LOGITS_LAST), MLLM_ERR_INVALID_ARGUMENT, "outside the vocabulary");
    bad = -1;
    CHECK_ERR(mllm_session_eval(s4, &bad, 1, MLLM_LOGITS_LAST), MLLM_ERR_INVALID_ARGUMENT, "token -1");
    CHECK_ERR(mllm_session_eval(s4, tok, 1, 7), MLLM_ERR_INVALID_ARGUMENT, "logits mode");
    CHECK_ERR(mllm_session_eval(s4, NULL, 1, 0), MLLM_ERR_INVALID_ARGUMENT, "tokens is NULL");
    CHECK_ERR(mllm_session_eval(NULL, tok, 1, 0), MLLM_ERR_INVALID_ARGUMENT, "session is NULL");
    CHECK_ERR(mllm_session_eval(s4, tok, -2, 0), MLLM_ERR_INVALID_ARGUMENT, "negative");
    CHECK(mllm_session_n_past(NULL) == -1 && mllm_session_n_ctx(s4) == 32);
    mllm_session_free(s);
    mllm_session_free(s4);
    mllm_model_free(m);
    tiny_free(&tm);
}

static void test_context(void) {
    tiny_cfg c = tiny_default();
    tiny_model tm;
    tiny_init(&tm, &c);
    mllm_model *m = load_tiny(&tm, 2);
    if (!m) { CHECK(0); return; }
    int32_t tok[12];
    make_tokens(tok, 12, c.n_vocab, 5);
    /* full without shifting: refused up front, state unchanged */
    mllm_session *s = new_session(m, 8, 4, MLLM_KV_F32, 0, 0);
    CHECK_ERR(mllm_session_eval(s, tok, 9, MLLM_LOGITS_LAST), MLLM_ERR_CONTEXT_FULL, "n_ctx 8");
    CHECK(mllm_session_n_past(s) == 0);
    CHECK_OK(mllm_session_eval(s, tok, 8, MLLM_LOGITS_LAST));
    CHECK_ERR(mllm_session_eval(s, tok + 8, 1, MLLM_LOGITS_LAST), MLLM_ERR_CONTEXT_FULL, "context full");
    CHECK(mllm_session_n_past(s) == 8);
    mllm_session_free(s);

    /* shift: n_ctx 8, keep 1; the 9th token drops (8-1)/2 = 3 tokens after the first, and the
     * reference does the same to its own cache (keys re-rotated by -3 positions) */
    s = new_session(m, 8, 4, MLLM_KV_F32, 1, 1);
    CHECK_OK(mllm_session_eval(s, tok, 8, MLLM_LOGITS_NONE));
    CHECK_OK(mllm_session_eval(s, tok + 8, 1, MLLM_LOGITS_LAST));
    CHECK(mllm_session_n_past(s) == 6);
    double ref[40];
    ref_state rs;
    ref_init(&rs, &tm, 8);
    for (int i = 0; i < 8; i++) ref_step(&rs, tok[i], NULL, NULL);
    ref_shift(&rs, 1, 3);
    ref_step(&rs, tok[8], ref, NULL);
    ref_release(&rs);
    int32_t rows;
    const float *lg = mllm_session_logits(s, &rows);
    double d = lg ? max_diff(lg, ref, 40) : 1e9;
    printf("context shift            max |logit diff| %.2e\n", d);
    CHECK(lg && rows == 1 && d <= TOL_F32);
    /* a long call through a small context keeps shifting and still ends consistently */
    CHECK_OK(mllm_session_reset(s));
    CHECK_OK(mllm_session_eval(s, tok, 12, MLLM_LOGITS_LAST));
    CHECK(mllm_session_n_past(s) <= 8 && mllm_session_n_past(s) >= 2);
    mllm_session_free(s);

    /* F16 KV cache, shifted too (re-rotation goes through f16 again) */
    s = new_session(m, 8, 4, MLLM_KV_F16, 1, 1);
    CHECK_OK(mllm_session_eval(s, tok, 9, MLLM_LOGITS_LAST));
    lg = mllm_session_logits(s, &rows);
    d = lg ? max_diff(lg, ref, 40) : 1e9;
    printf("context shift f16 kv     max |logit diff| %.2e\n", d);
    CHECK(lg && d <= TOL_F16);
    mllm_session_free(s);

    s = new_session(m, 32, 5, MLLM_KV_F16, 0, 0);
    d = check_all_logits(s, &tm, tok, 12, TOL_F16, "f16 kv");
    printf("f16 kv cache             max |logit diff| %.2e\n", d);
    mllm_session_free(s);
    mllm_model_free(m);
    tiny_free(&tm);
}

/* MobileLLM-R1 (llama4: QK-norm, Llama 3 RoPE factors) and MobileLLM-Pro (sliding windows in rings,
 * NoPE layers with temperature tuning) shaped files against the reference; truncation and context
 * shifts with rings. Q8_0 KV cache: the reference rounds K and V to q8_0 as the cache stores them,
 * so what differs is f32 rounding, except where it lands a value on the other side of a q8_0
 * rounding boundary (one quantum, 1/127 of a block's largest magnitude): TOL_Q8 = 1e-2 (measured,
 * printed), against the 1..10 a wrong head or block gives. */
#define TOL_Q8 1e-2

static void check_positions(const char *what, const tiny_cfg *c, int n_ctx, int n_batch, int kv_type, double tol) {
    tiny_model tm;
    tiny_init(&tm, c);
    mllm_model *m = load_tiny(&tm, 2);
    CHECK(m != NULL, "%s", what);
    if (!m) return;
    mllm_session *s = new_session(m, n_ctx, n_batch, kv_type, 0, 0);
    int32_t tok[24];
    make_tokens(tok, 24, c->n_vocab, 11);
    double d = s ? check_logits_kv(s, &tm, tok, 24, tol, what, kv_type == MLLM_KV_Q8_0) : 1e9;
    printf("%-40s max |logit diff| %.2e\n", what, d);
    mllm_session_free(s);
    mllm_model_free(m);
    tiny_free(&tm);
}

static tiny_cfg pro_cfg(void) {
    tiny_cfg c = tiny_default();
    c.arch = "mobilellm-pro";
    c.n_block = 4;
    c.n_embd = 128; /* heads of 32: q8_0 KV rows */
    c.n_ff = 128;
    c.swa_mask = 0x6u; /* layers 1, 2: sliding windows of 3 */
    c.window = 3;
    c.nope_mask = 0x9u; /* layers 0, 3: NoPE with temperature tuning every 2 positions */
    c.qk_norm = 1;
    c.temp_tuning = 1;
    c.temp_scale = 0.2f;
    c.temp_floor = 2;
    return c;
}

static void test_positions(void) {
    tiny_cfg c = tiny_default();
    c.arch = "llama4";
    c.rope_freqs = 1;
    check_positions("llama4 qk-norm rope_freqs f32 kv", &c, 32, 5, MLLM_KV_F32, TOL_F32);
    c.n_embd = 128;
    check_positions("llama4 q8_0 kv", &c, 32, 5, MLLM_KV_Q8_0, TOL_Q8);
    c = pro_cfg();
    /* n_batch 2: rings of 3 + 2 - 1 = 4 rows, written over five times in 24 positions */
    check_positions("mobilellm-pro rings f32 kv", &c, 32, 2, MLLM_KV_F32, TOL_F32);
    check_positions("mobilellm-pro rings f16 kv", &c, 32, 7, MLLM_KV_F16, TOL_F16);
    check_positions("mobilellm-pro rings q8_0 kv", &c, 32, 3, MLLM_KV_Q8_0, TOL_Q8);
    check_positions("mobilellm-pro window within one chunk", &c, 32, 24, MLLM_KV_F32, TOL_F32);
    c.rope_freqs = 1;
    c.qk_norm = 0;
    check_positions("mobilellm-pro rope_freqs, no qk-norm", &c, 32, 4, MLLM_KV_F32, TOL_F32);

    /* truncation and context shift with rings */
    c = pro_cfg();
    tiny_model tm;
    tiny_init(&tm, &c);
    mllm_model *m = load_tiny(&tm, 2);
    CHECK(m != NULL);
    if (!m) return;
    int32_t tok[16];
    make_tokens(tok, 16, c.n_vocab, 21);
    double ref[40];
    mllm_session *s = new_session(m, 16, 2, MLLM_KV_F32, 0, 0);
    CHECK_OK(mllm_session_eval(s, tok, 12, MLLM_LOGITS_NONE));
    /* the rings (4 rows) hold positions 8..11: keeping 10 needs the keys of 8, 9 */
    CHECK_OK(mllm_session_truncate(s, 10));
    CHECK(mllm_session_n_past(s) == 10);
    CHECK_OK(mllm_session_eval(s, tok + 10, 1, MLLM_LOGITS_LAST));
    ref_state rs;
    ref_init(&rs, &tm, 16);
    for (int i = 0; i < 11; i++) ref_step(&rs, tok[i], i == 10 ? ref : NULL, NULL);
    int32_t rows;
    const float *lg = mllm_session_logits(s, &rows);
    double d = lg ? max_diff(lg, ref, 40) : 1e9;
    printf("rings: truncate and continue             max |logit diff| %.2e\n", d);
    CHECK(lg && rows == 1 && d <= TOL_F32);
    /* keeping 5 would need the keys of 3, 4, which the rings no longer hold: nothing is kept */
    CHECK_OK(mllm_session_truncate(s, 5));
    CHECK(mllm_session_n_past(s) == 0);
    CHECK_OK(mllm_session_eval(s, tok, 5, MLLM_LOGITS_NONE));
    CHECK(mllm_session_n_past(s) == 5);
    mllm_session_free(s);

    /* context shift: n_ctx 12, keep 1; the 13th token drops (12 - 1) / 2 = 5 tokens after the first.
     * The rings held positions 8..11, now 3..6: everything the windows of the next tokens read. */
    s = new_session(m, 12, 2, MLLM_KV_F32, 1, 1);
    CHECK_OK(mllm_session_eval(s, tok, 12, MLLM_LOGITS_NONE));
    CHECK_OK(mllm_session_eval(s, tok + 12, 2, MLLM_LOGITS_ALL));
    CHECK(mllm_session_n_past(s) == 9);
    ref_release(&rs);
    ref_init(&rs, &tm, 16);
    for (int i = 0; i < 12; i++) ref_step(&rs, tok[i], NULL, NULL);
    ref_shift(&rs, 1, 5);
    double ref2[80];
    ref_step(&rs, tok[12], ref2, NULL);
    ref_step(&rs, tok[13], ref2 + 40, NULL);
    lg = mllm_session_logits(s, &rows);
    d = lg ? max_diff(lg, ref2, 80) : 1e9;
    printf("rings: context shift                     max |logit diff| %.2e\n", d);
    CHECK(lg && rows == 2 && d <= TOL_F32);
    ref_release(&rs);
    mllm_session_free(s);
    mllm_model_free(m);
    tiny_free(&tm);
}

static void test_score_embed(void) {
    tiny_cfg c = tiny_default();
    tiny_model tm;
    tiny_init(&tm, &c);
    mllm_model *m = load_tiny(&tm, 2);
    if (!m) { CHECK(0); return; }
    enum { N = 11 };
    int32_t tok[N];
    make_tokens(tok, N, c.n_vocab, 31);
    double ref[N * 40], hid[N * 64];
    ref_forward(&tm, tok, N, ref, hid);
    mllm_session *s = new_session(m, 32, 4, MLLM_KV_F32, 0, 0); /* 3 chunks */
    float nll[N];
    CHECK_OK(mllm_session_score(s, tok, N, nll));
    CHECK(mllm_session_n_past(s) == N);
    double worst = 0;
    for (int i = 0; i < N - 1; i++) {
        double mx = -1e300, sum = 0;
        for (int v = 0; v < 40; v++) mx = fmax(mx, ref[i * 40 + v]);
        for (int v = 0; v < 40; v++) sum += exp(ref[i * 40 + v] - mx);
        double want = log(sum) + mx - ref[i * 40 + tok[i + 1]];
        worst = fmax(worst, fabs(want - nll[i]));
    }
    printf("score                    max |nll diff| %.2e\n", worst);
    CHECK(worst <= TOL_F32);

    for (int pooling = 0; pooling < 2; pooling++) {
        for (int norm = 0; norm < 2; norm++) {
            float e[64];
            CHECK_OK(mllm_session_embed(s, tok, N, pooling, norm, e));
            double want[64], len = 0;
            for (int i = 0; i < 64; i++) {
                double acc = 0;
                if (pooling == MLLM_POOLING_MEAN) {
                    for (int t = 0; t < N; t++) acc += hid[t * 64 + i];
                    acc /= N;
                } else {
                    acc = hid[(N - 1) * 64 + i];
                }
                want[i] = acc;
                len += acc * acc;
            }
            double dmax = 0;
            for (int i = 0; i < 64; i++) dmax = fmax(dmax, fabs(e[i] - (norm ? want[i] / sqrt(len) : want[i])));
            CHECK(dmax <= TOL_F32);
            CHECK(mllm_session_n_past(s) == 0);
        }
    }
    float e[64];
    CHECK_ERR(mllm_session_embed(s, tok, 0, 0, 0, e), MLLM_ERR_INVALID_ARGUMENT, "no tokens");
    CHECK_ERR(mllm_session_embed(s, tok, N, 5, 0, e), MLLM_ERR_INVALID_ARGUMENT, "pooling");
    CHECK_ERR(mllm_session_score(s, tok, N, NULL), MLLM_ERR_INVALID_ARGUMENT, "nll");
    mllm_session_free(s);
    mllm_model_free(m);
    tiny_free(&tm);
}

/* Quantized weights: the reference uses the dequantized values and, for q8_0, rounds its
 * activations to q8_0 as the engine does. Summation order (f32 vs double) can still flip a
 * rounding decision of an activation by one q8 step (1/127 of the block maximum), which moves
 * logits by ~1e-3 (measured without flips: 2e-6): tolerance 2e-2 still catches layout errors, which scramble logits. */
static void test_quantized_weights(void) {
    int32_t types[] = {MLLM_TYPE_F16, MLLM_TYPE_Q8_0};
    double tols[] = {TOL_F32, 2e-2};
    for (int i = 0; i < 2; i++) {
        tiny_cfg c = tiny_default();
        c.wtype = types[i];
        tiny_model tm;
        tiny_init(&tm, &c);
        mllm_model *m = load_tiny(&tm, 2);
        if (!m) { CHECK(0); continue; }
        mllm_session *s = new_session(m, 32, 8, MLLM_KV_F32, 0, 0);
        int32_t tok[10];
        make_tokens(tok, 10, c.n_vocab, 77);
        double d = check_all_logits(s, &tm, tok, 10, tols[i], mllm_type_name(types[i]));
        printf("%-24s max |logit diff| %.2e\n", mllm_type_name(types[i]), d);
        mllm_session_free(s);
        mllm_model_free(m);
        tiny_free(&tm);
    }
}

/* The Vulkan backend has no K-quant shaders: asked for, it refuses the model naming the type (or
 * is not built at all); AUTO falls back to the CPU. */
static void check_k_quant_not_on_vulkan(const tiny_model *tm) {
    snprintf(g_path, sizeof g_path, "/tmp/mllm_tinyk_%d.gguf", (int)getpid());
    CHECK(tiny_write(tm, g_path) == 0);
    mllm_model_params mp;
    mllm_model_params_init(&mp);
    mp.backend = MLLM_BACKEND_VULKAN;
    mllm_model *m = NULL;
    if (mllm_vulkan_built()) CHECK_ERR(mllm_model_load(g_path, &mp, &m), MLLM_ERR_UNSUPPORTED, "weights of type q4_k are not supported");
    else CHECK_ERR(mllm_model_load(g_path, &mp, &m), MLLM_ERR_BACKEND, "Vulkan");
    mp.backend = MLLM_BACKEND_AUTO;
    CHECK_OK(mllm_model_load(g_path, &mp, &m));
    mllm_model_info info;
    if (m) {
        CHECK_OK(mllm_model_get_info(m, &info));
        CHECK(info.backend == MLLM_BACKEND_CPU);
        mllm_model_free(m);
    }
    unlink(g_path);
}

/* K-quant weights (rows of 256 and 512), token_embd included (the lookup dequantizes it, and it
 * is the tied output head), and a q4_k_m-like mix whose attn_v / ffn_down are Q6_K: its q/k/v
 * weights take q8_1 (q, k) and q8_0 (v) activations. Same reference as above; without a rounding
 * flip the logits agree to <= 2e-5 (measured). These 256-wide random models amplify one flip
 * (an activation within an ulp of a q8 rounding boundary, rounded apart by the two summation
 * orders) to up to ~0.4 on the logits after it (test_vulkan sees the same; here: one flip with
 * the baseline NEON kernels, max 2.1e-2, mean 1e-3), so the criteria are test_vulkan's: mean
 * |difference| <= 2e-2 and maximum <= 0.5. A layout or kernel error moves every logit by
 * O(0.1..1); test_matmul checks the kernels themselves closely. */
static void test_k_quant_weights(void) {
    static const struct { int32_t t, vd; const char *name; } v[] = {
        {MLLM_TYPE_Q4_K, -1, "q4_k"}, {MLLM_TYPE_Q5_K, -1, "q5_k"}, {MLLM_TYPE_Q6_K, -1, "q6_k"},
        {MLLM_TYPE_Q4_K, MLLM_TYPE_Q6_K, "q4_k + q6_k v/down"}};
    for (int i = 0; i < 4; i++) {
        tiny_cfg c = tiny_default();
        c.n_embd = 256;
        c.n_ff = 512;
        c.wtype = v[i].t;
        c.wtype_vd = v[i].vd;
        tiny_model tm;
        tiny_init(&tm, &c);
        mllm_model *m = load_tiny(&tm, 2);
        if (!m) { CHECK(0); continue; }
        mllm_session *s = new_session(m, 32, 8, MLLM_KV_F32, 0, 0);
        int32_t tok[10];
        make_tokens(tok, 10, c.n_vocab, 78);
        double *ref = malloc(sizeof(double) * 10 * (size_t)c.n_vocab), mx = 1e9, mean = 1e9;
        ref_forward(&tm, tok, 10, ref, NULL);
        CHECK_OK(mllm_session_eval(s, tok, 10, MLLM_LOGITS_ALL));
        int32_t rows = 0;
        const float *lg = mllm_session_logits(s, &rows);
        CHECK(lg && rows == 10);
        if (lg && rows == 10) {
            mx = max_diff(lg, ref, 10 * (size_t)c.n_vocab);
            mean = 0;
            for (int e = 0; e < 10 * c.n_vocab; e++) mean += fabs(lg[e] - ref[e]) / (10 * c.n_vocab);
        }
        printf("%-24s max |logit diff| %.2e, mean %.2e\n", v[i].name, mx, mean);
        CHECK(mx <= 0.5 && mean <= 2e-2);
        free(ref);
        mllm_session_free(s);
        mllm_model_free(m);
        if (i == 0) check_k_quant_not_on_vulkan(&tm);
        tiny_free(&tm);
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    test_variants();
    test_incremental_and_modes();
    test_context();
    test_positions();
    test_score_embed();
    test_quantized_weights();
    test_k_quant_weights();
    return test_result("test_model_forward");
}
