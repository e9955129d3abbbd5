/* The generation loop: mllm_scheduler advances many sequences (each a session with its sampler,
 * stop rules and token callback) one forward pass per step, in the manner of llama.cpp's server
 * slots: running sequences contribute their next token, new ones their prompt in chunks within the
 * step's token budget, and sequences join and leave between steps. mllm_generate is this loop with
 * one sequence.
 *
 * A sequence goes QUEUED (no place yet) -> PROMPT (prompt chunks) -> DECODE (one token per step:
 * the last one sampled) -> DONE. A token is sampled after each pass that produced the sequence's
 * logits. A token that ends the sequence (the max_tokens-th, or one after which the callback asks to
 * stop) is returned but never evaluated: nothing would read its logits (mobilellm.h, mllm_generate). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "model/batch.h"
#include "model/session.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"
#include "platform/clock.h"
#include "platform/threads.h"

enum seq_state { SEQ_QUEUED, SEQ_PROMPT, SEQ_SAMPLE, SEQ_DECODE, SEQ_DONE };

typedef struct seq {
    int32_t id;
    enum seq_state state;
    mllm_session *session;       /* NULL once done, or when freed while running */
    mllm_sampler *sampler;       /* borrowed; NULL: greedy */
    int32_t *prompt;
    int32_t n_prompt, fed;       /* prompt tokens, and how many are evaluated */
    int32_t max_tokens, ignore_eos;
    mllm_token_callback cb;
    void *ud;
    int32_t *tokens;             /* generated, capacity max_tokens */
    int32_t n_tokens;
    int32_t pending;             /* DECODE: the token the next pass evaluates */
    int32_t stop_reason;
    struct mllm_detokenizer *detok;
    atomic_int cancel;           /* mllm_scheduler_cancel */
    int32_t chunk;               /* tokens it has in the current step's batch */
    mllm_status status;
    char message[256];
    double t_start, t_prompt, t_end;
} seq;

struct mllm_scheduler {
    mllm_model *model;
    mllm_scheduler_params params;
    mllm_batch *batch;
    seq **seqs;                  /* every sequence not released, in submission order */
    int32_t n_seqs, cap_seqs;
    int32_t next_id;
    seq **step;                  /* the sequences in the current step's batch */
    mllm_mutex lock;             /* cancel (any thread) against submit/release */
};

static double now_seconds(void) { return 1e-9 * (double)mllm_now_ns(); }

void mllm_scheduler_params_init(mllm_scheduler_params *p) {
    if (!p) return;
    p->max_seqs = 16;
    p->step_tokens = 256;
}

mllm_status mllm_scheduler_create(mllm_model *m, const mllm_scheduler_params *params, mllm_scheduler **out) {
    if (out) *out = NULL;
    if (!m || !out) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_scheduler_create: model and out_scheduler must not be NULL");
    mllm_scheduler_params p;
    mllm_scheduler_params_init(&p);
    if (params) p = *params;
    if (p.max_seqs < 1 || p.max_seqs > MLLM_MAX_BATCH_SEQS) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "max_seqs %d is outside 1..%d", p.max_seqs, MLLM_MAX_BATCH_SEQS);
    }
    if (p.step_tokens < 1 || p.step_tokens > 65536) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "step_tokens %d is outside 1..65536", p.step_tokens);
    }
    mllm_scheduler *s = calloc(1, sizeof *s);
    if (!s) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for a scheduler");
    if (mllm_mutex_init(&s->lock) != 0) {
        free(s);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "cannot create a lock");
    }
    s->model = m;
    s->params = p;
    s->next_id = 1;
    /* a step holds every running sequence's token and prompt chunks within the budget */
    const int32_t max_tokens = p.step_tokens > p.max_seqs ? p.step_tokens : p.max_seqs;
    s->step = calloc((size_t)p.max_seqs, sizeof *s->step);
    mllm_status st = s->step ? mllm_batch_new(m, max_tokens, p.max_seqs, &s->batch)
                             : mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for a scheduler");
    if (st) {
        mllm_scheduler_free(s);
        return st;
    }
    *out = s;
    return MLLM_OK;
}

/* ---- sequences ---------------------------------------------------------------------------- */

static void seq_free(seq *q) {
    if (!q) return;
    if (q->detok) mllm_vocab_detok_free(q->detok);
    free(q->prompt);
    free(q->tokens);
    free(q);
}

