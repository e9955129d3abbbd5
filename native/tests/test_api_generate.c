/* mllm_generate with a greedy sampler follows the reference model's argmax chain, streams text
 * through the callback, stops at EOS, at n_max and when the callback asks, and keeps every
 * returned token in the KV cache. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mobilellm.h"
#include "util/test_check.h"
#include "util/tiny_model.h"

typedef struct cb_state {
    int calls, stop_after;
    int32_t last_token;
    char text[512];
} cb_state;

static int32_t on_token(int32_t token, const char *text, int32_t len, void *ud) {
    cb_state *st = ud;
    st->calls++;
    st->last_token = token;
    strncat(st->text, text, (size_t)len);
    return st->stop_after && st->calls >= st->stop_after;
}

static mllm_model *load(const tiny_model *tm) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/mllm_gen_%d.gguf", (int)getpid());
    tiny_write(tm, path);
    mllm_model *m = NULL;
    CHECK_OK(mllm_model_load(path, NULL, &m));
    unlink(path);
    return m;
}

static int argmax(const double *x, int n) {
    int b = 0;
    for (int i = 1; i < n; i++) if (x[i] > x[b]) b = i;
    return b;
}

int main(void) {
    tiny_cfg c = tiny_default();
    c.eos = 39; /* first pass: an id the chain below does not reach early (checked) */
    tiny_model tm;
    tiny_init(&tm, &c);
    enum { NP = 4, NG = 8 };
    const int32_t prompt[NP] = {1, 7, 12, 30};
    /* reference greedy chain */
    int32_t chain[NG];
    ref_state rs;
    ref_init(&rs, &tm, NP + NG);
    double lg[40];
    for (int i = 0; i < NP; i++) ref_step(&rs, prompt[i], lg, NULL);
    for (int i = 0; i < NG; i++) {
        chain[i] = argmax(lg, 40);
        ref_step(&rs, chain[i], lg, NULL);
    }
    ref_release(&rs);
    int eos_in_chain = 0;
    for (int i = 0; i < NG; i++) eos_in_chain |= chain[i] == 39;

    mllm_model *m = load(&tm);
    if (!m) return test_result("test_api_generate");
    mllm_session *s = NULL;
    CHECK_OK(mllm_session_create(m, NULL, &s));
    mllm_sampler_params sp;
    mllm_sampler_params_init(&sp);
    sp.greedy = 1;
    mllm_sampler *smp = NULL;
    CHECK_OK(mllm_sampler_create(&sp, 40, &smp));
    int32_t out[NG];
    int32_t n_out = -1;
    cb_state st = {0};
    mllm_timings tmg;
    CHECK_OK(mllm_generate(s, smp, prompt, NP, NG, 1, out, &n_out, on_token, &st, &tmg));
    CHECK(n_out == NG && memcmp(out, chain, sizeof chain) == 0);
    CHECK(st.calls == NG && tmg.n_prompt == NP && tmg.n_generated == NG && tmg.prompt_seconds >= 0);
    CHECK(mllm_session_n_past(s) == NP + NG);
    /* the streamed text is the detokenization of the tokens */
    char want[512];
    int32_t wl = mllm_detokenize(m, out, NG, want, sizeof want - 1);
    if (wl >= 0) want[wl] = '\0'; /* the length is the contract; do not rely on a terminator */
    CHECK(wl >= 0 && strcmp(st.text, want) == 0);
    if (strcmp(st.text, want)) fprintf(stderr, "streamed '%s', detokenize '%s'\n", st.text, want);
    if (!eos_in_chain) {
        /* callback stop after 3 tokens */
        CHECK_OK(mllm_session_reset(s));
        cb_state st2 = {.stop_after = 3};
        CHECK_OK(mllm_generate(s, smp, prompt, NP, NG, 0, out, &n_out, on_token, &st2, NULL));
        CHECK(n_out == 3 && memcmp(out, chain, 3 * sizeof(int32_t)) == 0 && mllm_session_n_past(s) == NP + 3);
    }
    /* a context of NP + 3 tokens: three tokens fit, then CONTEXT_FULL with all three cached */
    mllm_session_params cp;
    mllm_session_params_init(&cp);
    cp.n_ctx = NP + 3;
    mllm_session *small = NULL;
    CHECK_OK(mllm_session_create(m, &cp, &small));
    CHECK_ERR(mllm_generate(small, smp, prompt, NP, NG, 1, out, &n_out, NULL, NULL, NULL), MLLM_ERR_CONTEXT_FULL, "context full");
    CHECK(n_out == 3 && memcmp(out, chain, 3 * sizeof(int32_t)) == 0 && mllm_session_n_past(small) == NP + 3);
    mllm_session_free(small);
    /* argument checks */
    CHECK_ERR(mllm_generate(NULL, smp, prompt, NP, NG, 0, out, &n_out, NULL, NULL, NULL), MLLM_ERR_INVALID_ARGUMENT, "NULL");
    CHECK_ERR(mllm_generate(s, smp, prompt, NP, NG, 0, NULL, &n_out, NULL, NULL, NULL), MLLM_ERR_INVALID_ARGUMENT, "out_tokens");
    CHECK_OK(mllm_session_reset(s));
    CHECK_ERR(mllm_generate(s, smp, NULL, 0, NG, 0, out, &n_out, NULL, NULL, NULL), MLLM_ERR_STATE, "no logits");
    /* a sampler for another vocabulary: refused before anything is evaluated */
    mllm_sampler *other = NULL;
    CHECK_OK(mllm_sampler_create(&sp, 41, &other));
    CHECK_OK(mllm_generate(s, smp, prompt, NP, 0, 0, out, &n_out, NULL, NULL, NULL));
    const int32_t past = mllm_session_n_past(s);
    mllm_status gs = mllm_generate(s, other, NULL, 0, NG, 0, out, &n_out, NULL, NULL, NULL);
    CHECK(gs == MLLM_ERR_INVALID_ARGUMENT && n_out == 0 && mllm_session_n_past(s) == past);
    CHECK(strcmp(mllm_last_error(), "mllm_scheduler_submit: the sampler is for 41 tokens, the model has 40") == 0, "%s",
          mllm_last_error());
    mllm_sampler_free(other);
    mllm_session_free(s);
    mllm_model_free(m);
    tiny_free(&tm);

    /* second model, identical weights, EOS = the 3rd greedy token: generation stops before it */
    c.eos = chain[2];
    int first = 0;
    while (chain[first] != chain[2]) first++; /* the EOS id may already occur earlier */
    tiny_init(&tm, &c);
    m = load(&tm);
    if (m) {
        CHECK_OK(mllm_session_create(m, NULL, &s));
        CHECK_OK(mllm_generate(s, smp, prompt, NP, NG, 0, out, &n_out, NULL, NULL, NULL));
        CHECK(n_out == first && memcmp(out, chain, (size_t)first * sizeof(int32_t)) == 0);
        CHECK(mllm_session_n_past(s) == NP + first);
        mllm_session_free(s);
        mllm_model_free(m);
    }
    mllm_sampler_free(smp);
    tiny_free(&tm);
    return test_result("test_api_generate");
}
