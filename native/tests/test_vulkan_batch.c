/* Serving on the Vulkan backend: scheduled sequences (waiting, joining, chunked prompts) produce
 * the greedy tokens each produces alone, on the reference checkpoints (and those follow
 * transformers) and on tiny q8_0 / q4_0 models (the multi-row decode kernels); eight sessions
 * share one weight copy and one compute state; a restored state continues as the saved session;
 * sequences with sliding-window rings scheduled together equal full caches alone (bc_rings);
 * embeddings of texts batched together equal each embedded alone; the integer dot product kernels
 * give the same logits as the byte-by-byte ones.
 * Skipped (77) where no Vulkan device exists, except in CI. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/batch_checks.h"
#include "util/tiny_model.h"
#include "util/vulkan_device.h"

/* Prompt logits (the 8-row kernels) and decode logits (the one-row kernels) of model file gguf, with
 * the integer dot product kernels where the device has them (MLLM_VULKAN_DOT4 unset) and without. */
static void dot4_logits(const char *gguf, int n_vocab, int dot4, float *out) {
    set_env("MLLM_VULKAN_DOT4", dot4 ? NULL : "0");
    mllm_model *m = bc_load(gguf, MLLM_BACKEND_VULKAN);
    set_env("MLLM_VULKAN_DOT4", NULL);
    if (!m) return;
    mllm_session *s = bc_session(m, 64);
    int32_t prompt[12], rows = 0;
    for (int i = 0; i < 12; i++) prompt[i] = (int32_t)((i * 29 + 3) % n_vocab);
    const mllm_status st = s ? mllm_session_eval(s, prompt, 12, MLLM_LOGITS_ALL) : MLLM_ERR_STATE;
    CHECK_OK(st);
    if (!st) {
        const float *lg = mllm_session_logits(s, &rows);
        CHECK(lg && rows == 12);
        if (lg && rows == 12) memcpy(out, lg, (size_t)12 * n_vocab * sizeof(float));
        for (int g = 0; g < 3; g++) {
            const int32_t next = lg ? bc_argmax(lg + (size_t)(rows - 1) * n_vocab, n_vocab) : 0;
            CHECK_OK(mllm_session_eval(s, &next, 1, MLLM_LOGITS_LAST));
            lg = mllm_session_logits(s, &rows);
            if (lg) memcpy(out + (size_t)(12 + g) * n_vocab, lg, (size_t)n_vocab * sizeof(float));
        }
    }
    mllm_session_free(s);
    mllm_model_free(m);
}

/* The integer dot product kernels sum the same integers as the byte-by-byte ones: same bits. */
static void dot4_same_bits(const char *gguf, int n_vocab, const char *label) {
    const size_t n = (size_t)15 * n_vocab;
    float *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
    dot4_logits(gguf, n_vocab, 1, a);
    dot4_logits(gguf, n_vocab, 0, b);
    const int same = memcmp(a, b, n * sizeof *a) == 0;
    CHECK(same);
    printf("%s: logits with and without integer dot products %s\n", label, same ? "bit-identical" : "DIFFER");
    free(a);
    free(b);
}

/* One batched decode step of eight sessions (the prompt kernels with the batch fusions) against each
 * session's token evaluated alone (the one-row kernels): the same logits. */
static void decode_step_as_alone(mllm_model *m, int n_vocab, const char *label) {
    enum { K = 8 };
    mllm_session *s[K], *r[K];
    mllm_batch *bt = NULL;
    CHECK_OK(mllm_batch_create(m, K, K, &bt));
    for (int i = 0; i < K; i++) {
        int32_t prompt[20 + K];
        for (int k = 0; k < 20 + i; k++) prompt[k] = (int32_t)((k * 11 + i * 5 + 3) % n_vocab);
        s[i] = bc_session(m, 48);
        r[i] = bc_session(m, 48);
        CHECK_OK(mllm_session_eval(s[i], prompt, 20 + i, MLLM_LOGITS_NONE));
        CHECK_OK(mllm_session_eval(r[i], prompt, 20 + i, MLLM_LOGITS_NONE));
        const int32_t next = (int32_t)((i * 7 + 1) % n_vocab);
        CHECK_OK(mllm_batch_add(bt, s[i], &next, 1, MLLM_LOGITS_LAST));
        CHECK_OK(mllm_session_eval(r[i], &next, 1, MLLM_LOGITS_LAST));
    }
    CHECK_OK(mllm_batch_decode(bt));
    double worst = 0, top = 0;
    for (int i = 0; i < K; i++) {
        int32_t rs = 0, rr = 0;
        const float *ls = mllm_session_logits(s[i], &rs), *lr = mllm_session_logits(r[i], &rr);
        CHECK(ls && lr && rs == 1 && rr == 1);
        for (int k = 0; ls && lr && rs == 1 && rr == 1 && k < n_vocab; k++) {
            worst = fmax(worst, fabs((double)ls[k] - lr[k]));
            top = fmax(top, fabs((double)lr[k]));
        }
    }
    printf("%-28s: a decode step of %d sessions: max |batched - alone| logit %.1e (max |logit| %.2f)\n", label, K, worst, top);
    /* the same integer sums and the same roundings to q8_0 either way; the f32 sums of a kernel
     * may be contracted to fused multiply-adds differently from another's: ~1e-6 of logits ~5 */
    CHECK(worst <= 1e-4 * fmax(top, 1.0), "%s: batched decode logits differ from alone by %.2e", label, worst);
    mllm_batch_free(bt);
    for (int i = 0; i < K; i++) {
        mllm_session_free(s[i]);
        mllm_session_free(r[i]);
    }
}