static void release_session(seq *q) {
    if (q->session) {
        q->session->holder = NULL;
        q->session->on_free = NULL;
        q->session = NULL;
    }
}

/* Freeing a held session ends its sequence at the next step. */
static void session_freed(void *holder, mllm_session *s) {
    seq *q = holder;
    (void)s;
    q->session = NULL;
}

static void emit(seq *q, int32_t token, int flush, int *stop);

static void finish(seq *q, int32_t reason, mllm_status status, const char *message) {
    if (status == MLLM_OK && reason != MLLM_STOP_CANCELLED) {
        int ignored = 0;
        emit(q, -1, 1, &ignored); /* held bytes of an unfinished character */
    }
    if (!q->status) q->status = status;
    if (q->status && message && !q->message[0]) snprintf(q->message, sizeof q->message, "%s", message);
    q->stop_reason = q->status && reason != MLLM_STOP_CANCELLED ? MLLM_STOP_ERROR : reason;
    q->state = SEQ_DONE;
    q->t_end = now_seconds();
    if (!q->t_prompt) q->t_prompt = q->t_end;
    release_session(q);
}

/* Passes the text a token completed (flush: what the detokenizer still holds) to the callback;
 * *stop set when the callback asks. A decoding failure ends the sequence. */
static void emit(seq *q, int32_t token, int flush, int *stop) {
    char small[256];
    char *buf = small;
    int32_t cap = (int32_t)sizeof small;
    int32_t n = flush ? mllm_vocab_detok_flush(q->detok, buf, cap) : mllm_vocab_detok_push(q->detok, token, buf, cap);
    if (n < 0 && n != INT32_MIN) { /* piece longer than the stack buffer: again with its size */
        cap = -n;
        buf = malloc((size_t)cap);
        n = !buf ? INT32_MIN : flush ? mllm_vocab_detok_flush(q->detok, buf, cap) : mllm_vocab_detok_push(q->detok, token, buf, cap);
    }
    if (n < 0) {
        q->status = MLLM_ERR_STATE;
        snprintf(q->message, sizeof q->message, "cannot decode token %d", token);
        *stop = 1;
    } else if (q->cb && (!flush || n > 0) && q->cb(token, buf, n, q->ud) != 0) {
        *stop = 1;
    }
    if (buf != small) free(buf);
}

static seq *find(const mllm_scheduler *s, int32_t id) {
    for (int32_t i = 0; i < s->n_seqs; i++)
        if (s->seqs[i]->id == id) return s->seqs[i];
    return NULL;
}

