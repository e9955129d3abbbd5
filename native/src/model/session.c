/* Session lifetime, scratch planning, graph cache, context management and running one chunk. */
#include "model/session.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "cpu/matmul.h"
#include "platform/memory.h"

static size_t max_wsize(const mllm_model *m, int64_t nb) {
    const mllm_hparams *hp = &m->hp;
    size_t w = mllm_matmul_wsize(m->output.type, hp->n_embd, nb);
    for (int32_t b = 0; b < hp->n_block; b++) {
        const mllm_block *bl = &m->blocks[b];
        const mllm_tensor *ws[] = {&bl->wq, &bl->wk, &bl->wv, &bl->wo, &bl->gate, &bl->up, &bl->down};
        for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++) {
            size_t x = mllm_matmul_wsize(ws[i]->type, ws[i]->ne[0], nb);
            if (x > w) w = x;
        }
    }
    return w;
}

static size_t align64(size_t x) { return (x + 63) & ~(size_t)63; }

/* One allocation for every activation buffer, the matmul scratch and the attention scores. */
static mllm_status plan_scratch(mllm_session *s) {
    const mllm_hparams *hp = &s->model->hp;
    const size_t nb = (size_t)s->params.n_batch, f = sizeof(float);
    const size_t q = (size_t)hp->n_head * hp->head_dim, kv = (size_t)hp->n_head_kv * hp->head_dim;
    size_t out_cols = (size_t)(hp->n_vocab > hp->n_embd ? hp->n_vocab : hp->n_embd);
    size_t sizes[MLLM_ACT_COUNT] = {0};
    sizes[MLLM_ACT_X] = sizes[MLLM_ACT_H] = sizes[MLLM_ACT_TMP] = nb * (size_t)hp->n_embd * f;
    sizes[MLLM_ACT_Q] = sizes[MLLM_ACT_ATT] = nb * q * f;
    sizes[MLLM_ACT_K] = sizes[MLLM_ACT_V] = nb * kv * f;
    sizes[MLLM_ACT_GATE] = sizes[MLLM_ACT_UP] = nb * (size_t)hp->n_ff * f;
    sizes[MLLM_ACT_OUT] = nb * out_cols * f;
    size_t wsize = max_wsize(s->model, (int64_t)nb);
    size_t att = (size_t)s->params.n_threads * (size_t)s->params.n_ctx * f;
    /* per thread: a private activation conversion of up to MLLM_PRIVATE_M rows and the normed
     * rows it is made from (see op_matmul.c) */
    size_t kmax = (size_t)hp->n_embd;
    if ((size_t)hp->n_ff > kmax) kmax = (size_t)hp->n_ff;
    if (q > kmax) kmax = q;
    s->thread_scratch_bytes = align64(max_wsize(s->model, MLLM_PRIVATE_M)) + align64(MLLM_PRIVATE_M * kmax * f);
    size_t thr = (size_t)s->params.n_threads * s->thread_scratch_bytes;
    size_t total = align64(wsize) + align64(att) + thr;
    for (int i = 0; i < MLLM_ACT_COUNT; i++) total += align64(sizes[i]);
    mllm_status st = s->runner->iface->alloc(s->runner, total, &s->scratch);
    if (st) return st;
    char *p = s->scratch;
    for (int i = 0; i < MLLM_ACT_COUNT; i++) {
        s->act[i] = sizes[i] ? (float *)p : NULL;
        p += align64(sizes[i]);
    }
    s->wdata = p;
    p += align64(wsize);
    s->att_scratch = (float *)p;
    p += align64(att);
    s->thread_scratch = p;
    return MLLM_OK;
}

static mllm_status make_rope_tables(mllm_session *s) {
    const mllm_hparams *hp = &s->model->hp;
    const int32_t half = hp->head_dim / 2;
    s->inv_freq = malloc((size_t)half * sizeof *s->inv_freq);
    s->rope_cos = malloc((size_t)s->params.n_ctx * (size_t)half * sizeof(float));
    s->rope_sin = malloc((size_t)s->params.n_ctx * (size_t)half * sizeof(float));
    if (!s->inv_freq || !s->rope_cos || !s->rope_sin) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for RoPE tables");
    for (int32_t i = 0; i < half; i++) s->inv_freq[i] = pow((double)hp->rope_base, -2.0 * i / hp->head_dim);
    for (int32_t p = 0; p < s->params.n_ctx; p++) {
        for (int32_t i = 0; i < half; i++) {
            double a = (double)p * s->inv_freq[i]; /* double: angles reach 2047 rad */
            s->rope_cos[(size_t)p * half + i] = (float)cos(a);
            s->rope_sin[(size_t)p * half + i] = (float)sin(a);
        }
    }
    return MLLM_OK;
}

/* The session's memory that grows with n_ctx (KV cache, RoPE tables, attention scores) is
 * checked before any of it is allocated: a context no machine here could hold fails with a
 * message instead of an allocation that might succeed lazily and fail when touched. */
