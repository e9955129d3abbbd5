/* A batch: tokens of several sessions of one model, evaluated in one forward pass (mllm_batch_*
 * in mobilellm.h). Matmuls run over all rows at once, so the weights are read once per pass
 * however many sequences advance; RoPE, the KV store and attention use each session's own cache
 * and position (the run's sequence table, graph.h). */
#ifndef MLLM_BATCH_H
#define MLLM_BATCH_H

#include <stdint.h>

#include "graph/graph.h"
#include "model/session.h"

typedef struct mllm_batch_item {
    mllm_session *s;
    int32_t row0, n;
    int32_t mode;      /* mllm_logits_mode; MLLM_LOGITS_NONE for an embedding */
    int32_t embed;     /* 1: pool the rows' normed hidden states into the session's embedding */
    int32_t pooling;   /* mllm_pooling (embed) */
    int32_t normalize; /* L2-normalise the embedding (embed) */
} mllm_batch_item;

struct mllm_batch {
    mllm_model *model;
    int32_t max_tokens, max_seqs;
    int32_t n_tokens, n_items;
    int32_t *tokens;         /* max_tokens */
    mllm_batch_item *items;  /* max_seqs, in row order */
    mllm_seq_rows *seqs;     /* max_seqs */
    int32_t *start;          /* max_seqs: each session's position before the run */
    int32_t *out_rows;       /* max_tokens */
    mllm_abort_callback abort_cb;
    void *abort_ud;
};

mllm_status mllm_batch_new(mllm_model *m, int32_t max_tokens, int32_t max_seqs, mllm_batch **out);
void mllm_batch_destroy(mllm_batch *b);
void mllm_batch_reset(mllm_batch *b);
/* Appends a session's tokens (checked: same model, not in the batch yet, same KV type as the
 * others, room in the batch and, without context shift, in its context). */
mllm_status mllm_batch_push(mllm_batch *b, mllm_session *s, const int32_t *tokens, int32_t n, int32_t mode);
/* Appends a text to embed from an empty sequence (checked as above, against n_ctx alone; a batch
 * yields either logits or embeddings). */
mllm_status mllm_batch_push_embed(mllm_batch *b, mllm_session *s, const int32_t *tokens, int32_t n, int32_t pooling,
                                  int32_t normalize);
/* One forward pass over everything pushed; abort (may be NULL) is asked once per layer. On
 * success each session advanced and holds its logits; on failure every session is as before. Sessions
 * that embed are reset before the pass and after it (also on failure), holding their embedding on
 * success. */
mllm_status mllm_batch_run(mllm_batch *b, int (*abort)(void *ctx), void *abort_ctx);

#endif