mllm_status mllm_scheduler_submit(mllm_scheduler *s, const mllm_seq_params *p, int32_t *out_id) {
    if (out_id) *out_id = 0;
    if (!s || !p || !out_id) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_scheduler_submit: scheduler, params and out_id must not be NULL");
    mllm_session *ss = p->session;
    if (!ss) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_scheduler_submit: session is NULL");
    if (ss->model != s->model) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_scheduler_submit: the session belongs to another model");
    if (ss->holder) return mllm_fail(MLLM_ERR_STATE, "mllm_scheduler_submit: the session is generating a sequence already");
    if (p->n_prompt < 0 || (p->n_prompt > 0 && !p->prompt)) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_scheduler_submit: invalid prompt");
    if (p->max_tokens < 0) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_scheduler_submit: max_tokens %d is negative", p->max_tokens);
    if (p->sampler && mllm_sampling_n_vocab(p->sampler) != s->model->hp.n_vocab) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_scheduler_submit: the sampler is for %d tokens, the model has %d",
                         mllm_sampling_n_vocab(p->sampler), s->model->hp.n_vocab);
    }
    if (p->n_prompt == 0 && ss->n_logits == 0) {
        return mllm_fail(MLLM_ERR_STATE, "mllm_scheduler_submit: empty prompt and no logits from a previous eval");
    }
    mllm_status st = mllm_session_check_tokens(ss, p->prompt, p->n_prompt);
    if (st) return st;
    if (!ss->params.context_shift && (int64_t)ss->n_past + p->n_prompt > ss->params.n_ctx) {
        return mllm_fail(MLLM_ERR_CONTEXT_FULL, "context full: %d cached + %d prompt tokens exceed n_ctx %d", ss->n_past,
                         p->n_prompt, ss->params.n_ctx);
    }
    seq *q = calloc(1, sizeof *q);
    if (q) {
        q->prompt = malloc((size_t)(p->n_prompt ? p->n_prompt : 1) * sizeof(int32_t));
        q->tokens = malloc((size_t)(p->max_tokens ? p->max_tokens : 1) * sizeof(int32_t));
        q->detok = mllm_vocab_detok_new(mllm_model_vocab(s->model), 0);
    }
    if (!q || !q->prompt || !q->tokens || !q->detok) {
        seq_free(q);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for a sequence");
    }
    if (p->n_prompt) memcpy(q->prompt, p->prompt, (size_t)p->n_prompt * sizeof(int32_t));
    q->n_prompt = p->n_prompt;
    q->max_tokens = p->max_tokens;
    q->ignore_eos = p->ignore_eos;
    q->sampler = p->sampler;
    q->cb = p->callback;
    q->ud = p->user_data;
    atomic_init(&q->cancel, 0);
    q->state = SEQ_QUEUED;
    mllm_mutex_lock(&s->lock);
    if (s->n_seqs == s->cap_seqs) {
        int32_t cap = s->cap_seqs ? 2 * s->cap_seqs : 16;
        seq **t = realloc(s->seqs, (size_t)cap * sizeof *t);
        if (!t) {
            mllm_mutex_unlock(&s->lock);
            seq_free(q);
            return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for a sequence");
        }
        s->seqs = t;
        s->cap_seqs = cap;
    }
    q->id = s->next_id++;
    if (s->next_id <= 0) s->next_id = 1; /* after 2^31 submissions; released ids are long gone */
    s->seqs[s->n_seqs++] = q;
    mllm_mutex_unlock(&s->lock);
    q->session = ss;
    ss->holder = q;
    ss->on_free = session_freed;
    *out_id = q->id;
    return MLLM_OK;
}

mllm_status mllm_scheduler_cancel(mllm_scheduler *s, int32_t id) {
    if (!s) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_scheduler_cancel: scheduler is NULL");
    mllm_mutex_lock(&s->lock);
    seq *q = find(s, id);
    if (q) atomic_store(&q->cancel, 1);
    mllm_mutex_unlock(&s->lock);
    return q ? MLLM_OK : mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_scheduler_cancel: no sequence %d", id);
}

mllm_status mllm_scheduler_result(const mllm_scheduler *s, int32_t id, mllm_seq_result *out, int32_t *tokens, int32_t cap) {
    if (!s || !out) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_scheduler_result: scheduler and out_result must not be NULL");
    if (cap < 0 || (cap > 0 && !tokens)) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_scheduler_result: invalid tokens buffer");
    const seq *q = find(s, id);
    if (!q) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_scheduler_result: no sequence %d", id);
    memset(out, 0, sizeof *out);
    out->status = q->status;
    out->stop_reason = q->state == SEQ_DONE ? q->stop_reason : MLLM_STOP_NONE;
    out->n_tokens = q->n_tokens;
    out->timings.n_prompt = q->n_prompt;
    out->timings.n_generated = q->n_tokens;
    if (q->t_start > 0) {
        const double end = q->state == SEQ_DONE ? q->t_end : now_seconds();
        const double prompt_end = q->t_prompt > 0 ? q->t_prompt : end;
        out->timings.prompt_seconds = prompt_end - q->t_start;
        out->timings.generate_seconds = end - prompt_end;
    }
    snprintf(out->message, sizeof out->message, "%s", q->message);
    if (cap > 0) memcpy(tokens, q->tokens, (size_t)(q->n_tokens < cap ? q->n_tokens : cap) * sizeof(int32_t));
    return MLLM_OK;
}

mllm_status mllm_scheduler_release(mllm_scheduler *s, int32_t id) {
    if (!s) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_scheduler_release: scheduler is NULL");
    mllm_mutex_lock(&s->lock);
    mllm_status st = MLLM_OK;
    int32_t i = 0;
    while (i < s->n_seqs && s->seqs[i]->id != id) i++;
    if (i == s->n_seqs) st = mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_scheduler_release: no sequence %d", id);
    else if (s->seqs[i]->state != SEQ_DONE) st = mllm_fail(MLLM_ERR_STATE, "mllm_scheduler_release: sequence %d is running", id);
    else {
        seq_free(s->seqs[i]);
        memmove(s->seqs + i, s->seqs + i + 1, (size_t)(s->n_seqs - i - 1) * sizeof *s->seqs);
        s->n_seqs--;
    }
    mllm_mutex_unlock(&s->lock);
    return st;
}

