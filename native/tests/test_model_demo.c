/* The bundled demo model (trained on Debian licence texts, Q8_0, written by our converter) runs
 * end to end: greedy generation continues the GPL preamble with the licence's own words (the
 * licence text is the independent reference), and evaluation modes agree with each other on
 * real weights (mmap vs read, 1 vs 2 threads, batch vs token-by-token, score vs eval logits). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mobilellm.h"
#include "util/test_check.h"

#define DEMO MLLM_TEST_DATA "/../demo-model/src/main/resources/io/github/mobilellm4j/demo/mobilellm-demo-q8_0.gguf"

static mllm_model *load(int use_mmap, int n_threads) {
    mllm_model_params mp;
    mllm_model_params_init(&mp);
    mp.use_mmap = use_mmap;
    mp.n_threads = n_threads;
    mllm_model *m = NULL;
    mllm_status s = mllm_model_load(DEMO, &mp, &m);
    if (s) fprintf(stderr, "cannot load the demo model %s: %s\n", DEMO, mllm_last_error());
    return m;
}

static double max_diff(const float *a, const float *b, size_t n) {
    double d = 0;
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - b[i]));
    return d;
}

int main(void) {
    mllm_model *m = load(1, 2);
    CHECK(m != NULL);
    if (!m) return test_result("test_model_demo");
    mllm_model_info in;
    CHECK_OK(mllm_model_get_info(m, &in));
    const int V = in.n_vocab;
    const char *prompt = "This program is free software; you can redistribute it and/or modify";
    int32_t tok[64];
    int32_t n = mllm_tokenize(m, prompt, (int32_t)strlen(prompt), tok, 64, 1, 0);
    CHECK(n > 5 && n < 64);
    if (n <= 5 || n >= 64) return test_result("test_model_demo");

    mllm_session *s = NULL;
    CHECK_OK(mllm_session_create(m, NULL, &s));
    mllm_sampler_params sp;
    mllm_sampler_params_init(&sp);
    sp.greedy = 1;
    mllm_sampler *smp = NULL;
    CHECK_OK(mllm_sampler_create(&sp, V, &smp));
    int32_t out[24], n_out = 0;
    CHECK_OK(mllm_generate(s, smp, tok, n, 24, 1, out, &n_out, NULL, NULL, NULL));
    char text[1024] = "";
    int32_t len = mllm_detokenize(m, out, n_out, text, sizeof text - 1);
    if (len >= 0) text[len] = '\0';
    printf("demo continuation: %s\n", text);
    CHECK(strstr(text, "General Public License") != NULL);

    /* all logits of the prompt: the reference for the other modes */
    static float all[64 * 2048];
    CHECK(V <= 2048);
    CHECK_OK(mllm_session_reset(s));
    CHECK_OK(mllm_session_eval(s, tok, n, MLLM_LOGITS_ALL));
    int32_t rows = 0;
    const float *lg = mllm_session_logits(s, &rows);
    CHECK(lg && rows == n);
    if (!lg || V > 2048) return test_result("test_model_demo");
    memcpy(all, lg, sizeof(float) * (size_t)n * V);

    /* token by token: the same within f32 rounding of differently blocked sums (1e-3 on logits
     * of magnitude ~10-20: activations are rounded to q8_0 identically in both paths) */
    CHECK_OK(mllm_session_reset(s));
    double worst = 0;
    for (int i = 0; i < n; i++) {
        CHECK_OK(mllm_session_eval(s, &tok[i], 1, MLLM_LOGITS_LAST));
        lg = mllm_session_logits(s, &rows);
        if (lg) worst = fmax(worst, max_diff(lg, all + (size_t)i * V, (size_t)V));
    }
    printf("incremental vs batch: %.2e\n", worst);
    CHECK(worst <= 1e-3);

    /* score = -log softmax of those logits at the next token */
    float nll[64];
    CHECK_OK(mllm_session_reset(s));
    CHECK_OK(mllm_session_score(s, tok, n, nll));
    worst = 0;
    for (int i = 0; i + 1 < n; i++) {
        const float *r = all + (size_t)i * V;
        double mx = r[0], sum = 0;
        for (int v = 1; v < V; v++) mx = fmax(mx, r[v]);
        for (int v = 0; v < V; v++) sum += exp(r[v] - mx);
        worst = fmax(worst, fabs(log(sum) + mx - r[tok[i + 1]] - nll[i]));
    }
    CHECK(worst <= 1e-3);

    /* read instead of mmap, one thread: identical weights, so the same logits */
    mllm_model *m2 = load(0, 1);
    mllm_session *s2 = NULL;
    if (m2) CHECK_OK(mllm_session_create(m2, NULL, &s2));
    if (s2) {
        CHECK_OK(mllm_session_eval(s2, tok, n, MLLM_LOGITS_ALL));
        lg = mllm_session_logits(s2, &rows);
        CHECK(lg && rows == n && max_diff(lg, all, (size_t)n * V) <= 1e-3);
    }
    mllm_session_free(s2);
    mllm_model_free(m2);
    mllm_sampler_free(smp);
    mllm_session_free(s);
    mllm_model_free(m);
    return test_result("test_model_demo");
}
