/* Public tokenizer API: argument checking and error messages around tokenizer/. */
#include "core/errors.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

#include <stddef.h>

static const mllm_vocab *vocab_of(const mllm_model *model, const char *fn) {
    if (!model) {
        mllm_set_error("%s: model is NULL", fn);
        return NULL;
    }
    return mllm_model_vocab(model);
}

static int check_buffer(const char *fn, const char *what, const void *p, int32_t n) {
    if (n < 0) {
        mllm_set_error("%s: %s size %d is negative", fn, what, (int)n);
        return -1;
    }
    if (n > 0 && !p) {
        mllm_set_error("%s: %s is NULL but its size is %d", fn, what, (int)n);
        return -1;
    }
    return 0;
}

static int check_token(const char *fn, const mllm_vocab *v, int32_t token, int32_t index) {
    int32_t n = mllm_vocab_n_tokens(v);
    if (token >= 0 && token < n) return 0;
    if (index >= 0) mllm_set_error("%s: token %d at index %d is out of range [0, %d)", fn, (int)token, (int)index, (int)n);
    else mllm_set_error("%s: token %d is out of range [0, %d)", fn, (int)token, (int)n);
    return -1;
}

int32_t mllm_tokenize(const mllm_model *model, const char *text, int32_t text_len, int32_t *tokens,
                      int32_t n_max, int32_t add_bos, int32_t parse_special) {
    const char *fn = "mllm_tokenize";
    const mllm_vocab *v = vocab_of(model, fn);
    if (!v || check_buffer(fn, "text", text, text_len) || check_buffer(fn, "tokens", tokens, n_max)) return INT32_MIN;
    if (add_bos < -1 || add_bos > 1) {
        mllm_set_error("%s: add_bos is %d (expected -1, 0 or 1)", fn, (int)add_bos);
        return INT32_MIN;
    }
    if (text_len > MLLM_VOCAB_MAX_TEXT) {
        mllm_set_error("%s: text of %d bytes exceeds the limit of %d bytes per call", fn, (int)text_len, MLLM_VOCAB_MAX_TEXT);
        return INT32_MIN;
    }
    int bos = add_bos == -1 ? mllm_vocab_add_bos(v) : add_bos;
    int32_t n = mllm_vocab_encode(v, text, text_len, tokens, n_max, bos, parse_special != 0);
    if (n == INT32_MIN) mllm_set_error("%s: out of memory encoding %d bytes of text", fn, (int)text_len);
    return n;
}

int32_t mllm_detokenize(const mllm_model *model, const int32_t *tokens, int32_t n_tokens, char *buf, int32_t buf_size) {
    const char *fn = "mllm_detokenize";
    const mllm_vocab *v = vocab_of(model, fn);
    if (!v || check_buffer(fn, "tokens", tokens, n_tokens) || check_buffer(fn, "buf", buf, buf_size)) return INT32_MIN;
    for (int32_t i = 0; i < n_tokens; i++)
        if (check_token(fn, v, tokens[i], i)) return INT32_MIN;
    int32_t n = mllm_vocab_decode(v, tokens, n_tokens, buf, buf_size);
    if (n == INT32_MIN) mllm_set_error("%s: the decoded text of %d tokens exceeds 2 GiB", fn, (int)n_tokens);
    return n;
}

const char *mllm_token_piece(const mllm_model *model, int32_t token) {
    const mllm_vocab *v = vocab_of(model, "mllm_token_piece");
    if (!v || check_token("mllm_token_piece", v, token, -1)) return NULL;
    return mllm_vocab_piece(v, token);
}

float mllm_token_score(const mllm_model *model, int32_t token) {
    const mllm_vocab *v = vocab_of(model, "mllm_token_score");
    if (!v || check_token("mllm_token_score", v, token, -1)) return 0.0f;
    return mllm_vocab_score(v, token);
}

int32_t mllm_token_type_of(const mllm_model *model, int32_t token) {
    const mllm_vocab *v = vocab_of(model, "mllm_token_type_of");
    if (!v || check_token("mllm_token_type_of", v, token, -1)) return -1;
    return mllm_vocab_type(v, token);
}

mllm_status mllm_detokenizer_create(const mllm_model *model, int32_t strip_leading_space, mllm_detokenizer **out) {
    if (!out) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_detokenizer_create: out is NULL");
    *out = NULL;
    const mllm_vocab *v = vocab_of(model, "mllm_detokenizer_create");
    if (!v) return MLLM_ERR_INVALID_ARGUMENT;
    struct mllm_detokenizer *d = mllm_vocab_detok_new(v, strip_leading_space != 0);
    if (!d) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "mllm_detokenizer_create: out of memory");
    *out = d;
    return MLLM_OK;
}

void mllm_detokenizer_free(mllm_detokenizer *detok) { mllm_vocab_detok_free(detok); }

int32_t mllm_detokenizer_push(mllm_detokenizer *detok, int32_t token, char *buf, int32_t buf_size) {
    const char *fn = "mllm_detokenizer_push";
    if (!detok) {
        mllm_set_error("%s: detokenizer is NULL", fn);
        return INT32_MIN;
    }
    if (check_buffer(fn, "buf", buf, buf_size)) return INT32_MIN;
    int32_t n = mllm_vocab_detok_push(detok, token, buf, buf_size);
    if (n == INT32_MIN) mllm_set_error("%s: token %d is out of the vocabulary's range", fn, (int)token);
    return n;
}

int32_t mllm_detokenizer_flush(mllm_detokenizer *detok, char *buf, int32_t buf_size) {
    const char *fn = "mllm_detokenizer_flush";
    if (!detok) {
        mllm_set_error("%s: detokenizer is NULL", fn);
        return INT32_MIN;
    }
    if (check_buffer(fn, "buf", buf, buf_size)) return INT32_MIN;
    return mllm_vocab_detok_flush(detok, buf, buf_size);
}