void mllm_scheduler_free(mllm_scheduler *s) {
    if (!s) return;
    for (int32_t i = 0; i < s->n_seqs; i++) {
        release_session(s->seqs[i]);
        seq_free(s->seqs[i]);
    }
    free(s->seqs);
    free(s->step);
    mllm_batch_destroy(s->batch);
    mllm_mutex_destroy(&s->lock);
    free(s);
}

/* ---- steps -------------------------------------------------------------------------------- */

static int stop_requested(seq *q) {
    return atomic_load(&q->cancel) || !q->session || mllm_session_should_stop(q->session);
}

/* Ends a sequence that was asked to stop; a session's cancel request is used up by it. A token
 * sampled but not yet evaluated (DECODE) is dropped, so that the result holds exactly the tokens
 * in the cache. */
static void finish_cancelled(seq *q) {
    if (q->state == SEQ_DECODE) q->n_tokens--;
    int by_session = q->session && !atomic_load(&q->cancel);
    if (q->session && by_session) mllm_session_cancel_done(q->session);
    finish(q, MLLM_STOP_CANCELLED, q->session ? MLLM_OK : MLLM_ERR_STATE, q->session ? NULL : "the session was freed");
}

/* The pass is stopped only when every sequence in it asked to stop: one cancelled sequence among
 * many waits for the end of the step instead of costing the others theirs. */
static int step_abort(void *ctx) {
    mllm_scheduler *s = ctx;
    for (int32_t i = 0; i < s->batch->n_items; i++)
        if (!stop_requested(s->step[i])) return 0;
    return 1;
}

/* Samples the next token from the session's logits, streams it and applies the stop rules. */
static void sample(seq *q) {
    mllm_session *ss = q->session;
    if (q->n_tokens == q->max_tokens) {
        finish(q, MLLM_STOP_MAX_TOKENS, MLLM_OK, NULL);
        return;
    }
    /* a token the cache could not hold is not sampled, unless it is the last one (never evaluated) */
    if (!ss->params.context_shift && ss->n_past >= ss->params.n_ctx && q->n_tokens + 1 < q->max_tokens) {
        char msg[160];
        snprintf(msg, sizeof msg, "context full after %d generated tokens (n_ctx %d)", q->n_tokens, ss->params.n_ctx);
        finish(q, MLLM_STOP_ERROR, MLLM_ERR_CONTEXT_FULL, msg);
        return;
    }
    const int32_t n_vocab = ss->model->hp.n_vocab;
    const float *logits = ss->logits + (size_t)(ss->n_logits - 1) * (size_t)n_vocab; /* the last row */
    int32_t tok = q->sampler ? mllm_sampler_sample(q->sampler, logits, n_vocab) : mllm_argmax(logits, n_vocab);
    if (tok < 0 || tok >= n_vocab) {
        char msg[256];
        snprintf(msg, sizeof msg, "sampler failed: %s", mllm_last_error());
        finish(q, MLLM_STOP_ERROR, MLLM_ERR_STATE, msg);
        return;
    }
    if (!q->ignore_eos && mllm_vocab_is_eog(mllm_model_vocab(ss->model), tok)) {
        finish(q, MLLM_STOP_EOS, MLLM_OK, NULL); /* EOS ends generation and is not returned */
        return;
    }
    q->tokens[q->n_tokens++] = tok;
    q->pending = tok;
    int stop = 0;
    emit(q, tok, 0, &stop);
    if (q->status) {
        finish(q, MLLM_STOP_ERROR, q->status, NULL);
    } else if (stop || q->n_tokens == q->max_tokens) {
        finish(q, stop ? MLLM_STOP_CALLBACK : MLLM_STOP_MAX_TOKENS, MLLM_OK, NULL); /* the last token: not evaluated */
    } else {
        q->state = SEQ_DECODE;
    }
}

