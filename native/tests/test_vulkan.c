/* Vulkan backend against the CPU backend (built only when the Vulkan backend is; runs on any
 * Vulkan device, lavapipe in CI), with the Khronos validation layer enabled when installed
 * (MLLM_VULKAN_VALIDATION=1 is set here) and required to report no error.
 *
 * 1. Tiny random models (util/tiny_model.h) with f32, f16, q8_0 and q4_0 weights, plain llama with
 *    GQA, MobileLLM layer sharing and an untied head, F32 and F16 KV caches: prompt logits over
 *    several chunks (prompt batches with n_past > 0), greedy decoding, scoring, embeddings
 *    (normed hidden states read back instead of logits), prompts longer than one attention chunk
 *    (128 keys) and context shifts. Together these run every op of the graph (embedding lookup,
 *    RMS norm with fused residual, matmul/matvec per weight type, RoPE + KV store, attention,
 *    SwiGLU, output head) on the GPU and compare it with the CPU backend.
 *    MobileLLM-R1 and MobileLLM-Pro shaped models (QK-norm, RoPE factors, sliding-window rings, NoPE
 *    with temperature tuning) run the same way, context shifts of rings included.
 * 2. The reference checkpoints (testdata/checkpoints, converted to GGUF by util/checkpoints.h):
 *    the same greedy tokens as the CPU backend and as transformers, and logits within the
 *    tolerances test_model_parity.c uses against transformers.
 *
 * Tolerances against the CPU backend. Both backends compute in f32 from bit-identical weights and,
 * for q8_0/q4_0 weights, the same q8_0 rounding of activations (the GPU's integer block sums are
 * exact, like the CPU's); K/V go to an F16 cache with the same round-to-nearest-even. What differs
 * is summation order (blocked tree reductions on the GPU), the RMS sum (f32 on the GPU, f64 on
 * the CPU), exp() accuracy and the online softmax: a few f32 ulps per value, which 2-6 layers
 * amplify to 1e-6..3e-5 on logits of magnitude <= ~15 (measured, printed below): TOL_F32KV =
 * 5e-4 keeps a >15x margin. With an F16 cache those ulp-level differences decide some f16
 * roundings of K/V differently (one f16 ulp, 2^-11 relative), and peaked attention carries that
 * to ~1e-3 on logits (measured up to 2.5e-3; test_model_parity measures ~8e-3 between the CPU's
 * F16 cache and transformers): TOL_F16KV = 1e-2, still a third of the parity test's F16
 * tolerance. q8_0/q4_0 weights: activations are rounded to q8_0 before each matmul, a
 * discontinuous step; an activation that lands within an ulp of a rounding boundary can be
 * rounded one quantum (1/127 of its block's maximum) apart by the two backends, and these random
 * tiny models (peaked attention, large weights) amplify that single step to up to ~0.2 on some
 * logits (measured: 6.5e-2 between an H200 and the CPU; the CPU itself differs by 0.16 from the
 * double-precision reference on a 150-token q8_0 prompt, same cause). So quantized cases check
 * the mean |difference| over all compared values against TOL_MEAN_Q = 2e-2 (measured 1e-6 without
 * a flip, up to 8.5e-3 with one; a wrong kernel gives means of O(0.1..1)) and the maximum against
 * TOL_MAX_Q = 0.5 (measured up to 0.17). A wrong index, stride or a missing op moves logits by
 * O(0.1..1) everywhere. Greedy tokens must be identical everywhere. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/vulkan/backend_vulkan.h"
#include "mobilellm.h"
#include "util/checkpoints.h"
#include "util/vulkan_device.h"
#include "util/test_check.h"
#include "util/tiny_model.h"


#define TOL_F32KV 5e-4
#define TOL_F16KV 1e-2
#define TOL_MEAN_Q 2e-2
#define TOL_MAX_Q 0.5

static double g_worst = 0, g_sum = 0;
static size_t g_cnt = 0;

static mllm_model *load(const char *path, int backend) {
    mllm_model_params mp;
    mllm_model_params_init(&mp);
    mp.n_threads = 2;
    mp.backend = backend;
    mllm_model *m = NULL;
    mllm_status s = mllm_model_load(path, &mp, &m);
    if (s) fprintf(stderr, "load (%s) failed: %s\n", backend == MLLM_BACKEND_VULKAN ? "vulkan" : "cpu", mllm_last_error());
    return m;
}

static double max_diff(const float *a, const float *b, size_t n) {
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double x = fabs((double)a[i] - b[i]);
        if (!(x <= d)) d = x; /* NaN wins */
        g_sum += x;
    }
    g_cnt += n;
    if (d > g_worst) g_worst = d;
    return d;
}

