/* Session lifetime, context management and cancellation. */
#include "model/session.h"

#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "model/compute.h"
#include "platform/memory.h"

/* The memory that grows with n_ctx (KV cache, RoPE tables, attention scores) is checked before
 * any of it is allocated: a context no machine here could hold fails with a message instead of an
 * allocation that might succeed lazily and fail when touched. */
static mllm_status check_context_memory(const mllm_model *m, const mllm_session_params *p) {
    const mllm_hparams *hp = &m->hp;
    const uint64_t n_ctx = (uint64_t)p->n_ctx;
    const int64_t row_bytes = mllm_kv_row_bytes(p->kv_type, hp->n_head_kv * hp->head_dim);
    uint64_t kv = 0;
    for (int32_t l = 0; l < hp->n_layer; l++) {
        const int32_t rows = mllm_kv_layer_rows(m->attn[l].window, p->n_ctx, p->n_batch);
        kv += 2 * (uint64_t)rows * (rows < p->n_ctx ? 2 : 1) * (uint64_t)(row_bytes > 0 ? row_bytes : 0);
    }
    const uint64_t rope = 2 * n_ctx * (uint64_t)(hp->head_dim / 2) * sizeof(float);
    const uint64_t att = (uint64_t)m->device->max_threads * n_ctx * sizeof(float);
    const uint64_t need = kv + rope + att, have = mllm_physical_memory();
    if (have && need > have) {
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY,
                         "n_ctx %d needs %.1f GiB for the KV cache and position tables, more than the %.1f GiB of memory "
                         "of this machine; choose a smaller n_ctx (or a q8_0 KV cache)",
                         p->n_ctx, (double)need / (1 << 30), (double)have / (1 << 30));
    }
    return MLLM_OK;
}

mllm_status mllm_session_new(mllm_model *m, const mllm_session_params *p, mllm_session **out) {
    *out = NULL;
    if (!(m->device->kv_types & (1u << p->kv_type))) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "this backend does not support KV-cache type %s",
                         p->kv_type == MLLM_KV_Q8_0 ? "q8_0" : p->kv_type == MLLM_KV_F32 ? "f32" : "f16");
    }
    mllm_status cm = check_context_memory(m, p);
    if (cm) return cm;
    mllm_session *s = calloc(1, sizeof *s);
    if (!s) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for a session");
    s->model = m;
    s->params = *p;
    atomic_init(&s->cancel, 0);
    const mllm_hparams *hp = &m->hp;
    /* the model's compute state grows to this session's batch and context once, here */
    mllm_status st = mllm_compute_reserve(m->compute, p->n_batch, p->n_ctx);
    if (!st) st = mllm_kv_cache_create(m->device, p->kv_type, hp->n_layer, p->n_ctx, p->n_batch, hp->n_head_kv, hp->head_dim,
                                         m->attn, &s->kv);
    if (!st) {
        s->logits_cap = 1; /* grown when a call asks for all logits */
        s->logits = malloc((size_t)hp->n_vocab * sizeof(float));
        s->row = malloc((size_t)(hp->n_vocab > hp->n_embd ? hp->n_vocab : hp->n_embd) * sizeof(float));
        s->pool = malloc((size_t)hp->n_embd * sizeof(double));
        s->embedding = malloc((size_t)hp->n_embd * sizeof(float));
        if (!s->logits || !s->row || !s->pool || !s->embedding) st = mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for session buffers");
    }
    if (st) {
        mllm_session_destroy(s);
        return st;
    }
    *out = s;
    return MLLM_OK;
}

void mllm_session_destroy(mllm_session *s) {
    if (!s) return;
    if (s->holder && s->on_free) s->on_free(s->holder, s);
    mllm_kv_cache_free(s->kv);
    free(s->logits);
    free(s->row);
    free(s->pool);
    free(s->embedding);
    free(s);
}

mllm_status mllm_session_check_free(const mllm_session *s, const char *fn) {
    if (s->holder) return mllm_fail(MLLM_ERR_STATE, "%s: the session is generating (a scheduler holds it until it finishes)", fn);
    return MLLM_OK;
}

void mllm_session_truncate_impl(mllm_session *s, int32_t n_keep) {
    s->n_past = mllm_kv_cache_keep(s->kv, n_keep); /* rows beyond are overwritten by the next eval */
    s->n_logits = 0;
    s->has_embedding = 0;
}

mllm_status mllm_session_check_tokens(const mllm_session *s, const int32_t *tokens, int32_t n) {
    for (int32_t i = 0; i < n; i++) {
        if (tokens[i] < 0 || tokens[i] >= s->model->hp.n_vocab) {
            return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "token %d at index %d is outside the vocabulary [0, %d)", tokens[i], i,
                             s->model->hp.n_vocab);
        }
    }
    return MLLM_OK;
}

mllm_status mllm_session_ensure_logits(mllm_session *s, int64_t rows) {
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

int mllm_session_should_stop(mllm_session *s) {
    return atomic_load_explicit(&s->cancel, memory_order_relaxed) || (s->abort_cb && s->abort_cb(s->abort_ud));
}

void mllm_session_cancel_done(mllm_session *s) { atomic_store(&s->cancel, 0); }

mllm_status mllm_session_make_room(mllm_session *s, int32_t n, int32_t *n_now, int32_t *mark) {
    const int32_t n_ctx = s->params.n_ctx;
    if (s->n_past + n <= n_ctx) {
        *n_now = n;
        return MLLM_OK;
    }
    if (!s->params.context_shift) {
        return mllm_fail(MLLM_ERR_CONTEXT_FULL, "context full: %d cached + %d new tokens exceed n_ctx %d", s->n_past, n, n_ctx);
    }
    const int32_t keep = s->params.n_keep < s->n_past ? s->params.n_keep : s->n_past;
    const int32_t room = n_ctx - keep; /* the most a shift can make available */
    if (room <= 0) return mllm_fail(MLLM_ERR_CONTEXT_FULL, "context full: n_keep %d leaves no room in n_ctx %d", keep, n_ctx);
    if (n > room) n = room;
    const int32_t movable = s->n_past - keep;
    int32_t discard = movable / 2; /* drop half the movable tokens so shifts stay rare */
    if (s->n_past - discard + n > n_ctx) discard = s->n_past + n - n_ctx;
    if (discard > 0) {
        mllm_status st = mllm_kv_cache_shift(s->kv, keep, keep + discard, s->n_past, s->model->inv_freq);
        if (st) return st;
        s->n_past -= discard;
        /* tokens [keep, keep + discard) are gone: those of them below the mark move it down */
        const int32_t cut = *mark <= keep ? 0 : (*mark < keep + discard ? *mark : keep + discard) - keep;
        *mark -= cut;
    }
    *n_now = n;
    return MLLM_OK;
}
