/* Shared helper of the tokenizer tests: a hand-built vocabulary. */
#ifndef TEST_TOKENIZER_UTIL_H
#define TEST_TOKENIZER_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mobilellm.h"
#include "tokenizer/tokenizer.h"
#include "util/test_check.h"

#define SP "\xE2\x96\x81" /* U+2581, SentencePiece's space */

typedef struct test_piece {
    const char *piece;
    float score;
    int32_t type;
} test_piece;

/* The vocabulary: <unk> <s> </s>, optionally the 256 byte pieces <0x00>..<0xFF>, then `extra`.
 * ids[] receives nothing; look ids up with test_id(). */
typedef struct test_vocab {
    mllm_vocab *v;
    int32_t n;
    const char *pieces[600];
    uint32_t lens[600];
    float scores[600];
    int32_t types[600];
    char byte_names[256][8];
} test_vocab;

static inline void test_vocab_build(test_vocab *tv, const test_piece *extra, int32_t n_extra, int with_bytes,
                             int add_space_prefix) {
    static const test_piece head[3] = {{"<unk>", 0, MLLM_TOKEN_UNKNOWN}, {"<s>", 0, MLLM_TOKEN_CONTROL}, {"</s>", 0, MLLM_TOKEN_CONTROL}};
    tv->n = 0;
    for (int i = 0; i < 3; i++) {
        tv->pieces[tv->n] = head[i].piece;
        tv->scores[tv->n] = head[i].score;
        tv->types[tv->n++] = head[i].type;
    }
    for (int b = 0; with_bytes && b < 256; b++) {
        snprintf(tv->byte_names[b], sizeof tv->byte_names[b], "<0x%02X>", b);
        tv->pieces[tv->n] = tv->byte_names[b];
        tv->scores[tv->n] = 0;
        tv->types[tv->n++] = MLLM_TOKEN_BYTE;
    }
    for (int32_t i = 0; i < n_extra; i++) {
        tv->pieces[tv->n] = extra[i].piece;
        tv->scores[tv->n] = extra[i].score;
        tv->types[tv->n++] = extra[i].type;
    }
    for (int32_t i = 0; i < tv->n; i++) tv->lens[i] = (uint32_t)strlen(tv->pieces[i]);
    mllm_vocab_desc d = {.n_tokens = tv->n, .pieces = tv->pieces, .piece_lens = tv->lens, .scores = tv->scores, .types = tv->types,
                         .bos = 1, .eos = 2, .unk = 0, .pad = -1, .add_bos = 1, .add_space_prefix = add_space_prefix};
    char err[256] = "";
    tv->v = mllm_vocab_create(&d, err, sizeof err);
    if (!tv->v) {
        fprintf(stderr, "vocab_create failed: %s\n", err);
        exit(1);
    }
}

static inline int32_t test_id(const test_vocab *tv, const char *piece) {
    for (int32_t i = 0; i < tv->n; i++)
        if (strcmp(tv->pieces[i], piece) == 0) return i;
    fprintf(stderr, "test bug: piece '%s' not in the test vocabulary\n", piece);
    exit(1);
}

/* Encodes text and compares with the expected pieces (NULL-terminated list). */
static inline int encode_is(const test_vocab *tv, const char *text, int32_t len, int add_bos, int parse_special,
                     const char *const *expect) {
    int32_t got[4096];
    int32_t n = mllm_vocab_encode(tv->v, text, len, got, 4096, add_bos, parse_special);
    int32_t n_exp = 0;
    while (expect[n_exp]) n_exp++;
    int ok = n == n_exp;
    for (int32_t i = 0; ok && i < n; i++) ok = got[i] == test_id(tv, expect[i]);
    if (!ok) {
        fprintf(stderr, "encode mismatch for \"%.*s\": got %d tokens:", (int)len, text, (int)n);
        for (int32_t i = 0; i < n && i < 64; i++) fprintf(stderr, " [%s]", mllm_vocab_piece(tv->v, got[i]));
        fprintf(stderr, "\n  expected:");
        for (int32_t i = 0; i < n_exp; i++) fprintf(stderr, " [%s]", expect[i]);
        fprintf(stderr, "\n");
    }
    return ok;
}

#define ENCODES(tv, text, bos, special, ...)                                          \
    do {                                                                              \
        static const char *const exp_[] = {__VA_ARGS__, NULL};                        \
        CHECK(encode_is((tv), (text), (int32_t)strlen(text), (bos), (special), exp_)); \
    } while (0)

#define ENCODES_NOTHING(tv, text, bos, special)                                       \
    do {                                                                              \
        static const char *const exp_[] = {NULL};                                     \
        CHECK(encode_is((tv), (text), (int32_t)strlen(text), (bos), (special), exp_)); \
    } while (0)

#endif
