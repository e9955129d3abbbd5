/* Session internals: KV cache, activation scratch planned once for n_batch tokens, cached
 * graphs, RoPE tables and the logits of the last eval. */
#ifndef MLLM_SESSION_H
#define MLLM_SESSION_H

#include <stdint.h>

#include "graph/backend.h"
#include "graph/graph.h"
#include "graph/kv_cache.h"
#include "model/model.h"

#define MLLM_GRAPH_CACHE 8

typedef struct mllm_graph_slot {
    mllm_graph *g;
    uint64_t last_use;
} mllm_graph_slot;

struct mllm_session {
    mllm_model *model;
    mllm_session_params params; /* resolved: n_ctx, n_batch, n_threads filled in */
    mllm_runner *runner;        /* the model's backend, for this session */
    mllm_kv_cache *kv;
    int32_t n_past;

    void *scratch;              /* one backend allocation for all activations */
    float *act[MLLM_ACT_COUNT]; /* activation buffers inside scratch, sized for n_batch */
    void *wdata;                /* matmul activation conversion */
    void *thread_scratch;       /* n_threads regions of thread_scratch_bytes (mllm_exec) */
    size_t thread_scratch_bytes;
    int32_t *chunk_counters;    /* one per graph node (mllm_exec), zeroed before each run */
    int32_t max_nodes;
    float *att_scratch;
    float *rope_cos, *rope_sin; /* [n_ctx][head_dim/2] */
    double *inv_freq;           /* [head_dim/2] */

    mllm_graph_slot graphs[MLLM_GRAPH_CACHE];
    uint64_t use_clock;

    float *logits;              /* [logits_cap rows][n_vocab] */
    int64_t logits_cap;
    int32_t n_logits;           /* rows valid from the last eval */
    float *row;                 /* one row of max(n_vocab, n_embd) floats (score, embed) */
    double *pool;               /* n_embd accumulators (embedding) */
};

mllm_status mllm_session_new(mllm_model *m, const mllm_session_params *p, mllm_session **out);
void mllm_session_destroy(mllm_session *s);

/* Graph for (n_tokens, n_out, out_hidden), built and marked for the backend's fusions on first use. */
mllm_status mllm_session_graph(mllm_session *s, int32_t n_tokens, int32_t n_out, int32_t out_hidden, const mllm_graph **out);
/* Builds a graph over the session's scratch (model_graph.c). */
mllm_graph *mllm_model_build_graph(const mllm_model *m, float *const act[MLLM_ACT_COUNT], int32_t n_tokens, int32_t n_out,
                                   int32_t out_hidden);

/* Makes room for n more tokens (context shift when enabled). Returns the number of tokens that
 * may be evaluated now (<= n), or fails with MLLM_ERR_CONTEXT_FULL. */
mllm_status mllm_session_make_room(mllm_session *s, int32_t n, int32_t *n_now);
/* Evaluates one chunk (n <= n_batch tokens that fit in the context); the graph's MLLM_ACT_OUT
 * then holds the last n_out rows (logits, or normed hidden states if out_hidden). */
mllm_status mllm_session_run_chunk(mllm_session *s, const int32_t *tokens, int32_t n, int32_t n_out, int32_t out_hidden,
                                   const mllm_graph **g_out);
/* Keeps the first n_keep tokens, or none where a sliding-window ring no longer holds what they need
 * (mllm_kv_cache_keep); n_past tells which. */
void mllm_session_truncate_impl(mllm_session *s, int32_t n_keep);
/* Checks ids against the vocabulary. */
mllm_status mllm_session_check_tokens(const mllm_session *s, const int32_t *tokens, int32_t n);

mllm_status mllm_session_eval_impl(mllm_session *s, const int32_t *tokens, int32_t n, int32_t mode);
mllm_status mllm_session_score_impl(mllm_session *s, const int32_t *tokens, int32_t n, float *nll);
mllm_status mllm_session_embed_impl(mllm_session *s, const int32_t *tokens, int32_t n, int32_t pooling, int32_t normalize,
                                    float *out);

#endif
