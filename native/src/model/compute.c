/* The model's compute context: memory planning, the graph cache, RoPE tables and the turn-taking
 * between callers. */
#include "model/compute.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "cpu/matmul.h"
#include "graph/backend.h"
#include "graph/fusion.h"
#include "graph/kv_cache.h"
#include "model/model.h"
#include "platform/turns.h"

#define GRAPH_CACHE 16 /* graph shapes kept (batches add shapes: decode rows, prompt chunks, output rows) */

typedef struct graph_slot {
    mllm_graph *g;
    uint64_t last_use;
} graph_slot;

struct mllm_compute {
    mllm_model *model;
    mllm_runner *runner;
    mllm_turns turns;           /* evaluations of the model run one at a time, in arrival order */

    int32_t cap_rows, cap_ctx;  /* what the memory below is planned for */
    int n_threads;              /* the device's threads (per-thread scratch) */
    void *scratch;              /* one runner allocation for all activations */
    float *act[MLLM_ACT_COUNT]; /* activation buffers inside scratch, for cap_rows rows */
    void *wdata;
    void *thread_scratch;
    size_t thread_scratch_bytes;
    float *att_scratch;         /* n_threads x MLLM_ATT_SCRATCH(cap_ctx, head_dim) */
    float *att_part;            /* MLLM_ATT_PART_ITEMS(n_threads, cap_ctx) chunk results of attention */
    int32_t *chunk_counters;    /* MLLM_CHUNK_COUNTERS(n_threads) per graph node, zeroed before each run */
    int32_t max_nodes;
    float *rope_cos, *rope_sin; /* [cap_ctx][head_dim/2] */

    graph_slot graphs[GRAPH_CACHE];
    uint64_t clock;
    const mllm_graph *last;     /* the graph of the run begun */
};

mllm_status mllm_compute_create(mllm_model *m, mllm_compute **out) {
    *out = NULL;
    mllm_compute *c = calloc(1, sizeof *c);
    if (!c) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for the compute context");
    if (mllm_turns_init(&c->turns) != 0) {
        free(c);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "cannot create a lock");
    }
    c->model = m;
    c->n_threads = m->device->max_threads;
    c->max_nodes = mllm_model_graph_nodes(m);
    mllm_status st = m->device->iface->runner_create(m->device, &c->runner);
    if (st) {
        mllm_compute_free(c);
        return st;
    }
    *out = c;
    return MLLM_OK;
}

static void drop_graphs(mllm_compute *c) {
    for (int i = 0; i < GRAPH_CACHE; i++) {
        mllm_graph_free(c->graphs[i].g);
        c->graphs[i].g = NULL;
    }
    c->last = NULL;
}

static void free_memory(mllm_compute *c) {
    drop_graphs(c);
    if (c->scratch) c->runner->iface->free_buffer(c->runner, c->scratch);
    c->scratch = NULL;
    free(c->chunk_counters);
    free(c->rope_cos);
    free(c->rope_sin);
    c->chunk_counters = NULL;
    c->rope_cos = c->rope_sin = NULL;
    c->cap_rows = c->cap_ctx = 0;
}

void mllm_compute_free(mllm_compute *c) {
    if (!c) return;
    if (c->runner) {
        free_memory(c);
        c->runner->iface->free(c->runner);
    }
    mllm_turns_destroy(&c->turns);
    free(c);
}

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

/* One runner allocation for every activation buffer, the matmul scratch and the attention
 * scores, for nb rows and n_ctx positions; host tables for RoPE. */