int main(void) {
    enable_vulkan_validation();
    const char *tmp = getenv("TMPDIR");
    char gguf[512], state[512];
    snprintf(gguf, sizeof gguf, "%s/mllm_vkbatch.gguf", tmp && *tmp ? tmp : "/tmp");
    snprintf(state, sizeof state, "%s/mllm_vkbatch.state", tmp && *tmp ? tmp : "/tmp");
    const int32_t types[] = {MLLM_TYPE_Q8_0, MLLM_TYPE_Q4_0};
    const char *names[] = {"tiny llama q8_0 vulkan", "tiny llama q4_0 vulkan"};
    for (int t = 0; t < 2; t++) {
        tiny_cfg c = tiny_default();
        c.wtype = types[t];
        tiny_model tm;
        tiny_init(&tm, &c);
        CHECK(tiny_write(&tm, gguf) == 0);
        tiny_free(&tm);
        mllm_model_params mp;
        mllm_model_params_init(&mp);
        mp.backend = MLLM_BACKEND_VULKAN;
        mllm_model *m = NULL;
        mllm_status st = mllm_model_load(gguf, &mp, &m);
        if (st && no_vulkan_device(mllm_last_error()) && !getenv("CI")) {
            printf("test_vulkan_batch: skipped: %s\n", mllm_last_error());
            remove(gguf);
            return SKIPPED;
        }
        CHECK_OK(st);
        if (!m) continue;
        bc_same_as_alone(m, c.n_vocab, 6, 4, 7, names[t]);
        /* steps of 5 to 12 rows: the prompt kernels with the batch fusions (MV_BATCH_FUSED_ROWS) */
        bc_same_as_alone(m, c.n_vocab, 12, 12, 16, names[t]);
        dot4_same_bits(gguf, c.n_vocab, names[t]);
        if (t == 0) {
            /* q8_0: every row's activations are rounded to q8_0 alike in either pass, and the f32
             * sums of a few hundred products may run in another order over more rows (~1e-6 of
             * values ~1-3) */
            bc_embeddings_same_as_alone(m, c.n_embd, 1e-4, names[t]);
            /* eight sessions: no more weight or compute memory than one, eight KV caches */
            mllm_memory_info one, eight;
            mllm_session *s[8];
            s[0] = bc_session(m, 64);
            CHECK_OK(mllm_model_get_memory(m, &one));
            for (int i = 1; i < 8; i++) s[i] = bc_session(m, 64);
            CHECK_OK(mllm_model_get_memory(m, &eight));
            CHECK(one.device_memory == 1 && eight.weights_bytes == one.weights_bytes && eight.compute_bytes == one.compute_bytes);
            CHECK(eight.kv_bytes == 8 * one.kv_bytes && one.kv_bytes > 0);
            printf("memory: weights %lld, compute %lld, KV %lld (1 session) / %lld (8 sessions) bytes\n",
                   (long long)eight.weights_bytes, (long long)eight.compute_bytes, (long long)one.kv_bytes,
                   (long long)eight.kv_bytes);
            for (int i = 0; i < 8; i++) mllm_session_free(s[i]);
            const int32_t p[] = {5, 6, 7, 8, 9, 10, 11};
            bc_state_roundtrip(m, c.n_vocab, p, 7, state);
        }
        mllm_model_free(m);
        remove(gguf);
    }
    for (int t = 0; t < 2; t++) { /* 64-value heads over f16 caches: attention_dec, which quantizes its output for wo in batches */
        tiny_cfg c = tiny_default();
        c.wtype = types[t];
        c.n_embd = 256;
        c.n_ff = 384;
        tiny_model tm;
        tiny_init(&tm, &c);
        CHECK(tiny_write(&tm, gguf) == 0);
        tiny_free(&tm);
        mllm_model *m = bc_load(gguf, MLLM_BACKEND_VULKAN);
        const char *label = t ? "tiny llama hd64 q4_0 vulkan" : "tiny llama hd64 q8_0 vulkan";
        if (m) bc_same_as_alone(m, c.n_vocab, 12, 12, 16, label);
        if (m) decode_step_as_alone(m, c.n_vocab, label);
        mllm_model_free(m);
        remove(gguf);
    }
    { /* sliding-window rings of several sequences in one run: head_dim 32 (attention.comp), and 64 over
       * f16 caches (attention_dec: several sequences' decode tokens, each over its own ring, in one dispatch) */
        tiny_cfg c = tiny_pro();
        c.wtype = MLLM_TYPE_F16;
        for (int hd64 = 0; hd64 < 2; hd64++) {
            c.n_embd = hd64 ? 256 : 128;
            c.n_ff = hd64 ? 384 : c.n_ff;
            tiny_model tm;
            tiny_init(&tm, &c);
            CHECK(tiny_write(&tm, gguf) == 0);
            tiny_free(&tm);
            mllm_model *m = bc_load(gguf, MLLM_BACKEND_VULKAN);
            if (m) {
                bc_rings(m, c.n_vocab, hd64 ? MLLM_KV_F16 : MLLM_KV_F32, hd64 ? MLLM_KV_F32 : MLLM_KV_F16,
                         hd64 ? "tiny pro rings hd64 vulkan" : "tiny pro rings hd32 vulkan", state);
            }
            mllm_model_free(m);
            remove(gguf);
        }
    }
    for (size_t i = 0; i < N_CHECKPOINTS; i++) bc_checkpoint_case(&k_checkpoints[i], MLLM_BACKEND_VULKAN, gguf);
    return test_result("test_vulkan_batch");
}