/* Adds a sequence's part of the step to the batch; 0 if it does not take part this time. */
static int add_to_step(mllm_scheduler *s, seq *q, int32_t *budget) {
    mllm_batch *b = s->batch;
    if (b->n_items == s->params.max_seqs) return 0;
    if (b->n_items > 0 && b->items[0].s->kv->type != q->session->kv->type) return 0; /* next step */
    int32_t n, mode;
    const int32_t *toks;
    if (q->state == SEQ_PROMPT) {
        n = q->n_prompt - q->fed < *budget ? q->n_prompt - q->fed : *budget;
        const mllm_session_params *sp = &q->session->params;
        /* sliding-window rings hold window + n_batch - 1 positions: one pass writes at most n_batch */
        if (n > sp->n_batch && mllm_kv_cache_has_ring(q->session->kv)) n = sp->n_batch;
        if (sp->context_shift) { /* a chunk the cache can hold after a shift */
            const int32_t room = sp->n_ctx - (sp->n_keep < q->session->n_past ? sp->n_keep : q->session->n_past);
            if (n > room) n = room;
        }
        if (n <= 0) return 0;
        toks = q->prompt + q->fed;
        mode = q->fed + n == q->n_prompt ? MLLM_LOGITS_LAST : MLLM_LOGITS_NONE;
    } else {
        if (*budget < 1) return 0;
        n = 1;
        toks = &q->pending;
        mode = MLLM_LOGITS_LAST;
    }
    mllm_status st = mllm_batch_push(b, q->session, toks, n, mode);
    if (st) {
        finish(q, MLLM_STOP_ERROR, st, mllm_last_error());
        return 0;
    }
    q->chunk = n;
    s->step[b->n_items - 1] = q;
    *budget -= n;
    return 1;
}

/* After a pass: every sequence in it moves on. */
static void advance(seq *q, double now) {
    switch (q->state) {
    case SEQ_PROMPT:
        q->fed += q->chunk;
        if (q->fed < q->n_prompt) return;
        q->t_prompt = now;
        sample(q);
        return;
    case SEQ_DECODE: sample(q); return;
    default: return;
    }
}

mllm_status mllm_scheduler_step(mllm_scheduler *s, int32_t *out_n_active) {
    if (out_n_active) *out_n_active = 0;
    if (!s) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_scheduler_step: scheduler is NULL");
    const double t0 = now_seconds();
    int32_t running = 0;
    for (int32_t i = 0; i < s->n_seqs; i++) running += s->seqs[i]->state != SEQ_QUEUED && s->seqs[i]->state != SEQ_DONE;
    /* stop requests, places for waiting sequences, and first tokens of sequences without a prompt */
    for (int32_t i = 0; i < s->n_seqs; i++) {
        seq *q = s->seqs[i];
        if (q->state == SEQ_DONE) continue;
        const int queued = q->state == SEQ_QUEUED;
        if (stop_requested(q)) {
            finish_cancelled(q);
            running -= !queued;
            continue;
        }
        if (queued) {
            if (running == s->params.max_seqs) continue;
            running++;
            q->t_start = t0;
            q->state = q->n_prompt > 0 ? SEQ_PROMPT : SEQ_SAMPLE;
        }
        if (q->state == SEQ_SAMPLE) {
            q->t_prompt = t0;
            sample(q);
            running -= q->state == SEQ_DONE;
        }
    }
    /* the step: every decoding sequence's token first, then prompt chunks, oldest first */
    mllm_batch_reset(s->batch);
    int32_t budget = s->params.step_tokens;
    for (int pass = 0; pass < 2; pass++) {
        for (int32_t i = 0; i < s->n_seqs; i++) {
            seq *q = s->seqs[i];
            if ((pass == 0 && q->state == SEQ_DECODE) || (pass == 1 && q->state == SEQ_PROMPT)) add_to_step(s, q, &budget);
        }
    }
    const int32_t n_step = s->batch->n_items;
    if (n_step > 0) {
        mllm_status st = mllm_batch_run(s->batch, step_abort, s);
        const double t1 = now_seconds();
        for (int32_t i = 0; i < n_step; i++) {
            seq *q = s->step[i];
            if (st == MLLM_ERR_CANCELLED) {
                if (stop_requested(q)) finish_cancelled(q); /* the others go again next step */
            } else if (st) {
                finish(q, MLLM_STOP_ERROR, st, mllm_last_error());
            } else {
                advance(q, t1);
            }
        }
    }
    int32_t active = 0;
    for (int32_t i = 0; i < s->n_seqs; i++) active += s->seqs[i]->state != SEQ_DONE;
    if (out_n_active) *out_n_active = active;
    return MLLM_OK;
}
