/* Public batch API: argument checks around model/batch.c. */
#include "core/errors.h"
#include "model/batch.h"

mllm_status mllm_batch_create(mllm_model *m, int32_t max_tokens, int32_t max_seqs, mllm_batch **out) {
    if (out) *out = NULL;
    if (!m || !out) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_batch_create: model and out_batch must not be NULL");
    if (max_tokens < 1 || max_tokens > 65536) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_batch_create: max_tokens %d is outside 1..65536", max_tokens);
    }
    if (max_seqs < 1 || max_seqs > MLLM_MAX_BATCH_SEQS) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_batch_create: max_seqs %d is outside 1..%d", max_seqs, MLLM_MAX_BATCH_SEQS);
    }
    return mllm_batch_new(m, max_tokens, max_seqs, out);
}

void mllm_batch_free(mllm_batch *b) { mllm_batch_destroy(b); }

mllm_status mllm_batch_add(mllm_batch *b, mllm_session *s, const int32_t *tokens, int32_t n, int32_t mode) {
    if (!b || !s) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_batch_add: batch and session must not be NULL");
    if (n < 1 || !tokens) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_batch_add: no tokens (n_tokens %d)", n);
    if (mode != MLLM_LOGITS_LAST && mode != MLLM_LOGITS_ALL && mode != MLLM_LOGITS_NONE) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_batch_add: unknown logits mode %d", mode);
    }
    mllm_status st = mllm_session_check_free(s, "mllm_batch_add");
    return st ? st : mllm_batch_push(b, s, tokens, n, mode);
}

mllm_status mllm_batch_add_embed(mllm_batch *b, mllm_session *s, const int32_t *tokens, int32_t n, int32_t pooling,
                                 int32_t normalize) {
    if (!b || !s) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_batch_add_embed: batch and session must not be NULL");
    if (n < 1 || !tokens) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_batch_add_embed: no tokens to embed (n_tokens %d)", n);
    if (pooling != MLLM_POOLING_MEAN && pooling != MLLM_POOLING_LAST) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_batch_add_embed: unknown pooling %d", pooling);
    }
    mllm_status st = mllm_session_check_free(s, "mllm_batch_add_embed");
    return st ? st : mllm_batch_push_embed(b, s, tokens, n, pooling, normalize);
}

static int batch_abort(void *ctx) {
    const mllm_batch *b = ctx;
    return b->abort_cb(b->abort_ud) != 0;
}

mllm_status mllm_batch_decode(mllm_batch *b) {
    if (!b) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_batch_decode: batch is NULL");
    mllm_status st = MLLM_OK;
    if (b->abort_cb && b->abort_cb(b->abort_ud)) st = mllm_fail(MLLM_ERR_CANCELLED, "cancelled");
    if (!st) st = mllm_batch_run(b, b->abort_cb ? batch_abort : NULL, b);
    mllm_batch_reset(b);
    return st;
}

mllm_status mllm_batch_clear(mllm_batch *b) {
    if (!b) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_batch_clear: batch is NULL");
    mllm_batch_reset(b);
    return MLLM_OK;
}

mllm_status mllm_batch_set_abort_callback(mllm_batch *b, mllm_abort_callback cb, void *user_data) {
    if (!b) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_batch_set_abort_callback: batch is NULL");
    b->abort_cb = cb;
    b->abort_ud = cb ? user_data : NULL;
    return MLLM_OK;
}
