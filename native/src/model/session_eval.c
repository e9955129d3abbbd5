/* Evaluating token sequences in chunks of n_batch on the model's compute context: logits for
 * eval, per-token NLL for score, pooled final hidden states for embed. A call that fails (or is
 * cancelled) leaves the session's position where it was before the call. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "model/compute.h"
#include "model/session.h"

/* Fails up front (nothing evaluated) when the tokens cannot fit without a context shift. */
static mllm_status check_fits(const mllm_session *s, int32_t n) {
    if (!s->params.context_shift && (int64_t)s->n_past + n > s->params.n_ctx) {
        return mllm_fail(MLLM_ERR_CONTEXT_FULL, "context full: %d cached + %d new tokens exceed n_ctx %d", s->n_past, n,
                         s->params.n_ctx);
    }
    return MLLM_OK;
}

static int session_abort(void *ctx) { return mllm_session_should_stop(ctx); }

/* Runs c tokens at the session's position as one pass; the compute context is held afterwards
 * (reads, then mllm_compute_end), also when this fails. */
static mllm_status run_chunk(mllm_session *s, const int32_t *tokens, int32_t c, int32_t n_out, int32_t out_hidden) {
    const mllm_seq_rows seq = {.row0 = 0, .n_rows = c, .n_past = s->n_past, .kv = s->kv};
    const mllm_run r = {.tokens = tokens, .n_tokens = c, .seqs = &seq, .n_seqs = 1, .n_out = n_out, .out_hidden = out_hidden,
                        .n_threads = s->params.n_threads, .abort = session_abort, .abort_ctx = s};
    mllm_status st = mllm_compute_begin(s->model->compute, &r);
    /* a run that failed part-way may have written its positions into the rings too */
    mllm_kv_cache_advance(s->kv, s->n_past + c);
    return st;
}

/* A failed call goes back to the position it started at (moved by any context shift it made). */
static mllm_status rollback(mllm_session *s, int32_t start, mllm_status st) {
    s->n_past = start;
    if (st == MLLM_ERR_CANCELLED) mllm_session_cancel_done(s);
    return st;
}

/* Before each chunk: a cancellation requested meanwhile stops the call here. */
static mllm_status check_stop(mllm_session *s) {
    return mllm_session_should_stop(s) ? mllm_fail(MLLM_ERR_CANCELLED, "cancelled") : MLLM_OK;
}

mllm_status mllm_session_eval_impl(mllm_session *s, const int32_t *tokens, int32_t n, int32_t mode) {
    s->n_logits = 0;
    s->has_embedding = 0;
    mllm_status st = mllm_session_check_tokens(s, tokens, n);
    if (!st) st = check_fits(s, n);
    if (!st && mode == MLLM_LOGITS_ALL) st = mllm_session_ensure_logits(s, n);
    if (st) return st;
    const int64_t n_vocab = s->model->hp.n_vocab;
    mllm_compute *cc = s->model->compute;
    int32_t start = s->n_past, done = 0;
    while (done < n) {
        int32_t c = n - done < s->params.n_batch ? n - done : s->params.n_batch;
        if ((st = check_stop(s)) || (st = mllm_session_make_room(s, c, &c, &start))) return rollback(s, start, st);
        const int last = done + c == n;
        int32_t n_out = mode == MLLM_LOGITS_ALL ? c : (mode == MLLM_LOGITS_LAST && last ? 1 : 0);
        st = run_chunk(s, tokens + done, c, n_out, 0);
        if (!st && n_out) st = mllm_compute_read(cc, 0, n_out, s->logits + (size_t)(mode == MLLM_LOGITS_ALL ? done : 0) * (size_t)n_vocab);
        mllm_compute_end(cc);
        if (st) return rollback(s, start, st);
        s->n_past += c;
        done += c;
    }
    s->n_logits = mode == MLLM_LOGITS_ALL ? n : (mode == MLLM_LOGITS_LAST && n > 0 ? 1 : 0);
    return MLLM_OK;
}