static int32_t argmax(const float *x, int n) {
    int32_t b = 0;
    for (int i = 1; i < n; i++) if (x[i] > x[b]) b = i;
    return b;
}

typedef struct pair {
    mllm_model *m[2]; /* cpu, vulkan */
    mllm_session *s[2];
} pair;

static int pair_open(pair *p, const char *path, const mllm_session_params *sp) {
    memset(p, 0, sizeof *p);
    p->m[0] = load(path, MLLM_BACKEND_CPU);
    p->m[1] = load(path, MLLM_BACKEND_VULKAN);
    CHECK(p->m[0] && p->m[1]);
    if (!p->m[0] || !p->m[1]) return -1;
    mllm_model_info info;
    CHECK_OK(mllm_model_get_info(p->m[1], &info));
    CHECK(info.backend == MLLM_BACKEND_VULKAN);
    for (int b = 0; b < 2; b++) {
        mllm_status s = mllm_session_create(p->m[b], sp, &p->s[b]);
        if (s) {
            fprintf(stderr, "session (%d) failed: %s\n", b, mllm_last_error());
            g_fail++;
            return -1;
        }
    }
    return 0;
}

static void pair_close(pair *p) {
    for (int b = 0; b < 2; b++) {
        mllm_session_free(p->s[b]);
        mllm_model_free(p->m[b]);
    }
}

/* Evaluates tokens on both (mode), compares the logits; returns the max difference. */
static double eval_both(pair *p, const int32_t *t, int n, int mode, int n_vocab) {
    const float *lg[2];
    int32_t rows[2];
    for (int b = 0; b < 2; b++) {
        CHECK_OK(mllm_session_eval(p->s[b], t, n, mode));
        lg[b] = mllm_session_logits(p->s[b], &rows[b]);
    }
    CHECK(lg[0] && lg[1] && rows[0] == rows[1]);
    if (!lg[0] || !lg[1] || rows[0] != rows[1]) return INFINITY;
    return max_diff(lg[0], lg[1], (size_t)rows[0] * n_vocab);
}

/* Prompt (chunked), greedy decode with identical choices, score, embed. */
static void tiny_case(const char *label, tiny_cfg cfg, int kv_type, int n_ctx, int n_batch, int n_prompt, int n_gen,
                      int shift) {
    tiny_model tm;
    tiny_init(&tm, &cfg);
    char path[64];
    snprintf(path, sizeof path, "/tmp/mllm_vk_%d.gguf", (int)getpid());
    CHECK(tiny_write(&tm, path) == 0);
    mllm_session_params sp;
    mllm_session_params_init(&sp);
    sp.n_ctx = n_ctx;
    sp.n_batch = n_batch;
    sp.kv_type = kv_type;
    sp.context_shift = shift;
    sp.n_keep = shift ? 1 : 0;
    pair p;
    g_sum = 0;
    g_cnt = 0;
    if (pair_open(&p, path, &sp) == 0) {
        const int V = cfg.n_vocab;
        int32_t *toks = malloc(sizeof(int32_t) * (size_t)(n_prompt + n_gen + 1));
        uint64_t seed = cfg.seed ^ 77;
        for (int i = 0; i < n_prompt; i++) toks[i] = 3 + (int32_t)((tiny_rand(&seed) + 1.0) * 0.5 * (V - 4));
        double d_prompt = eval_both(&p, toks, n_prompt, shift ? MLLM_LOGITS_LAST : MLLM_LOGITS_ALL, V);
        double d_gen = 0;
        int agree = 1;
        for (int g = 0; g < n_gen; g++) {
            int32_t r0, r1;
            const float *l0 = mllm_session_logits(p.s[0], &r0), *l1 = mllm_session_logits(p.s[1], &r1);
            if (!l0 || !l1) break;
            int32_t t0 = argmax(l0 + (size_t)(r0 - 1) * V, V), t1 = argmax(l1 + (size_t)(r1 - 1) * V, V);
            agree &= t0 == t1;
            double d = eval_both(&p, &t0, 1, MLLM_LOGITS_LAST, V);
            if (d > d_gen) d_gen = d;
        }
        CHECK(mllm_session_n_past(p.s[0]) == mllm_session_n_past(p.s[1]));
        double d_score = 0, d_embed = 0;
        if (!shift) {
            float *nll[2], *emb[2];
            for (int b = 0; b < 2; b++) {
                nll[b] = calloc((size_t)n_prompt, sizeof(float));
                emb[b] = calloc((size_t)cfg.n_embd, sizeof(float));
                CHECK_OK(mllm_session_reset(p.s[b]));
                CHECK_OK(mllm_session_score(p.s[b], toks, n_prompt, nll[b]));
                CHECK_OK(mllm_session_embed(p.s[b], toks, n_prompt, MLLM_POOLING_MEAN, 1, emb[b]));
            }
            d_score = max_diff(nll[0], nll[1], (size_t)n_prompt - 1);
            d_embed = max_diff(emb[0], emb[1], (size_t)cfg.n_embd);
            for (int b = 0; b < 2; b++) {
                free(nll[b]);
                free(emb[b]);
            }
        }
        const double mean = g_cnt ? g_sum / (double)g_cnt : 0;
        printf("%-34s %s kv: prompt %.1e  decode %.1e  score %.1e  embed %.1e  mean %.1e  greedy %s\n", label,
               kv_type == MLLM_KV_F32 ? "f32" : "f16", d_prompt, d_gen, d_score, d_embed, mean, agree ? "same" : "DIFFERENT");
        const int quant = cfg.wtype == MLLM_TYPE_Q8_0 || cfg.wtype == MLLM_TYPE_Q4_0;
        const double tol = quant ? TOL_MAX_Q : kv_type == MLLM_KV_F32 ? TOL_F32KV : TOL_F16KV;
        CHECK(d_prompt <= tol && d_gen <= tol && d_score <= tol && d_embed <= tol);
        if (quant) CHECK(mean <= TOL_MEAN_Q);
        CHECK(agree);
        free(toks);
    }
    pair_close(&p);
    unlink(path);
    tiny_free(&tm);
}

