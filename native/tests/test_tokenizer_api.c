/* The public tokenizer API (mllm_tokenize, mllm_detokenize, mllm_token_*, mllm_detokenizer_*)
 * on a model loaded from a GGUF file written by the tests' tiny-model writer. Its vocabulary:
 * 0 <unk>, 1 <s>, 2 </s>, then two-letter pieces "ax" (3, score -3), "bx" (4, score -4), ...;
 * no U+2581 piece and no byte pieces, so unknown symbols become <unk>. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mobilellm.h"
#include "util/test_check.h"
#include "util/tiny_model.h"

static mllm_model *load_tiny(void) {
    tiny_cfg c = tiny_default();
    tiny_model tm;
    tiny_init(&tm, &c);
    char path[64];
    snprintf(path, sizeof path, "/tmp/mllm_tok_api_%d.gguf", (int)getpid());
    mllm_model *m = NULL;
    if (tiny_write(&tm, path) == 0) {
        mllm_model_params mp;
        mllm_model_params_init(&mp);
        mp.n_threads = 1;
        if (mllm_model_load(path, &mp, &m)) fprintf(stderr, "load failed: %s\n", mllm_last_error());
        unlink(path);
    }
    tiny_free(&tm);
    return m;
}

static int ids_are(const int32_t *got, int32_t n, const int32_t *want, int32_t n_want) {
    return n == n_want && memcmp(got, want, sizeof(int32_t) * (size_t)n) == 0;
}

static void test_tokenize(mllm_model *m) {
    int32_t ids[16];
    /* "▁axbx": ax(-3) merges before bx(-4); "▁" is no piece -> <unk>. */
    int32_t n = mllm_tokenize(m, "axbx", 4, ids, 16, 0, 0);
    CHECK(ids_are(ids, n, (const int32_t[]){0, 3, 4}, 3));
    /* add_bos = -1: the file has no add_bos_token key; the llama default adds BOS. */
    n = mllm_tokenize(m, "axbx", 4, ids, 16, -1, 0);
    CHECK(ids_are(ids, n, (const int32_t[]){1, 0, 3, 4}, 4));
    n = mllm_tokenize(m, "</s>ax", 6, ids, 16, 0, 1);
    CHECK(ids_are(ids, n, (const int32_t[]){2, 0, 3}, 3));
    CHECK(mllm_tokenize(m, "axbx", 4, ids, 2, 0, 0) == -3);
    CHECK(mllm_tokenize(m, "", 0, NULL, 0, 0, 0) == 0);

    CHECK(mllm_tokenize(NULL, "a", 1, ids, 16, 0, 0) == INT32_MIN && strstr(mllm_last_error(), "model is NULL"));
    CHECK(mllm_tokenize(m, "a", -1, ids, 16, 0, 0) == INT32_MIN && strstr(mllm_last_error(), "text size -1"));
    CHECK(mllm_tokenize(m, NULL, 3, ids, 16, 0, 0) == INT32_MIN && strstr(mllm_last_error(), "text is NULL"));
    CHECK(mllm_tokenize(m, "a", 1, NULL, 4, 0, 0) == INT32_MIN && strstr(mllm_last_error(), "tokens is NULL"));
    CHECK(mllm_tokenize(m, "a", 1, ids, 16, 5, 0) == INT32_MIN && strstr(mllm_last_error(), "add_bos"));
    /* refused by its length before a byte is read (the buffer is far shorter than claimed) */
    CHECK(mllm_tokenize(m, "a", INT32_MAX, ids, 16, 0, 0) == INT32_MIN &&
          strstr(mllm_last_error(), "text of 2147483647 bytes exceeds the limit of 715827881 bytes"));
}

static void test_detokenize(mllm_model *m) {
    char buf[64];
    const int32_t t1[4] = {1, 0, 3, 4};
    int32_t n = mllm_detokenize(m, t1, 4, buf, sizeof buf);
    CHECK(n == 9 && memcmp(buf, " \xE2\x81\x87 axbx", 9) == 0); /* <unk> reads " ⁇ " */
    CHECK(mllm_detokenize(m, t1, 4, buf, 3) == -9);
    const int32_t bad[2] = {3, 40};
    CHECK(mllm_detokenize(m, bad, 2, buf, sizeof buf) == INT32_MIN && strstr(mllm_last_error(), "token 40 at index 1"));
    CHECK(mllm_detokenize(NULL, t1, 1, buf, sizeof buf) == INT32_MIN);

    CHECK(mllm_token_piece(m, 3) && strcmp(mllm_token_piece(m, 3), "ax") == 0);
    CHECK(mllm_token_piece(m, 40) == NULL && strstr(mllm_last_error(), "out of range"));
    CHECK(mllm_token_score(m, 4) == -4.0f);
    CHECK(mllm_token_type_of(m, 0) == MLLM_TOKEN_UNKNOWN && mllm_token_type_of(m, 2) == MLLM_TOKEN_CONTROL);
    CHECK(mllm_token_type_of(m, 5) == MLLM_TOKEN_NORMAL && mllm_token_type_of(m, -1) == -1);
}

static void test_detokenizer(mllm_model *m) {
    mllm_detokenizer *d = NULL;
    CHECK_ERR(mllm_detokenizer_create(m, 1, NULL), MLLM_ERR_INVALID_ARGUMENT, "out is NULL");
    CHECK_ERR(mllm_detokenizer_create(NULL, 1, &d), MLLM_ERR_INVALID_ARGUMENT, "model is NULL");
    CHECK(mllm_detokenizer_create(m, 1, &d) == MLLM_OK && d);
    char buf[16];
    CHECK(mllm_detokenizer_push(d, 1, buf, sizeof buf) == 0);
    CHECK(mllm_detokenizer_push(d, 3, buf, sizeof buf) == 2 && memcmp(buf, "ax", 2) == 0);
    CHECK(mllm_detokenizer_push(d, 40, buf, sizeof buf) == INT32_MIN && strstr(mllm_last_error(), "token 40"));
    CHECK(mllm_detokenizer_push(d, 4, NULL, 5) == INT32_MIN && strstr(mllm_last_error(), "buf is NULL"));
    CHECK(mllm_detokenizer_push(NULL, 4, buf, sizeof buf) == INT32_MIN);
    CHECK(mllm_detokenizer_flush(d, buf, sizeof buf) == 0);
    mllm_detokenizer_free(d);
    mllm_detokenizer_free(NULL);
}

int main(void) {
    mllm_model *m = load_tiny();
    CHECK(m != NULL);
    if (!m) return 1;
    test_tokenize(m);
    test_detokenize(m);
    test_detokenizer(m);
    mllm_model_free(m);
    if (g_fail) fprintf(stderr, "%d check(s) failed\n", g_fail);
    else printf("test_tokenizer_api: all checks passed\n");
    return g_fail ? 1 : 0;
}
