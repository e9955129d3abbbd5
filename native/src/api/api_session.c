/* Public session API: argument checks around the session internals. */
#include <string.h>

#include "core/errors.h"
#include "model/session.h"

#define MAX_SESSION_THREADS 512

void mllm_session_params_init(mllm_session_params *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->n_ctx = 0;
    p->n_batch = 256;
    p->kv_type = MLLM_KV_F16;
    p->n_threads = 0;
    p->context_shift = 0;
    p->n_keep = 0;
}

mllm_status mllm_session_create(mllm_model *m, const mllm_session_params *params, mllm_session **out) {
    if (out) *out = NULL;
    if (!m || !out) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_create: model and out_session must not be NULL");
    mllm_session_params p;
    mllm_session_params_init(&p);
    if (params) p = *params;
    if (p.n_ctx < MLLM_N_CTX_TRAIN || p.n_ctx > MLLM_MAX_N_CTX) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "n_ctx %d is outside 1..%d (0 = default, -1 = the model's training context)",
                         p.n_ctx, MLLM_MAX_N_CTX);
    }
    /* the file's context length is a claim, not a budget: only used whole on request */
    if (p.n_ctx == 0) p.n_ctx = m->hp.n_ctx_train < MLLM_DEFAULT_N_CTX ? m->hp.n_ctx_train : MLLM_DEFAULT_N_CTX;
    if (p.n_ctx == MLLM_N_CTX_TRAIN) p.n_ctx = m->hp.n_ctx_train;
    if (p.n_batch < 0) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "n_batch %d is negative", p.n_batch);
    if (p.n_batch == 0) p.n_batch = 256;
    if (p.n_batch > p.n_ctx) p.n_batch = p.n_ctx; /* a chunk never exceeds the context */
    if (p.kv_type != MLLM_KV_F16 && p.kv_type != MLLM_KV_F32 && p.kv_type != MLLM_KV_Q8_0) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "kv_type %d is not MLLM_KV_F16 (0), MLLM_KV_F32 (1) or MLLM_KV_Q8_0 (2)", p.kv_type);
    }
    if (p.n_threads < 0 || p.n_threads > MAX_SESSION_THREADS) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "n_threads %d is outside 0..%d", p.n_threads, MAX_SESSION_THREADS);
    }
    if (p.n_threads == 0) p.n_threads = m->n_threads;
    if (p.context_shift != 0 && p.context_shift != 1) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "context_shift %d must be 0 or 1", p.context_shift);
    }
    if (p.n_keep < 0) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "n_keep %d is negative", p.n_keep);
    if (p.context_shift && p.n_keep >= p.n_ctx) { /* a shift must leave room for new tokens */
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "n_keep %d must be in 0..n_ctx-1 (%d) with context_shift", p.n_keep,
                         p.n_ctx - 1);
    }
    return mllm_session_new(m, &p, out);
}

void mllm_session_free(mllm_session *s) { mllm_session_destroy(s); }

static mllm_status check_tokens_arg(const mllm_session *s, const int32_t *tokens, int32_t n, const char *fn) {
    if (!s) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "%s: session is NULL", fn);
    if (n < 0) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "%s: n_tokens %d is negative", fn, n);
    if (n > 0 && !tokens) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "%s: tokens is NULL", fn);
    return mllm_session_check_free(s, fn);
}

mllm_status mllm_session_eval(mllm_session *s, const int32_t *tokens, int32_t n, int32_t mode) {
    mllm_status st = check_tokens_arg(s, tokens, n, "mllm_session_eval");
    if (st) return st;
    if (mode != MLLM_LOGITS_LAST && mode != MLLM_LOGITS_ALL && mode != MLLM_LOGITS_NONE) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_eval: unknown logits mode %d", mode);
    }
    return mllm_session_eval_impl(s, tokens, n, mode);
}

const float *mllm_session_logits(const mllm_session *s, int32_t *n_rows) {
    if (n_rows) *n_rows = s ? s->n_logits : 0;
    if (!s) {
        mllm_set_error("mllm_session_logits: session is NULL");
        return NULL;
    }
    return s->n_logits > 0 ? s->logits : NULL;
}

int32_t mllm_session_n_past(const mllm_session *s) {
    if (!s) {
        mllm_set_error("mllm_session_n_past: session is NULL");
        return -1;
    }
    return s->n_past;
}

int32_t mllm_session_n_ctx(const mllm_session *s) {
    if (!s) {
        mllm_set_error("mllm_session_n_ctx: session is NULL");
        return -1;
    }
    return s->params.n_ctx;
}

mllm_status mllm_session_truncate(mllm_session *s, int32_t n_keep) {
    if (!s) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_truncate: session is NULL");
    mllm_status st = mllm_session_check_free(s, "mllm_session_truncate");
    if (st) return st;
    if (n_keep < 0 || n_keep > s->n_past) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_truncate: n_keep %d is outside 0..n_past (%d)", n_keep, s->n_past);
    }
    mllm_session_truncate_impl(s, n_keep);
    return MLLM_OK;
}

mllm_status mllm_session_reset(mllm_session *s) { return mllm_session_truncate(s, 0); }

mllm_status mllm_session_score(mllm_session *s, const int32_t *tokens, int32_t n, float *nll) {
    mllm_status st = check_tokens_arg(s, tokens, n, "mllm_session_score");
    if (st) return st;
    if (n > 1 && !nll) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_score: nll is NULL");
    return mllm_session_score_impl(s, tokens, n, nll);
}

mllm_status mllm_session_embed(mllm_session *s, const int32_t *tokens, int32_t n, int32_t pooling, int32_t normalize,
                               float *out) {
    mllm_status st = check_tokens_arg(s, tokens, n, "mllm_session_embed");
    if (st) return st;
    if (n == 0) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_embed: no tokens to embed");
    if (!out) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_embed: out is NULL");
    if (pooling != MLLM_POOLING_MEAN && pooling != MLLM_POOLING_LAST) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_embed: unknown pooling %d", pooling);
    }
    return mllm_session_embed_impl(s, tokens, n, pooling, normalize, out);
}

mllm_status mllm_session_embedding(const mllm_session *s, float *out) {
    if (!s || !out) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_embedding: session and out must not be NULL");
    if (!s->has_embedding) {
        return mllm_fail(MLLM_ERR_STATE, "mllm_session_embedding: the session holds no embedding (none was added to a decoded "
                                         "batch since its last model call)");
    }
    memcpy(out, s->embedding, (size_t)s->model->hp.n_embd * sizeof *out);
    return MLLM_OK;
}

mllm_status mllm_session_set_abort_callback(mllm_session *s, mllm_abort_callback cb, void *user_data) {
    if (!s) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_set_abort_callback: session is NULL");
    s->abort_cb = cb;
    s->abort_ud = cb ? user_data : NULL;
    return MLLM_OK;
}

mllm_status mllm_session_cancel(mllm_session *s) {
    if (!s) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_session_cancel: session is NULL");
    atomic_store(&s->cancel, 1);
    return MLLM_OK;
}
