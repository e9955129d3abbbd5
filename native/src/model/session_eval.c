/* Evaluating token sequences in chunks of n_batch: logits for eval, per-token NLL for score,
 * pooled final hidden states for embed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "model/session.h"

/* Fails up front (nothing evaluated) when the tokens cannot fit without a context shift. */
static mllm_status check_fits(const mllm_session *s, int32_t n) {
    if (!s->params.context_shift && (int64_t)s->n_past + n > s->params.n_ctx) {
        return mllm_fail(MLLM_ERR_CONTEXT_FULL, "context full: %d cached + %d new tokens exceed n_ctx %d", s->n_past, n,
                         s->params.n_ctx);
    }
    return MLLM_OK;
}

static mllm_status ensure_logits(mllm_session *s, int64_t rows) {
    if (rows <= s->logits_cap) return MLLM_OK;
    const int64_t n_vocab = s->model->hp.n_vocab;
    if ((uint64_t)rows > SIZE_MAX / sizeof(float) / (uint64_t)n_vocab) {
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "logits for %lld rows do not fit in memory", (long long)rows);
    }
    float *p = realloc(s->logits, (size_t)rows * (size_t)n_vocab * sizeof(float));
    if (!p) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "cannot allocate logits for %lld rows", (long long)rows);
    s->logits = p;
    s->logits_cap = rows;
    return MLLM_OK;
}

mllm_status mllm_session_eval_impl(mllm_session *s, const int32_t *tokens, int32_t n, int32_t mode) {
    s->n_logits = 0;
    mllm_status st = mllm_session_check_tokens(s, tokens, n);
    if (!st) st = check_fits(s, n);
    if (!st && mode == MLLM_LOGITS_ALL) st = ensure_logits(s, n);
    if (st) return st;
    const int64_t n_vocab = s->model->hp.n_vocab;
    int32_t done = 0;
    while (done < n) {
        int32_t c = n - done < s->params.n_batch ? n - done : s->params.n_batch;
        if ((st = mllm_session_make_room(s, c, &c))) return st;
        const int last = done + c == n;
        int32_t n_out = mode == MLLM_LOGITS_ALL ? c : (mode == MLLM_LOGITS_LAST && last ? 1 : 0);
        const mllm_graph *g;
        if ((st = mllm_session_run_chunk(s, tokens + done, c, n_out, 0, &g))) return st;
        if (n_out) {
            float *dst = s->logits + (size_t)(mode == MLLM_LOGITS_ALL ? done : 0) * (size_t)n_vocab;
            if ((st = s->runner->iface->read_output(s->runner, &g->acts[MLLM_ACT_OUT], 0, n_out, dst))) return st;
        }
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
    mllm_status st = mllm_session_check_tokens(s, tokens, n);
    if (!st) st = check_fits(s, n);
    if (st) return st;
    const int64_t n_vocab = s->model->hp.n_vocab;
    int32_t done = 0;
    while (done < n) {
        int32_t c = n - done < s->params.n_batch ? n - done : s->params.n_batch;
        if ((st = mllm_session_make_room(s, c, &c))) return st;
        /* row r predicts token done + r + 1; the very last token predicts nothing */
        int32_t n_out = done + c == n ? c - 1 : c;
        const mllm_graph *g;
        if ((st = mllm_session_run_chunk(s, tokens + done, c, c, 0, &g))) return st;
        for (int32_t r = 0; r < n_out; r++) {
            if ((st = s->runner->iface->read_output(s->runner, &g->acts[MLLM_ACT_OUT], r, 1, s->row))) return st;
            nll[done + r] = nll_of(s->row, n_vocab, tokens[done + r + 1]);
        }
        done += c;
    }
    return MLLM_OK;
}

mllm_status mllm_session_embed_impl(mllm_session *s, const int32_t *tokens, int32_t n, int32_t pooling, int32_t normalize,
                                    float *out) {
    mllm_session_truncate_impl(s, 0);
    s->n_logits = 0;
    mllm_status st = mllm_session_check_tokens(s, tokens, n);
    if (st) return st;
    if (n > s->params.n_ctx) {
        return mllm_fail(MLLM_ERR_CONTEXT_FULL, "cannot embed %d tokens in a context of %d", n, s->params.n_ctx);
    }
    const int32_t d = s->model->hp.n_embd;
    for (int32_t i = 0; i < d; i++) s->pool[i] = 0.0;
    int32_t done = 0;
    while (done < n && !st) {
        int32_t c = n - done < s->params.n_batch ? n - done : s->params.n_batch;
        const int last = done + c == n;
        int32_t n_out = pooling == MLLM_POOLING_MEAN ? c : (last ? 1 : 0);
        const mllm_graph *g;
        st = mllm_session_run_chunk(s, tokens + done, c, n_out, 1, &g);
        for (int32_t r = 0; !st && r < n_out; r++) {
            st = s->runner->iface->read_output(s->runner, &g->acts[MLLM_ACT_OUT], r, 1, s->row);
            for (int32_t i = 0; !st && i < d; i++) s->pool[i] += s->row[i];
        }
        done += c;
    }
    mllm_session_truncate_impl(s, 0);
    if (st) return st;
    const double div = pooling == MLLM_POOLING_MEAN ? (double)n : 1.0;
    double norm = 0.0;
    for (int32_t i = 0; i < d; i++) {
        s->pool[i] /= div;
        norm += s->pool[i] * s->pool[i];
    }
    norm = normalize && norm > 0.0 ? 1.0 / sqrt(norm) : 1.0;
    for (int32_t i = 0; i < d; i++) out[i] = (float)(s->pool[i] * norm);
    return MLLM_OK;
}
