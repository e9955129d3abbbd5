/* Session parameters a model file cannot abuse: the default context is capped whatever the file
 * declares (the full training context only on request), memory-absurd contexts are refused
 * before anything is allocated, and n_keep only matters with context shift. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mobilellm.h"
#include "platform/memory.h"
#include "util/test_check.h"
#include "util/tiny_model.h"

static mllm_model *load_cfg(const tiny_cfg *c) {
    tiny_model tm;
    tiny_init(&tm, c);
    char path[64];
    snprintf(path, sizeof path, "/tmp/mllm_sp_%d.gguf", (int)getpid());
    tiny_write(&tm, path);
    tiny_free(&tm);
    mllm_model *m = NULL;
    CHECK_OK(mllm_model_load(path, NULL, &m));
    unlink(path);
    return m;
}

/* n_ctx of a session created with this n_ctx, or -1 with the status in *st. */
static int32_t session_ctx(mllm_model *m, int32_t n_ctx, mllm_status *st) {
    mllm_session_params sp;
    mllm_session_params_init(&sp);
    sp.n_ctx = n_ctx;
    mllm_session *s = NULL;
    *st = mllm_session_create(m, &sp, &s);
    int32_t got = s ? mllm_session_n_ctx(s) : -1;
    mllm_session_free(s);
    return got;
}

static void test_context_defaults(void) {
    mllm_status st;
    /* a small file declaring a 2^20-token context: a default session gets MLLM_DEFAULT_N_CTX */
    tiny_cfg c = tiny_default();
    c.n_ctx = 1 << 20;
    mllm_model *m = load_cfg(&c);
    if (!m) return;
    mllm_model_info in;
    CHECK_OK(mllm_model_get_info(m, &in));
    CHECK(in.n_ctx_train == 1 << 20);
    CHECK(session_ctx(m, 0, &st) == MLLM_DEFAULT_N_CTX && st == MLLM_OK);
    CHECK(session_ctx(m, 100, &st) == 100 && st == MLLM_OK);
    CHECK(session_ctx(m, MLLM_MAX_N_CTX + 1, &st) == -1);
    CHECK_ERR(st, MLLM_ERR_INVALID_ARGUMENT, "n_ctx 1048577 is outside");
    CHECK(session_ctx(m, -2, &st) == -1);
    CHECK_ERR(st, MLLM_ERR_INVALID_ARGUMENT, "n_ctx -2");
    mllm_model_free(m);

    /* below the cap the default is the training context; MLLM_N_CTX_TRAIN asks for it whole */
    c.n_ctx = 64;
    m = load_cfg(&c);
    if (!m) return;
    CHECK(session_ctx(m, 0, &st) == 64 && st == MLLM_OK);
    CHECK(session_ctx(m, MLLM_N_CTX_TRAIN, &st) == 64 && st == MLLM_OK);
    CHECK(session_ctx(m, 500, &st) == 500 && st == MLLM_OK); /* an explicit size may exceed it */
    mllm_model_free(m);
    c.n_ctx = 3 * MLLM_DEFAULT_N_CTX;
    m = load_cfg(&c);
    if (!m) return;
    CHECK(session_ctx(m, 0, &st) == MLLM_DEFAULT_N_CTX && st == MLLM_OK);
    CHECK(session_ctx(m, MLLM_N_CTX_TRAIN, &st) == 3 * MLLM_DEFAULT_N_CTX && st == MLLM_OK);
    mllm_model_free(m);
}

/* 128 applied layers with 256-value f32 K and V rows: 256 KiB of cache per token, 256 GiB for
 * MLLM_MAX_N_CTX tokens. Refused before allocating wherever that exceeds physical memory. */
static void test_memory_bound(void) {
    tiny_cfg c = tiny_default();
    c.arch = "mobilellm";
    c.n_block = 8;
    c.repeat = 16;
    c.n_embd = 256;
    c.n_ff = 64;
    c.n_head = 4;
    c.n_kv = 4;
    mllm_model *m = load_cfg(&c);
    if (!m) return;
    mllm_session_params sp;
    mllm_session_params_init(&sp);
    sp.n_ctx = MLLM_MAX_N_CTX;
    sp.kv_type = MLLM_KV_F32;
    const double kv_bytes = 2.0 * 128 * 256 * 4 * (double)MLLM_MAX_N_CTX;
    const double phys = (double)mllm_physical_memory();
    mllm_session *s = NULL;
    if (kv_bytes > phys) {
        CHECK_ERR(mllm_session_create(m, &sp, &s), MLLM_ERR_OUT_OF_MEMORY, "n_ctx 1048576 needs");
        CHECK(s == NULL);
    } else {
        printf("test_memory_bound: this machine has %.0f GiB; the 256 GiB session fits, bound not exercised\n",
               phys / (1 << 30));
    }
    mllm_session_free(s);
    sp.n_ctx = 16; /* the same model with a small context works */
    CHECK_OK(mllm_session_create(m, &sp, &s));
    int32_t t[2] = {1, 5};
    if (s) CHECK_OK(mllm_session_eval(s, t, 2, MLLM_LOGITS_LAST));
    mllm_session_free(s);
    mllm_model_free(m);
}

/* n_keep only applies to context shifts: a one-token session without shift works with any
 * n_keep >= 0 (a caller keeping BOS passes 1). */
static void test_one_token_session(void) {
    tiny_cfg c = tiny_default();
    mllm_model *m = load_cfg(&c);
    if (!m) return;
    mllm_session_params sp;
    mllm_session_params_init(&sp);
    sp.n_ctx = 1;
    sp.n_keep = 1;
    mllm_session *s = NULL;
    CHECK_OK(mllm_session_create(m, &sp, &s));
    if (s) {
        int32_t t[2] = {1, 5};
        CHECK_OK(mllm_session_eval(s, t, 1, MLLM_LOGITS_LAST));
        int32_t rows = 0;
        CHECK(mllm_session_logits(s, &rows) != NULL && rows == 1);
        CHECK_ERR(mllm_session_eval(s, t + 1, 1, MLLM_LOGITS_LAST), MLLM_ERR_CONTEXT_FULL, "n_ctx 1");
    }
    mllm_session_free(s);
    s = NULL;
    sp.context_shift = 1; /* a shift keeping the whole context could never make room */
    CHECK_ERR(mllm_session_create(m, &sp, &s), MLLM_ERR_INVALID_ARGUMENT, "n_keep 1");
    sp.context_shift = 0;
    sp.n_keep = -1;
    CHECK_ERR(mllm_session_create(m, &sp, &s), MLLM_ERR_INVALID_ARGUMENT, "n_keep -1");
    CHECK(s == NULL);
    mllm_model_free(m);
}

int main(void) {
    test_context_defaults();
    test_memory_bound();
    test_one_token_session();
    return test_result("test_session_params");
}
