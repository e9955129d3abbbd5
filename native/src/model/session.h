/* Session internals: one sequence's KV cache, position and the logits of its last eval, plus the
 * cancellation requests that stop its model calls. Everything else a run needs (activations,
 * graphs, RoPE tables, threads) belongs to the model (model/compute.h, graph/backend.h). */
#ifndef MLLM_SESSION_H
#define MLLM_SESSION_H

#include <stdatomic.h>
#include <stdint.h>

#include "graph/backend.h"
#include "graph/graph.h"
#include "graph/kv_cache.h"
#include "model/model.h"

struct mllm_session {
    mllm_model *model;
    mllm_session_params params; /* resolved: n_ctx, n_batch, n_threads filled in */
    mllm_kv_cache *kv;
    int32_t n_past;

    float *logits;              /* [logits_cap rows][n_vocab] */
    int64_t logits_cap;
    int32_t n_logits;           /* rows valid from the last eval */
    float *row;                 /* one row of max(n_vocab, n_embd) floats (score, embed) */
    double *pool;               /* n_embd accumulators (embedding) */
    float *embedding;           /* n_embd: the embedding a batch computed (mllm_session_embedding) */
    int32_t has_embedding;      /* 1 while embedding holds the last batch's result */

    atomic_int cancel;          /* mllm_session_cancel: pending until a call stops because of it */
    mllm_abort_callback abort_cb;
    void *abort_ud;
    /* A generation loop holding the session (mllm_scheduler): model calls on the session are refused
     * meanwhile, and freeing the session first tells the holder through on_free. */
    void *holder;
    void (*on_free)(void *holder, mllm_session *s);
};

mllm_status mllm_session_new(mllm_model *m, const mllm_session_params *p, mllm_session **out);
void mllm_session_destroy(mllm_session *s);

/* MLLM_ERR_STATE when a generation loop holds the session. */
mllm_status mllm_session_check_free(const mllm_session *s, const char *fn);
/* Makes room for n more tokens (context shift when enabled). Returns the number of tokens that
 * may be evaluated now (<= n) in *n_now, or fails with MLLM_ERR_CONTEXT_FULL. *mark, a position in
 * the sequence, is moved as a shift moves the tokens before it (the position to go back to when
 * the call that asked fails). */
mllm_status mllm_session_make_room(mllm_session *s, int32_t n, int32_t *n_now, int32_t *mark);
/* Keeps the first n_keep tokens, or none where a sliding-window ring no longer holds what they need
 * (mllm_kv_cache_keep); n_past tells which. */
void mllm_session_truncate_impl(mllm_session *s, int32_t n_keep);
/* Checks ids against the vocabulary. */
mllm_status mllm_session_check_tokens(const mllm_session *s, const int32_t *tokens, int32_t n);
/* Room for rows of logits. */
mllm_status mllm_session_ensure_logits(mllm_session *s, int64_t rows);
/* Whether the session's calls should stop now: a cancel request or the abort callback. */
int mllm_session_should_stop(mllm_session *s);
/* After a call stopped with MLLM_ERR_CANCELLED: the cancel request (if any) is used up. */
void mllm_session_cancel_done(mllm_session *s);

mllm_status mllm_session_eval_impl(mllm_session *s, const int32_t *tokens, int32_t n, int32_t mode);
mllm_status mllm_session_score_impl(mllm_session *s, const int32_t *tokens, int32_t n, float *nll);
/* Pooling shared by mllm_session_embed and batches: pool_begin clears the accumulators, pool_add
 * adds one normed hidden row, pool_finish divides (MEAN: by n_rows), optionally L2-normalises and
 * writes n_embd floats to out. */
void mllm_session_pool_begin(mllm_session *s);
void mllm_session_pool_add(mllm_session *s, const float *row);
void mllm_session_pool_finish(mllm_session *s, int32_t n_rows, int32_t pooling, int32_t normalize, float *out);
mllm_status mllm_session_embed_impl(mllm_session *s, const int32_t *tokens, int32_t n, int32_t pooling, int32_t normalize,
                                    float *out);

#endif