static mllm_status check_context_memory(const mllm_model *m, const mllm_session_params *p) {
    const mllm_hparams *hp = &m->hp;
    const uint64_t n_ctx = (uint64_t)p->n_ctx, kv_elem = p->kv_type == MLLM_KV_F16 ? 2 : 4;
    const uint64_t kv = 2 * (uint64_t)hp->n_layer * n_ctx * (uint64_t)hp->n_head_kv * (uint64_t)hp->head_dim * kv_elem;
    const uint64_t rope = 2 * n_ctx * (uint64_t)(hp->head_dim / 2) * sizeof(float);
    const uint64_t att = (uint64_t)p->n_threads * n_ctx * sizeof(float);
    const uint64_t need = kv + rope + att, have = mllm_physical_memory();
    if (have && need > have) {
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY,
                         "n_ctx %d needs %.1f GiB for the KV cache and position tables, more than the %.1f GiB of memory "
                         "of this machine; choose a smaller n_ctx",
                         p->n_ctx, (double)need / (1 << 30), (double)have / (1 << 30));
    }
    return MLLM_OK;
}

mllm_status mllm_session_new(mllm_model *m, const mllm_session_params *p, mllm_session **out) {
    *out = NULL;
    mllm_status cm = check_context_memory(m, p);
    if (cm) return cm;
    mllm_session *s = calloc(1, sizeof *s);
    if (!s) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for a session");
    s->model = m;
    s->params = *p;
    const mllm_hparams *hp = &m->hp;
    mllm_status st = m->device->iface->runner_create(m->device, s->params.n_threads, &s->runner);
    if (!st) st = mllm_kv_cache_create(p->kv_type, hp->n_layer, p->n_ctx, hp->n_head_kv, hp->head_dim, &s->kv);
    if (!st) st = plan_scratch(s);
    if (!st) st = make_rope_tables(s);
    if (!st) {
        s->max_nodes = 4 + hp->n_layer * 14; /* mllm_model_build_graph's capacity */
        s->chunk_counters = calloc((size_t)s->max_nodes, sizeof *s->chunk_counters);
        if (!s->chunk_counters) st = mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for session buffers");
    }
    if (!st) {
        s->logits_cap = 1; /* grown when a call asks for all logits */
        s->logits = malloc((size_t)hp->n_vocab * sizeof(float));
        s->row = malloc((size_t)(hp->n_vocab > hp->n_embd ? hp->n_vocab : hp->n_embd) * sizeof(float));
        s->pool = malloc((size_t)hp->n_embd * sizeof(double));
        if (!s->logits || !s->row || !s->pool) st = mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for session buffers");
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
    for (int i = 0; i < MLLM_GRAPH_CACHE; i++) mllm_graph_free(s->graphs[i].g);
    if (s->runner) {
        if (s->scratch) s->runner->iface->free_buffer(s->runner, s->scratch);
        s->runner->iface->free(s->runner);
    }
    mllm_kv_cache_free(s->kv);
    free(s->inv_freq);
    free(s->rope_cos);
    free(s->rope_sin);
    free(s->logits);
    free(s->row);
    free(s->pool);
    free(s->chunk_counters);
    free(s);
}

mllm_status mllm_session_graph(mllm_session *s, int32_t n_tokens, int32_t n_out, int32_t out_hidden, const mllm_graph **out) {
    mllm_graph_slot *victim = &s->graphs[0];
    for (int i = 0; i < MLLM_GRAPH_CACHE; i++) {
        mllm_graph_slot *sl = &s->graphs[i];
        if (sl->g && sl->g->n_tokens == n_tokens && sl->g->n_out == n_out && sl->g->out_hidden == out_hidden) {
            sl->last_use = ++s->use_clock;
            *out = sl->g;
            return MLLM_OK;
        }
        if (!sl->g || (victim->g && sl->last_use < victim->last_use)) victim = sl;
    }
    mllm_graph *g = mllm_model_build_graph(s->model, s->act, n_tokens, n_out, out_hidden);
    if (!g) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory building a graph for %d tokens", n_tokens);
    mllm_graph_plan_fusions(g, &s->runner->device->fusions);
    mllm_graph_free(victim->g);
    victim->g = g;
    victim->last_use = ++s->use_clock;
    *out = g;
    return MLLM_OK;
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

mllm_status mllm_session_make_room(mllm_session *s, int32_t n, int32_t *n_now) {
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
        if (s->runner->iface->kv_shift) {
            mllm_status st = s->runner->iface->kv_shift(s->runner, s->kv, keep, keep + discard, s->n_past, s->inv_freq);
            if (st) return st;
        } else {
            mllm_kv_cache_shift(s->kv, keep, keep + discard, s->n_past, s->inv_freq);
        }
        s->n_past -= discard;
    }
    *n_now = n;
    return MLLM_OK;
}

mllm_status mllm_session_run_chunk(mllm_session *s, const int32_t *tokens, int32_t n, int32_t n_out, int32_t out_hidden,
                                   const mllm_graph **g_out) {
    const mllm_graph *g;
    mllm_status st = mllm_session_graph(s, n, n_out, out_hidden, &g);
    if (st) return st;
    mllm_exec ex = {
        .tokens = tokens,
        .n_past = s->n_past,
        .kv = s->kv,
        .rope_cos = s->rope_cos,
        .rope_sin = s->rope_sin,
        .att_scratch = s->att_scratch,
        .wdata = s->wdata,
        .thread_scratch = s->thread_scratch,
        .thread_scratch_bytes = s->thread_scratch_bytes,
        .chunk_counters = g->n_nodes <= s->max_nodes ? s->chunk_counters : NULL,
    };
    if (ex.chunk_counters) memset(ex.chunk_counters, 0, (size_t)g->n_nodes * sizeof *ex.chunk_counters);
    st = s->runner->iface->compute(s->runner, g, &ex);
    if (st) return st;
    s->n_past += n;
    *g_out = g;
    return MLLM_OK;
}