static mllm_status plan(mllm_compute *c, int32_t nb_rows, int32_t n_ctx) {
    const mllm_model *m = c->model;
    const mllm_hparams *hp = &m->hp;
    const size_t nb = (size_t)nb_rows, f = sizeof(float);
    const size_t q = (size_t)hp->n_head * hp->head_dim, kv = (size_t)hp->n_head_kv * hp->head_dim;
    size_t out_cols = (size_t)(hp->n_vocab > hp->n_embd ? hp->n_vocab : hp->n_embd);
    size_t sizes[MLLM_ACT_COUNT] = {0};
    sizes[MLLM_ACT_X] = sizes[MLLM_ACT_H] = sizes[MLLM_ACT_TMP] = nb * (size_t)hp->n_embd * f;
    sizes[MLLM_ACT_Q] = sizes[MLLM_ACT_ATT] = nb * q * f;
    sizes[MLLM_ACT_K] = sizes[MLLM_ACT_V] = nb * kv * f;
    sizes[MLLM_ACT_GATE] = sizes[MLLM_ACT_UP] = nb * (size_t)hp->n_ff * f;
    sizes[MLLM_ACT_OUT] = nb * out_cols * f;
    const size_t wsize = max_wsize(m, (int64_t)nb);
    const size_t att = (size_t)c->n_threads * MLLM_ATT_SCRATCH(n_ctx, hp->head_dim) * f;
    const size_t att_part = (size_t)MLLM_ATT_PART_ITEMS(c->n_threads, n_ctx) * MLLM_ATT_PART_ITEM(hp->head_dim) * f;
    /* per thread: a private activation conversion of up to MLLM_PRIVATE_M rows and the normed
     * rows it is made from (see op_matmul.c) */
    size_t kmax = (size_t)hp->n_embd;
    if ((size_t)hp->n_ff > kmax) kmax = (size_t)hp->n_ff;
    if (q > kmax) kmax = q;
    c->thread_scratch_bytes = align64(max_wsize(m, MLLM_PRIVATE_M)) + align64(MLLM_PRIVATE_M * kmax * f);
    const size_t thr = (size_t)c->n_threads * c->thread_scratch_bytes;
    size_t total = align64(wsize) + align64(att) + align64(att_part) + thr;
    for (int i = 0; i < MLLM_ACT_COUNT; i++) total += align64(sizes[i]);
    const int32_t half = hp->head_dim / 2;
    c->chunk_counters = calloc((size_t)c->max_nodes * MLLM_CHUNK_COUNTERS(c->n_threads), sizeof *c->chunk_counters);
    c->rope_cos = malloc((size_t)n_ctx * (size_t)half * sizeof(float));
    c->rope_sin = malloc((size_t)n_ctx * (size_t)half * sizeof(float));
    if (!c->chunk_counters || !c->rope_cos || !c->rope_sin) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for compute tables");
    mllm_status st = c->runner->iface->alloc(c->runner, total, &c->scratch);
    if (st) return st;
    char *p = c->scratch;
    for (int i = 0; i < MLLM_ACT_COUNT; i++) {
        c->act[i] = sizes[i] ? (float *)p : NULL;
        p += align64(sizes[i]);
    }
    c->wdata = p;
    p += align64(wsize);
    c->att_scratch = (float *)p;
    p += align64(att);
    c->att_part = (float *)p;
    p += align64(att_part);
    c->thread_scratch = p;
    for (int32_t pos = 0; pos < n_ctx; pos++) {
        for (int32_t i = 0; i < half; i++) {
            double a = (double)pos * m->inv_freq[i]; /* double: angles reach 2047 rad */
            c->rope_cos[(size_t)pos * half + i] = (float)cos(a);
            c->rope_sin[(size_t)pos * half + i] = (float)sin(a);
        }
    }
    c->cap_rows = nb_rows;
    c->cap_ctx = n_ctx;
    return MLLM_OK;
}

/* Caller holds the turn. Grows the memory to at least n_rows x n_ctx (never shrinks). */
static mllm_status ensure(mllm_compute *c, int32_t n_rows, int32_t n_ctx) {
    if (n_rows <= c->cap_rows && n_ctx <= c->cap_ctx) return MLLM_OK;
    const int32_t rows = n_rows > c->cap_rows ? n_rows : c->cap_rows, ctx = n_ctx > c->cap_ctx ? n_ctx : c->cap_ctx;
    free_memory(c);
    mllm_status st = plan(c, rows, ctx);
    if (st) free_memory(c);
    return st;
}