/* Reference checkpoint: Vulkan vs transformers (the parity test's tolerances) and vs the CPU. */
static void checkpoint_case(const spec *sp, int kv_type) {
    char gguf[64], path[512];
    snprintf(gguf, sizeof gguf, "/tmp/mllm_vkp_%d.gguf", (int)getpid());
    CHECK(convert(sp, gguf) == 0);
    snprintf(path, sizeof path, "%s/reference/%s.json", MLLM_TEST_DATA, sp->name);
    char *json = read_all(path, NULL);
    snprintf(path, sizeof path, "%s/reference/%s.logits.f32", MLLM_TEST_DATA, sp->name);
    size_t ref_len = 0;
    float *ref = (float *)read_all(path, &ref_len);
    CHECK(json && ref);
    mllm_session_params spp;
    mllm_session_params_init(&spp);
    spp.kv_type = kv_type;
    spp.n_ctx = 256;
    pair p;
    if (json && ref && pair_open(&p, gguf, &spp) == 0) {
        const double tol_ref = kv_type == MLLM_KV_F32 ? TOL_F32 : TOL_F16, min_margin = kv_type == MLLM_KV_F32 ? 1e-2 : 5e-2;
        double ids_d[64], greedy_d[64], margin[64], d_cpu = 0, d_ref = 0;
        int32_t ids[64];
        int compared = 0, agree_ref = 0, agree_cpu = 1;
        for (int pr = 0; pr < 3; pr++) {
            int n = json_array(json, "\"ids\": [", pr, ids_d, 64);
            int ng = json_array(json, "\"greedy_ids\": [", pr, greedy_d, 64);
            int nm = json_array(json, "\"greedy_top2_margins\": [", pr, margin, 64);
            CHECK(n > 1 && ng == nm && ng > 0);
            for (int i = 0; i < n; i++) ids[i] = (int32_t)ids_d[i];
            for (int b = 0; b < 2; b++) CHECK_OK(mllm_session_reset(p.s[b]));
            double d = eval_both(&p, ids, n, MLLM_LOGITS_ALL, sp->vocab);
            if (d > d_cpu) d_cpu = d;
            int32_t rows;
            const float *lg = mllm_session_logits(p.s[1], &rows);
            if (!lg) continue;
            if (pr == 0 && ref_len == sizeof(float) * (size_t)n * sp->vocab) {
                for (size_t i = 0; i < ref_len / sizeof(float); i++) d_ref = fmax(d_ref, fabs((double)lg[i] - ref[i]));
            }
            const float *last = lg + (size_t)(n - 1) * sp->vocab;
            int stop_ref = 0;
            for (int g = 0; g < ng; g++) {
                int32_t r0;
                const float *l0 = mllm_session_logits(p.s[0], &r0);
                int32_t best = argmax(last, sp->vocab), best_cpu = argmax(l0 + (size_t)(r0 - 1) * sp->vocab, sp->vocab);
                agree_cpu &= best == best_cpu;
                if (!stop_ref && margin[g] >= min_margin) {
                    compared++;
                    agree_ref += best == (int32_t)greedy_d[g];
                } else {
                    stop_ref = 1;
                }
                d = eval_both(&p, &best, 1, MLLM_LOGITS_LAST, sp->vocab);
                if (d > d_cpu) d_cpu = d;
                last = mllm_session_logits(p.s[1], &rows);
            }
        }
        printf("%-34s %s kv: vs transformers %.1e (tol %.0e), vs cpu %.1e; greedy: %d/%d as transformers, %s as cpu\n",
               sp->name, kv_type == MLLM_KV_F32 ? "f32" : "f16", d_ref, tol_ref, d_cpu, agree_ref, compared,
               agree_cpu ? "same" : "DIFFERENT");
        CHECK(d_ref <= tol_ref);
        CHECK(d_cpu <= (kv_type == MLLM_KV_F32 ? TOL_F32KV : TOL_F16KV));
        CHECK(compared > 0 && agree_ref == compared);
        CHECK(agree_cpu);
        pair_close(&p);
    }
    unlink(gguf);
    free(json);
    free(ref);
}


