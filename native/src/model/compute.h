/* The model's compute context: the backend's runner, activation memory planned for the most rows
 * and positions any session or batch of the model asked for, the graphs built over that memory
 * (cached per shape) and the RoPE tables. One per model, shared by all its sessions and batches and
 * lent to one run at a time: callers on several threads take turns in the order they arrive (a
 * ticket lock), so sessions of one model evaluating at once interleave chunk by chunk instead of
 * competing for the cores. */
#ifndef MLLM_COMPUTE_H
#define MLLM_COMPUTE_H

#include <stdint.h>

#include "graph/graph.h"
#include "mobilellm.h"

typedef struct mllm_compute mllm_compute;

/* An empty context (memory is planned on the first reserve). */
mllm_status mllm_compute_create(mllm_model *m, mllm_compute **out);
void mllm_compute_free(mllm_compute *c);

/* Makes room for runs of up to n_rows rows at positions below n_ctx (waits for its turn). */
mllm_status mllm_compute_reserve(mllm_compute *c, int32_t n_rows, int32_t n_ctx);

/* One forward pass. */
typedef struct mllm_run {
    const int32_t *tokens;      /* n_tokens ids, rows in order */
    int32_t n_tokens;
    const mllm_seq_rows *seqs;  /* the sequences' rows (graph.h), in order, covering every row */
    int32_t n_seqs;
    const int32_t *out_rows;    /* rows whose outputs are wanted, ascending; NULL: the last n_out rows */
    int32_t n_out;
    int32_t out_hidden;         /* outputs: 0 logits, 1 normed final hidden states */
    int32_t n_threads;          /* CPU threads (clamped to the device's) */
    int (*abort)(void *ctx);    /* optional, see mllm_exec */
    void *abort_ctx;
} mllm_run;

/* Waits for the context, then runs r. The context stays held, also when this fails, until
 * mllm_compute_end; in between mllm_compute_read gives the outputs of a run that succeeded. */
mllm_status mllm_compute_begin(mllm_compute *c, const mllm_run *r);
/* Output rows [row0, row0 + n) (in the order of out_rows) into dst. */
mllm_status mllm_compute_read(mllm_compute *c, int64_t row0, int64_t n, float *dst);
void mllm_compute_end(mllm_compute *c);

#endif