mllm_status mllm_compute_reserve(mllm_compute *c, int32_t n_rows, int32_t n_ctx) {
    mllm_turns_take(&c->turns);
    mllm_status st = ensure(c, n_rows, n_ctx);
    mllm_turns_end(&c->turns);
    return st;
}

/* The graph of a shape, built and marked for the device's fusions on first use. */
static mllm_status get_graph(mllm_compute *c, int32_t n_tokens, int32_t n_out, int32_t out_hidden, int32_t gather,
                             const mllm_graph **out) {
    graph_slot *victim = &c->graphs[0];
    for (int i = 0; i < GRAPH_CACHE; i++) {
        graph_slot *sl = &c->graphs[i];
        const mllm_graph *g = sl->g;
        if (g && g->n_tokens == n_tokens && g->n_out == n_out && g->out_hidden == out_hidden && g->gather_out == gather) {
            sl->last_use = ++c->clock;
            *out = g;
            return MLLM_OK;
        }
        if (!g || (victim->g && sl->last_use < victim->last_use)) victim = sl;
    }
    mllm_graph *g = mllm_model_build_graph(c->model, c->act, n_tokens, n_out, out_hidden, gather);
    if (!g) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory building a graph for %d tokens", n_tokens);
    mllm_graph_plan_fusions(g, &c->model->device->fusions);
    mllm_graph_free(victim->g);
    victim->g = g;
    victim->last_use = ++c->clock;
    *out = g;
    return MLLM_OK;
}

mllm_status mllm_compute_begin(mllm_compute *c, const mllm_run *r) {
    mllm_turns_take(&c->turns);
    c->last = NULL;
    int32_t n_ctx = 0;
    for (int32_t i = 0; i < r->n_seqs; i++)
        if (r->seqs[i].kv->n_ctx > n_ctx) n_ctx = r->seqs[i].kv->n_ctx;
    mllm_status st = ensure(c, r->n_tokens, n_ctx);
    const mllm_graph *g = NULL;
    if (!st) st = get_graph(c, r->n_tokens, r->n_out, r->out_hidden, r->out_rows != NULL, &g);
    if (st) return st;
    mllm_exec ex = {
        .tokens = r->tokens,
        .seqs = r->seqs,
        .n_seqs = r->n_seqs,
        .out_rows = r->out_rows,
        .rope_cos = c->rope_cos,
        .rope_sin = c->rope_sin,
        .n_positions = c->cap_ctx,
        .att_scratch = c->att_scratch,
        .att_stride = (int32_t)MLLM_ATT_SCRATCH(c->cap_ctx, c->model->hp.head_dim),
        .att_part = c->att_part,
        .att_part_items = MLLM_ATT_PART_ITEMS(c->n_threads, c->cap_ctx),
        .wdata = c->wdata,
        .thread_scratch = c->thread_scratch,
        .thread_scratch_bytes = c->thread_scratch_bytes,
        .chunk_counters = g->n_nodes <= c->max_nodes ? c->chunk_counters : NULL,
        .abort = r->abort,
        .abort_ctx = r->abort_ctx,
    };
    if (ex.chunk_counters)
        memset(ex.chunk_counters, 0, (size_t)g->n_nodes * MLLM_CHUNK_COUNTERS(c->n_threads) * sizeof *ex.chunk_counters);
    int nth = r->n_threads < 1 ? 1 : r->n_threads;
    if (nth > c->n_threads) nth = c->n_threads;
    st = c->runner->iface->compute(c->runner, g, &ex, nth);
    if (!st) c->last = g;
    return st;
}

mllm_status mllm_compute_read(mllm_compute *c, int64_t row0, int64_t n, float *dst) {
    if (!c->last) return mllm_fail(MLLM_ERR_STATE, "no outputs: the run failed");
    return c->runner->iface->read_output(c->runner, &c->last->acts[MLLM_ACT_OUT], row0, n, dst);
}

void mllm_compute_end(mllm_compute *c) { mllm_turns_end(&c->turns); }
