/* Batches of several sessions' tokens in one forward pass. */
#include "model/batch.h"

#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "model/compute.h"

mllm_status mllm_batch_new(mllm_model *m, int32_t max_tokens, int32_t max_seqs, mllm_batch **out) {
    *out = NULL;
    mllm_batch *b = calloc(1, sizeof *b);
    if (!b) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for a batch");
    b->model = m;
    b->max_tokens = max_tokens;
    b->max_seqs = max_seqs;
    b->tokens = malloc((size_t)max_tokens * sizeof *b->tokens);
    b->out_rows = malloc((size_t)max_tokens * sizeof *b->out_rows);
    b->items = calloc((size_t)max_seqs, sizeof *b->items);
    b->seqs = calloc((size_t)max_seqs, sizeof *b->seqs);
    b->start = calloc((size_t)max_seqs, sizeof *b->start);
    mllm_status st = MLLM_OK;
    if (!b->tokens || !b->out_rows || !b->items || !b->seqs || !b->start) st = mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for a batch");
    if (!st) st = mllm_compute_reserve(m->compute, max_tokens, 0);
    if (st) {
        mllm_batch_destroy(b);
        return st;
    }
    *out = b;
    return MLLM_OK;
}

void mllm_batch_destroy(mllm_batch *b) {
    if (!b) return;
    free(b->tokens);
    free(b->out_rows);
    free(b->items);
    free(b->seqs);
    free(b->start);
    free(b);
}

void mllm_batch_reset(mllm_batch *b) {
    b->n_tokens = 0;
    b->n_items = 0;
}

/* Checks shared by every add: same model, not in the batch yet, same KV type, room in the batch. */
static mllm_status check_room(const mllm_batch *b, const mllm_session *s, int32_t n) {
    if (s->model != b->model) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_batch_add: the session belongs to another model");
    for (int32_t i = 0; i < b->n_items; i++) {
        if (b->items[i].s == s) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_batch_add: the session is in the batch already");
    }
    if (b->n_items > 0 && b->items[0].s->kv->type != s->kv->type) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_batch_add: the sessions of one batch must share their KV cache type");
    }
    if (b->n_items == b->max_seqs) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_batch_add: the batch holds its %d sessions already", b->max_seqs);
    }
    if (n > b->max_tokens - b->n_tokens) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_batch_add: %d tokens do not fit: %d of the batch's %d are taken", n,
                         b->n_tokens, b->max_tokens);
    }
    return MLLM_OK;
}

/* One pass yields either logits or normed hidden states (the graph's output head runs or not). */
static mllm_status check_outputs(const mllm_batch *b, int embed) {
    for (int32_t i = 0; i < b->n_items; i++) {
        const mllm_batch_item *it = &b->items[i];
        const int other = embed ? it->mode != MLLM_LOGITS_NONE : it->embed;
        if (other) {
            return mllm_fail(MLLM_ERR_INVALID_ARGUMENT,
                             "mllm_batch_add: a batch yields either logits or embeddings, and this one holds %s already",
                             embed ? "a session asking for logits" : "an embedding");
        }
    }
    return MLLM_OK;
}

static mllm_status check_ring(const mllm_session *s, int32_t n) {
    if (n > s->params.n_batch && mllm_kv_cache_has_ring(s->kv)) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED,
                         "mllm_batch_add: %d tokens exceed the session's n_batch %d, which sizes its sliding-window KV cache", n,
                         s->params.n_batch);
    }
    return MLLM_OK;
}

static void append(mllm_batch *b, const int32_t *tokens, mllm_batch_item it) {
    memcpy(b->tokens + b->n_tokens, tokens, (size_t)it.n * sizeof *tokens);
    it.row0 = b->n_tokens;
    b->items[b->n_items++] = it;
    b->n_tokens += it.n;
}

mllm_status mllm_batch_push(mllm_batch *b, mllm_session *s, const int32_t *tokens, int32_t n, int32_t mode) {
    mllm_status st = check_room(b, s, n);
    if (!st && mode != MLLM_LOGITS_NONE) st = check_outputs(b, 0);
    if (st) return st;
    if (!s->params.context_shift && (int64_t)s->n_past + n > s->params.n_ctx) {
        return mllm_fail(MLLM_ERR_CONTEXT_FULL, "context full: %d cached + %d new tokens exceed n_ctx %d", s->n_past, n,
                         s->params.n_ctx);
    }
    if (s->params.context_shift && n > s->params.n_ctx - (s->params.n_keep < s->n_past ? s->params.n_keep : s->n_past)) {
        return mllm_fail(MLLM_ERR_CONTEXT_FULL, "%d tokens do not fit in n_ctx %d after the %d kept ones", n, s->params.n_ctx,
                         s->params.n_keep);
    }
    if (!st) st = check_ring(s, n);
    if (!st) st = mllm_session_check_tokens(s, tokens, n);
    if (!st) append(b, tokens, (mllm_batch_item){.s = s, .n = n, .mode = mode});
    return st;
}