int main(void) {
    enable_vulkan_validation();
    char no_device[512] = "";
    /* a Vulkan device to test on; a clear error for a device index that does not exist; AUTO never picks lavapipe */
    {
        tiny_cfg c = tiny_default();
        tiny_model tm;
        tiny_init(&tm, &c);
        char path[64];
        snprintf(path, sizeof path, "/tmp/mllm_vke_%d.gguf", (int)getpid());
        CHECK(tiny_write(&tm, path) == 0);
        mllm_model_params mp;
        mllm_model_params_init(&mp);
        mp.backend = MLLM_BACKEND_VULKAN;
        mllm_model *m = NULL;
        if (mllm_model_load(path, &mp, &m) != MLLM_OK && no_vulkan_device(mllm_last_error())) {
            snprintf(no_device, sizeof no_device, "%s", mllm_last_error());
        }
        if (m) mllm_model_free(m);
        m = NULL;
        if (!no_device[0]) {
            mp.gpu_device = 99;
            CHECK_ERR(mllm_model_load(path, &mp, &m), MLLM_ERR_BACKEND, "gpu_device 99");
        }
        mp.backend = MLLM_BACKEND_AUTO;
        mp.gpu_device = -1;
        CHECK_OK(mllm_model_load(path, &mp, &m));
        mllm_model_info info;
        if (m) {
            CHECK_OK(mllm_model_get_info(m, &info));
            /* AUTO takes a GPU, never a CPU implementation such as lavapipe */
            printf("AUTO chose the %s backend\n", info.backend == MLLM_BACKEND_VULKAN ? "Vulkan" : "CPU");
            CHECK(info.backend == MLLM_BACKEND_VULKAN || info.backend == MLLM_BACKEND_CPU);
            mllm_model_free(m);
        }
        unlink(path);
        tiny_free(&tm);
    }
    if (no_device[0]) {
        /* CI installs lavapipe (mesa-vulkan-drivers), so there a missing device is an error */
        if (getenv("CI")) {
            fprintf(stderr, "test_vulkan: no Vulkan device in CI: %s\n", no_device);
            return 1;
        }
        printf("test_vulkan: skipped: %s\n", no_device);
        return g_fail ? test_result("test_vulkan") : SKIPPED; /* the checks above ran all the same */
    }
    const int32_t types[] = {MLLM_TYPE_F32, MLLM_TYPE_F16, MLLM_TYPE_Q8_0, MLLM_TYPE_Q4_0};
    const char *tn[] = {"f32", "f16", "q8_0", "q4_0"};
    for (int t = 0; t < 4; t++) {
        char label[64];
        tiny_cfg c = tiny_default();
        c.wtype = types[t];
        snprintf(label, sizeof label, "tiny llama %s", tn[t]);
        tiny_case(label, c, MLLM_KV_F32, 64, 5, 13, 8, 0);
        tiny_case(label, c, MLLM_KV_F16, 64, 64, 13, 8, 0);
        c.arch = "mobilellm";
        c.repeat = 2;
        c.n_head = 6;
        c.n_kv = 2;
        c.n_embd = 96;
        c.tied = 0;
        snprintf(label, sizeof label, "tiny mobilellm-shared untied %s", tn[t]);
        tiny_case(label, c, MLLM_KV_F16, 64, 8, 21, 6, 0);
    }
    {
        tiny_cfg c = tiny_default();
        c.wtype = MLLM_TYPE_F16;
        tiny_case("tiny llama f16, 150-token prompt", c, MLLM_KV_F16, 320, 64, 150, 20, 0);
        c.wtype = MLLM_TYPE_F16;
        tiny_case("tiny llama f16, context shifts", c, MLLM_KV_F32, 16, 4, 10, 30, 1);
    }
    { /* head_dim 64, as in every MobileLLM, with an f16 cache: the one-dispatch decode attention
       * (attention_dec.comp; 150 + 40 keys span up to 12 slices merged by the last workgroup).
       * f16 weights: these wider random models turn a single q8_0 activation rounding flip into
       * logit differences of ~0.4 (seen on the prompt path too), which would hide a kernel error;
       * the quantized matvecs and their fused RoPE epilogue are covered by the cases above. */
        tiny_cfg c = tiny_default();
        c.n_embd = 256;
        c.n_head = 4;
        c.n_kv = 2;
        c.n_ff = 384;
        c.wtype = MLLM_TYPE_F16; /* float weights: no q8_0 rounding flips to hide a kernel error */
        tiny_case("tiny llama f16, head_dim 64", c, MLLM_KV_F16, 320, 64, 150, 40, 0);
        c.arch = "mobilellm";
        c.repeat = 2;
        c.n_embd = 384;
        c.n_head = 6;
        tiny_case("tiny mobilellm-shared f16, head_dim 64", c, MLLM_KV_F16, 96, 8, 21, 40, 0);
    }
    { /* MobileLLM-R1 (llama4: QK-norm after RoPE, Llama 3 RoPE factors) and MobileLLM-Pro (sliding
       * windows in rings that prompts and decoding write over many times, NoPE layers with
       * temperature tuning): the standalone rope_store kernel and the attention kernels' key ranges */
        tiny_cfg c = tiny_default();
        c.wtype = MLLM_TYPE_F16;
        c.arch = "llama4";
        c.rope_freqs = 1;
        tiny_case("tiny llama4 (R1) f16", c, MLLM_KV_F32, 64, 5, 13, 8, 0);
        tiny_case("tiny llama4 (R1) f16", c, MLLM_KV_F16, 64, 64, 13, 8, 0);
        c = tiny_pro();
        c.wtype = MLLM_TYPE_F16;
        tiny_case("tiny mobilellm-pro rings f16", c, MLLM_KV_F32, 64, 4, 21, 12, 0);
        tiny_case("tiny mobilellm-pro rings f16", c, MLLM_KV_F16, 64, 8, 21, 12, 0);
        tiny_case("tiny mobilellm-pro rings, context shifts", c, MLLM_KV_F32, 24, 4, 10, 40, 1);
        c.n_embd = 256; /* head_dim 64: the one-dispatch decode attention over a ring */
        c.n_head = 4;
        c.n_kv = 2;
        c.n_ff = 384;
        tiny_case("tiny mobilellm-pro rings, head_dim 64", c, MLLM_KV_F16, 96, 8, 30, 40, 0);
    }
    for (size_t i = 0; i < N_CHECKPOINTS; i++) {
        checkpoint_case(&k_checkpoints[i], MLLM_KV_F32);
        checkpoint_case(&k_checkpoints[i], MLLM_KV_F16);
    }
    printf("largest difference from the CPU backend: %.2e\n", g_worst);
    if (mllm_vk_validation_enabled()) {
        printf("Khronos validation layer: enabled, %d error(s)\n", mllm_vk_validation_errors());
        CHECK(mllm_vk_validation_errors() == 0);
    } else {
        printf("Khronos validation layer: not installed, not checked\n");
    }
    return test_result("test_vulkan");
}