/* -log softmax(row)[target], computed stably in double. */
static float nll_of(const float *row, int64_t n, int32_t target) {
    float mx = row[0];
    for (int64_t i = 1; i < n; i++) mx = row[i] > mx ? row[i] : mx;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += exp((double)row[i] - mx);
    return (float)(log(sum) + mx - row[target]);
}

mllm_status mllm_session_score_impl(mllm_session *s, const int32_t *tokens, int32_t n, float *nll) {
    s->n_logits = 0;
    s->has_embedding = 0;
    mllm_status st = mllm_session_check_tokens(s, tokens, n);
    if (!st) st = check_fits(s, n);
    if (st) return st;
    const int64_t n_vocab = s->model->hp.n_vocab;
    mllm_compute *cc = s->model->compute;
    int32_t start = s->n_past, done = 0;
    while (done < n) {
        int32_t c = n - done < s->params.n_batch ? n - done : s->params.n_batch;
        if ((st = check_stop(s)) || (st = mllm_session_make_room(s, c, &c, &start))) return rollback(s, start, st);
        /* row r predicts token done + r + 1; the very last token predicts nothing */
        int32_t n_out = done + c == n ? c - 1 : c;
        st = run_chunk(s, tokens + done, c, c, 0);
        for (int32_t r = 0; !st && r < n_out; r++) {
            st = mllm_compute_read(cc, r, 1, s->row);
            if (!st) nll[done + r] = nll_of(s->row, n_vocab, tokens[done + r + 1]);
        }
        mllm_compute_end(cc);
        if (st) return rollback(s, start, st);
        s->n_past += c;
        done += c;
    }
    return MLLM_OK;
}

void mllm_session_pool_begin(mllm_session *s) {
    for (int32_t i = 0; i < s->model->hp.n_embd; i++) s->pool[i] = 0.0;
}

void mllm_session_pool_add(mllm_session *s, const float *row) {
    for (int32_t i = 0; i < s->model->hp.n_embd; i++) s->pool[i] += row[i];
}

void mllm_session_pool_finish(mllm_session *s, int32_t n_rows, int32_t pooling, int32_t normalize, float *out) {
    const int32_t d = s->model->hp.n_embd;
    const double div = pooling == MLLM_POOLING_MEAN ? (double)n_rows : 1.0;
    double norm = 0.0;
    for (int32_t i = 0; i < d; i++) {
        s->pool[i] /= div;
        norm += s->pool[i] * s->pool[i];
    }
    norm = normalize && norm > 0.0 ? 1.0 / sqrt(norm) : 1.0;
    for (int32_t i = 0; i < d; i++) out[i] = (float)(s->pool[i] * norm);
}

mllm_status mllm_session_embed_impl(mllm_session *s, const int32_t *tokens, int32_t n, int32_t pooling, int32_t normalize,
                                    float *out) {
    mllm_session_truncate_impl(s, 0);
    s->n_logits = 0;
    s->has_embedding = 0;
    mllm_status st = mllm_session_check_tokens(s, tokens, n);
    if (st) return st;
    if (n > s->params.n_ctx) {
        return mllm_fail(MLLM_ERR_CONTEXT_FULL, "cannot embed %d tokens in a context of %d", n, s->params.n_ctx);
    }
    mllm_compute *cc = s->model->compute;
    mllm_session_pool_begin(s);
    int32_t done = 0;
    while (done < n && !st) {
        int32_t c = n - done < s->params.n_batch ? n - done : s->params.n_batch;
        const int last = done + c == n;
        int32_t n_out = pooling == MLLM_POOLING_MEAN ? c : (last ? 1 : 0);
        if ((st = check_stop(s))) break;
        st = run_chunk(s, tokens + done, c, n_out, 1);
        for (int32_t r = 0; !st && r < n_out; r++) {
            st = mllm_compute_read(cc, r, 1, s->row);
            if (!st) mllm_session_pool_add(s, s->row);
        }
        mllm_compute_end(cc);
        s->n_past += c;
        done += c;
    }
    mllm_session_truncate_impl(s, 0);
    if (st == MLLM_ERR_CANCELLED) mllm_session_cancel_done(s);
    if (st) return st;
    mllm_session_pool_finish(s, n, pooling, normalize, out);
    return MLLM_OK;
}