mllm_status mllm_batch_push_embed(mllm_batch *b, mllm_session *s, const int32_t *tokens, int32_t n, int32_t pooling,
                                  int32_t normalize) {
    mllm_status st = check_room(b, s, n);
    if (!st) st = check_outputs(b, 1);
    if (st) return st;
    if (n > s->params.n_ctx) return mllm_fail(MLLM_ERR_CONTEXT_FULL, "cannot embed %d tokens in a context of %d", n, s->params.n_ctx);
    if (!st) st = check_ring(s, n);
    if (!st) st = mllm_session_check_tokens(s, tokens, n);
    if (!st) {
        append(b, tokens, (mllm_batch_item){.s = s, .n = n, .mode = MLLM_LOGITS_NONE, .embed = 1, .pooling = pooling,
                                            .normalize = normalize != 0});
    }
    return st;
}

/* Rows of the pass's output an item reads: logits rows, or hidden rows to pool. */
static int32_t out_count(const mllm_batch_item *it) {
    if (it->embed) return it->pooling == MLLM_POOLING_MEAN ? it->n : 1;
    return it->mode == MLLM_LOGITS_ALL ? it->n : it->mode == MLLM_LOGITS_LAST && it->n > 0 ? 1 : 0;
}

/* Every session as before the run; sessions that embed are left empty, as mllm_session_embed leaves them. */
static mllm_status undo(mllm_batch *b, int32_t n_items, mllm_status st) {
    for (int32_t i = 0; i < n_items; i++) {
        if (b->items[i].embed) mllm_session_truncate_impl(b->items[i].s, 0);
        else b->items[i].s->n_past = b->start[i];
    }
    for (int32_t i = n_items; i < b->n_items; i++) {
        if (b->items[i].embed) mllm_session_truncate_impl(b->items[i].s, 0);
    }
    return st;
}

/* Positions the item's tokens go to: the end of its sequence (after any context shift), or an
 * emptied sequence for an embedding. */
static mllm_status place(mllm_batch *b, int32_t i) {
    mllm_batch_item *it = &b->items[i];
    mllm_session *s = it->s;
    s->n_logits = 0;
    s->has_embedding = 0;
    if (it->embed) mllm_session_truncate_impl(s, 0);
    b->start[i] = s->n_past;
    int32_t now;
    mllm_status st = mllm_session_make_room(s, it->n, &now, &b->start[i]);
    if (!st && now < it->n) st = mllm_fail(MLLM_ERR_CONTEXT_FULL, "context full: %d tokens do not fit", it->n);
    if (!st && it->mode == MLLM_LOGITS_ALL) st = mllm_session_ensure_logits(s, it->n);
    return st;
}

/* The item's k output rows from row0 on: logits into the session, or pooled into its embedding. */
static mllm_status read_outputs(mllm_compute *cc, const mllm_batch_item *it, int32_t row0, int32_t k) {
    mllm_session *s = it->s;
    if (!it->embed) return mllm_compute_read(cc, row0, k, s->logits);
    mllm_session_pool_begin(s);
    mllm_status st = MLLM_OK;
    for (int32_t r = 0; r < k && !st; r++) {
        st = mllm_compute_read(cc, row0 + r, 1, s->row);
        if (!st) mllm_session_pool_add(s, s->row);
    }
    if (!st) mllm_session_pool_finish(s, it->n, it->pooling, it->normalize, s->embedding);
    return st;
}

mllm_status mllm_batch_run(mllm_batch *b, int (*abort)(void *ctx), void *abort_ctx) {
    if (b->n_items == 0 || b->n_tokens == 0) return MLLM_OK;
    int32_t n_out = 0, out_hidden = 0;
    for (int32_t i = 0; i < b->n_items; i++) {
        mllm_batch_item *it = &b->items[i];
        mllm_status st = place(b, i);
        if (st) return undo(b, i + 1, st);
        b->seqs[i] = (mllm_seq_rows){.row0 = it->row0, .n_rows = it->n, .n_past = it->s->n_past, .kv = it->s->kv};
        const int32_t k = out_count(it);
        for (int32_t r = it->n - k; r < it->n; r++) b->out_rows[n_out++] = it->row0 + r;
        out_hidden |= it->embed;
    }
    /* outputs that are the last rows anyway need no gathering */
    int tail = 1;
    for (int32_t i = 0; i < n_out; i++) tail &= b->out_rows[i] == b->n_tokens - n_out + i;
    const mllm_run r = {.tokens = b->tokens, .n_tokens = b->n_tokens, .seqs = b->seqs, .n_seqs = b->n_items,
                        .out_rows = tail ? NULL : b->out_rows, .n_out = n_out, .out_hidden = out_hidden,
                        .n_threads = b->model->n_threads, .abort = abort, .abort_ctx = abort_ctx};
    mllm_compute *cc = b->model->compute;
    mllm_status st = mllm_compute_begin(cc, &r);
    /* a run that failed part-way may have written its positions into the rings too */
    for (int32_t i = 0; i < b->n_items; i++) mllm_kv_cache_advance(b->items[i].s->kv, b->seqs[i].n_past + b->items[i].n);
    for (int32_t i = 0, row = 0; i < b->n_items && !st; i++) {
        const int32_t k = out_count(&b->items[i]);
        if (k) st = read_outputs(cc, &b->items[i], row, k);
        row += k;
    }
    mllm_compute_end(cc);
    if (st) return undo(b, b->n_items, st);
    for (int32_t i = 0; i < b->n_items; i++) {
        mllm_batch_item *it = &b->items[i];
        if (it->embed) {
            mllm_session_truncate_impl(it->s, 0);
            it->s->has_embedding = 1;
        } else {
            it->s->n_past += it->n;
            it->s->n_logits = out_count(it);
        }
    }
    return MLLM_OK;
}
