/* Serving on the CPU backend: batched decoding (the scheduler's sequences equal to each alone and
 * to transformers on the reference checkpoints; mllm_batch rows equal to separate evals), session
 * states (round trip bit for bit, damaged / foreign / other-version states refused with the
 * session unchanged), prefix copies, cancellation (abort callback between layers, cancel from
 * another thread, a scheduler sequence cancelled while the others go on) and the model-scoped
 * resources (a session starts no thread; one weight copy for all sessions); sliding-window rings in
 * scheduled runs, state saves and prefix copies (bc_rings). */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(_WIN32)
#include <time.h>
#include <unistd.h>
#endif

#include "platform/clock.h"
#include "platform/threads.h"
#include "util/batch_checks.h"
#include "util/tiny_model.h"

static char g_dir[256];

static void tmp_path(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/mllm_batch_%s", g_dir, name); }

static mllm_model *tiny_load(const tiny_cfg *c, const char *name) {
    tiny_model tm;
    tiny_init(&tm, c);
    char path[512];
    tmp_path(path, sizeof path, name);
    CHECK(tiny_write(&tm, path) == 0);
    mllm_model *m = bc_load(path, MLLM_BACKEND_CPU);
    remove(path);
    tiny_free(&tm);
    return m;
}

/* mllm_batch: one pass over rows of three sessions (a prompt, a decode token, a longer prompt with
 * all logits) gives each session the logits its own eval gives, within f32 reordering: the rows
 * are computed by the same kernels, but a matmul over more rows may sum in another order. */
static void batch_rows_match_separate_evals(mllm_model *m, int n_vocab) {
    const int32_t a[] = {1, 5, 9, 2}, b0[] = {3, 4}, b1[] = {17}, c[] = {8, 8, 6, 30, 12, 2, 7};
    mllm_session *s[3], *r[3];
    for (int i = 0; i < 3; i++) {
        s[i] = bc_session(m, 32);
        r[i] = bc_session(m, 32);
    }
    CHECK_OK(mllm_session_eval(s[1], b0, 2, MLLM_LOGITS_NONE));
    CHECK_OK(mllm_session_eval(r[1], b0, 2, MLLM_LOGITS_NONE));
    mllm_batch *bt = NULL;
    CHECK_OK(mllm_batch_create(m, 16, 4, &bt));
    CHECK_OK(mllm_batch_add(bt, s[0], a, 4, MLLM_LOGITS_LAST));
    CHECK_OK(mllm_batch_add(bt, s[1], b1, 1, MLLM_LOGITS_LAST));
    CHECK_OK(mllm_batch_add(bt, s[2], c, 7, MLLM_LOGITS_ALL));
    CHECK_ERR(mllm_batch_add(bt, s[0], b1, 1, MLLM_LOGITS_LAST), MLLM_ERR_INVALID_ARGUMENT, "already");
    CHECK_ERR(mllm_batch_add(bt, r[0], c, 7, MLLM_LOGITS_LAST), MLLM_ERR_INVALID_ARGUMENT, "");
    CHECK_OK(mllm_batch_decode(bt));
    CHECK_OK(mllm_session_eval(r[0], a, 4, MLLM_LOGITS_LAST));
    CHECK_OK(mllm_session_eval(r[1], b1, 1, MLLM_LOGITS_LAST));
    CHECK_OK(mllm_session_eval(r[2], c, 7, MLLM_LOGITS_ALL));
    double worst = 0;
    for (int i = 0; i < 3; i++) {
        int32_t rs = 0, rr = 0;
        const float *ls = mllm_session_logits(s[i], &rs), *lr = mllm_session_logits(r[i], &rr);
        CHECK(ls && lr && rs == rr && rs == (i == 2 ? 7 : 1), "session %d: %d rows, alone %d", i, rs, rr);
        CHECK(mllm_session_n_past(s[i]) == mllm_session_n_past(r[i]));
        for (int64_t k = 0; ls && lr && rs == rr && k < (int64_t)rs * n_vocab; k++) worst = fmax(worst, fabs((double)ls[k] - lr[k]));
    }
    /* logits of magnitude ~5, f32 sums of a few hundred products: reordering moves them by ~1e-6 */
    CHECK(worst < 1e-4, "batch rows differ from separate evals by %.2e", worst);
    mllm_batch_free(bt);
    for (int i = 0; i < 3; i++) {
        mllm_session_free(s[i]);
        mllm_session_free(r[i]);
    }
}

/* Misuse of the embedding batch: logits and embeddings never share a pass, a session holds no
 * embedding before a decode or after a later eval, too long texts and unknown poolings are refused. */
static void batch_embedding_errors(mllm_model *m) {
    const int32_t a[] = {1, 2, 3}, b[] = {4, 5};
    mllm_session *s = bc_session(m, 8), *t = bc_session(m, 8), *u = bc_session(m, 8);
    mllm_batch *bt = NULL;
    float e[256];
    CHECK_OK(mllm_batch_create(m, 32, 4, &bt));
    CHECK_ERR(mllm_session_embedding(s, e), MLLM_ERR_STATE, "no embedding");
    CHECK_ERR(mllm_batch_add_embed(bt, s, a, 3, 7, 0), MLLM_ERR_INVALID_ARGUMENT, "pooling");
    CHECK_ERR(mllm_batch_add_embed(bt, s, a, 0, MLLM_POOLING_MEAN, 0), MLLM_ERR_INVALID_ARGUMENT, "no tokens");
    const int32_t nine[9] = {0};
    CHECK_ERR(mllm_batch_add_embed(bt, s, nine, 9, MLLM_POOLING_MEAN, 0), MLLM_ERR_CONTEXT_FULL, "context");
    CHECK_OK(mllm_batch_add_embed(bt, s, a, 3, MLLM_POOLING_MEAN, 1));
    CHECK_ERR(mllm_batch_add(bt, t, b, 2, MLLM_LOGITS_LAST), MLLM_ERR_INVALID_ARGUMENT, "either logits or embeddings");
    CHECK_OK(mllm_batch_add(bt, t, b, 2, MLLM_LOGITS_NONE)); /* a prefill mixes with embeddings */
    CHECK_OK(mllm_batch_decode(bt));
    CHECK(mllm_session_n_past(t) == 2, "the prefill in the embedding pass advanced its session");
    CHECK_ERR(mllm_session_embedding(t, e), MLLM_ERR_STATE, "no embedding");
    CHECK_OK(mllm_session_embedding(s, e));
    CHECK_OK(mllm_batch_add(bt, u, b, 2, MLLM_LOGITS_ALL));
    CHECK_ERR(mllm_batch_add_embed(bt, s, a, 3, MLLM_POOLING_LAST, 0), MLLM_ERR_INVALID_ARGUMENT, "either logits or embeddings");
    CHECK_OK(mllm_batch_clear(bt));
    CHECK_OK(mllm_session_eval(s, b, 2, MLLM_LOGITS_LAST));
    CHECK_ERR(mllm_session_embedding(s, e), MLLM_ERR_STATE, "no embedding");
    mllm_batch_free(bt);
    mllm_session_free(s);
    mllm_session_free(t);
    mllm_session_free(u);
}

static void state_errors(mllm_model *m, mllm_model *other, const char *file) {
    const int32_t p[] = {2, 9, 14, 3, 3, 21};
    mllm_session *a = bc_session(m, 64), *b = bc_session(m, 64), *small = bc_session(m, 4), *o = bc_session(other, 64);
    CHECK_OK(mllm_session_eval(a, p, 6, MLLM_LOGITS_LAST));
    CHECK_OK(mllm_session_eval(b, p, 2, MLLM_LOGITS_LAST));
    int64_t size = 0, w = 0;
    CHECK_OK(mllm_session_state_size(a, &size));
    uint8_t *buf = malloc((size_t)size), *bad = malloc((size_t)size);
    CHECK_ERR(mllm_session_state_save(a, buf, size - 1, &w), MLLM_ERR_INVALID_ARGUMENT, "needs");
    CHECK(w == size, "the size is reported with a too-small buffer");
    CHECK_OK(mllm_session_state_save(a, buf, size, &w));
    /* every refusal leaves b as it was: 2 tokens */
    memcpy(bad, buf, (size_t)size);
    bad[size / 2] ^= 1;
    CHECK_ERR(mllm_session_state_load(b, bad, size), MLLM_ERR_FORMAT, "checksum");
    CHECK_ERR(mllm_session_state_load(b, buf, size - 3), MLLM_ERR_FORMAT, "truncated");
    CHECK_ERR(mllm_session_state_load(b, "hello, world", 12), MLLM_ERR_FORMAT, "not a session state");
    memcpy(bad, buf, (size_t)size);
    bad[8] = 99; /* the format version */
    CHECK_ERR(mllm_session_state_load(b, bad, size), MLLM_ERR_UNSUPPORTED, "version 99");
    CHECK_ERR(mllm_session_state_load(o, buf, size), MLLM_ERR_INVALID_ARGUMENT, "another model");
    CHECK_ERR(mllm_session_state_load(small, buf, size), MLLM_ERR_INVALID_ARGUMENT, "n_ctx");
    CHECK(mllm_session_n_past(b) == 2 && mllm_session_n_past(o) == 0 && mllm_session_n_past(small) == 0);
    /* a file that is not a state; a path that cannot be written leaves nothing behind */
    FILE *f = fopen(file, "wb");
    if (f) {
        fputs("not a state", f);
        fclose(f);
    }
    CHECK_ERR(mllm_session_state_load_file(b, file), MLLM_ERR_FORMAT, "not a session state");
    remove(file);
    CHECK_ERR(mllm_session_state_load_file(b, file), MLLM_ERR_IO, "cannot open");
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no-such-folder/state.bin", g_dir);
    CHECK_ERR(mllm_session_state_save_file(a, missing), MLLM_ERR_IO, "");
    CHECK(mllm_session_n_past(b) == 2);
    free(buf);
    free(bad);
    mllm_session_free(a);
    mllm_session_free(b);
    mllm_session_free(small);
    mllm_session_free(o);
}

/* Prefix sharing: b starts from a's first k tokens; then both read the same rest and agree bit for
 * bit with a session that evaluated prefix and rest itself in the same two calls. */
static void prefix_copy(mllm_model *m, int n_vocab) {
    const int32_t prefix[] = {4, 8, 15, 16, 23, 1, 2}, rest[] = {30, 31};
    mllm_session *a = bc_session(m, 32), *b = bc_session(m, 32), *ref = bc_session(m, 32);
    CHECK_OK(mllm_session_eval(a, prefix, 7, MLLM_LOGITS_LAST));
    CHECK_OK(mllm_session_eval(a, rest, 2, MLLM_LOGITS_NONE)); /* a goes on: the copy takes only its first 5 */
    CHECK_OK(mllm_session_eval(b, rest, 2, MLLM_LOGITS_NONE)); /* b's own contents are dropped */
    CHECK_OK(mllm_session_copy_prefix(b, a, 5));
    CHECK(mllm_session_n_past(b) == 5);
    CHECK_OK(mllm_session_eval(ref, prefix, 5, MLLM_LOGITS_NONE));
    CHECK_OK(mllm_session_eval(ref, rest, 2, MLLM_LOGITS_LAST));
    CHECK_OK(mllm_session_eval(b, rest, 2, MLLM_LOGITS_LAST));
    int32_t r1, r2;
    const float *lb = mllm_session_logits(b, &r1), *lr = mllm_session_logits(ref, &r2);
    CHECK(lb && lr && memcmp(lb, lr, sizeof(float) * (size_t)n_vocab) == 0, "continuing a copied prefix");
    CHECK_ERR(mllm_session_copy_prefix(b, a, 10), MLLM_ERR_INVALID_ARGUMENT, "n_past");
    CHECK_ERR(mllm_session_copy_prefix(a, a, 2), MLLM_ERR_INVALID_ARGUMENT, "one session");
    mllm_session_free(a);
    mllm_session_free(b);
    mllm_session_free(ref);
}

typedef struct { int calls, stop_at; } abort_count;
static int32_t stop_after(void *ud) {
    abort_count *c = ud;
    return ++c->calls >= c->stop_at;
}

/* An abort callback stopping a prompt after 3 checks (layers): MLLM_ERR_CANCELLED, the session
 * unchanged; the same prompt afterwards gives the logits of a session never interrupted. */
static void abort_between_layers(mllm_model *m, int n_vocab) {
    int32_t p[40];
    for (int i = 0; i < 40; i++) p[i] = (i * 7 + 3) % n_vocab;
    mllm_session *s = bc_session(m, 128), *ref = bc_session(m, 128);
    CHECK_OK(mllm_session_eval(s, p, 5, MLLM_LOGITS_NONE));
    abort_count c = {0, 3};
    CHECK_OK(mllm_session_set_abort_callback(s, stop_after, &c));
    CHECK_ERR(mllm_session_eval(s, p + 5, 35, MLLM_LOGITS_LAST), MLLM_ERR_CANCELLED, "cancel");
    CHECK(c.calls == 3, "stopped at the third check (%d)", c.calls);
    CHECK(mllm_session_n_past(s) == 5);
    CHECK_OK(mllm_session_set_abort_callback(s, NULL, NULL));
    CHECK_OK(mllm_session_eval(s, p + 5, 35, MLLM_LOGITS_LAST));
    CHECK_OK(mllm_session_eval(ref, p, 5, MLLM_LOGITS_NONE));
    CHECK_OK(mllm_session_eval(ref, p + 5, 35, MLLM_LOGITS_LAST));
    int32_t r1, r2;
    const float *l1 = mllm_session_logits(s, &r1), *l2 = mllm_session_logits(ref, &r2);
    CHECK(l1 && l2 && memcmp(l1, l2, sizeof(float) * (size_t)n_vocab) == 0, "after a cancelled call");
    /* many stops at every layer: all threads must leave the pass at the same node (a worker
     * leaving one barrier early would leave the caller waiting for it forever) */
    for (int k = 0; k < 60; k++) {
        abort_count ck = {0, 1 + k % 3};
        CHECK_OK(mllm_session_set_abort_callback(s, stop_after, &ck));
        CHECK_ERR(mllm_session_eval(s, p, 35, MLLM_LOGITS_LAST), MLLM_ERR_CANCELLED, "cancel");
    }
    CHECK_OK(mllm_session_set_abort_callback(s, NULL, NULL));
    CHECK(mllm_session_n_past(s) == 40);
    /* a cancel requested while no call runs stops the next one, and only that one */
    CHECK_OK(mllm_session_cancel(s));
    CHECK_ERR(mllm_session_eval(s, p, 1, MLLM_LOGITS_LAST), MLLM_ERR_CANCELLED, "cancel");
    CHECK_OK(mllm_session_eval(s, p, 1, MLLM_LOGITS_LAST));
    mllm_session_free(s);
    mllm_session_free(ref);
}

typedef struct {
    mllm_session *s;
    int64_t delay_ns;
    atomic_int tokens; /* streamed so far: the delay starts at the second, when the first has been
                          evaluated, so a slow CPU (an emulated one) still leaves a token to keep */
    atomic_llong cancelled_at;
} canceller;

static int32_t count_token(int32_t token, const char *text, int32_t len, void *user_data) {
    (void)token, (void)text, (void)len;
    atomic_fetch_add(&((canceller *)user_data)->tokens, 1);
    return 0;
}

static void cancel_later(void *arg) {
    canceller *c = arg;
    const int64_t start = mllm_now_ns();
    while (atomic_load(&c->tokens) < 2 && mllm_now_ns() - start < 60LL * 1000 * 1000 * 1000) mllm_thread_yield();
    const int64_t t0 = mllm_now_ns();
    while (mllm_now_ns() - t0 < c->delay_ns) mllm_thread_yield();
    atomic_store(&c->cancelled_at, (long long)mllm_now_ns());
    mllm_session_cancel(c->s);
}

/* A long generation cancelled from another thread 100 ms after its first tokens ends soon after,
 * with the tokens made so far kept (n_past = prompt + returned tokens), and the session goes on
 * afterwards. The bound is loose (a busy machine): a decode step of this model takes well under a
 * millisecond. */
static void cancel_from_another_thread(void) {
    tiny_cfg cfg = tiny_default();
    cfg.n_embd = 256;
    cfg.n_ff = 512;
    cfg.n_head = 4;
    cfg.n_kv = 4;
    cfg.n_block = 4;
    cfg.n_ctx = 8192;
    mllm_model *m = tiny_load(&cfg, "cancel.gguf");
    if (!m) return;
    mllm_session *s = bc_session(m, 8192);
    const int32_t prompt[] = {1, 2, 3};
    enum { N_MAX = 8000 };
    int32_t *out = malloc(sizeof(int32_t) * N_MAX);
    int32_t n_out = 0;
    canceller c = {.s = s, .delay_ns = 100 * 1000 * 1000};
    atomic_init(&c.cancelled_at, 0);
    atomic_init(&c.tokens, 0);
    mllm_thread t;
    CHECK(mllm_thread_start(&t, cancel_later, &c) == 0);
    mllm_sampler_params spp;
    mllm_sampler_params_init(&spp);
    spp.greedy = 1;
    mllm_sampler *smp = NULL;
    CHECK_OK(mllm_sampler_create(&spp, cfg.n_vocab, &smp));
    const int64_t started = mllm_now_ns();
    mllm_status st = mllm_generate(s, smp, prompt, 3, N_MAX, 1, out, &n_out, count_token, &c, NULL);
    const int64_t ended = mllm_now_ns();
    mllm_thread_join(t);
    const double late_ms = 1e-6 * (double)(ended - atomic_load(&c.cancelled_at));
    const double token_ms = n_out > 0 ? 1e-6 * (double)(ended - started) / n_out : 0;
    printf("cancelled generation: %d tokens (%.2f ms each), ended %.1f ms after the cancel\n", n_out, token_ms,
           late_ms);
    CHECK(st == MLLM_ERR_CANCELLED, "status %s: %s", mllm_status_name(st), mllm_last_error());
    CHECK(n_out > 0 && n_out < N_MAX);
    /* The flag is read between layers, so the call ends within one token's time of the cancel; 100 ms on
     * an idle machine. A loaded or sanitized build makes tokens slower (and the canceller's wake-up later),
     * so the bound grows with the measured time per token instead of failing on a busy machine. */
    CHECK(late_ms < 100 + 4 * token_ms, "ended %.1f ms after the cancel (%.2f ms per token)", late_ms, token_ms);
    CHECK(mllm_session_n_past(s) == 3 + n_out, "n_past %d after %d tokens", mllm_session_n_past(s), n_out);
    CHECK_OK(mllm_session_eval(s, prompt, 1, MLLM_LOGITS_LAST));
    free(out);
    mllm_sampler_free(smp);
    mllm_session_free(s);
    mllm_model_free(m);
}

/* A scheduler sequence cancelled mid-way ends as cancelled; the others finish as if alone. */
static void scheduler_cancel(mllm_model *m, int n_vocab) {
    const int32_t p0[] = {3, 1, 4, 1, 5}, p1[] = {9, 2, 6}, p2[] = {5, 3, 5, 8};
    const int32_t *ps[3] = {p0, p1, p2};
    const int np[3] = {5, 3, 4};
    int32_t alone[3][BC_MAX_GEN];
    for (int i = 0; i < 3; i++) bc_alone(m, n_vocab, ps[i], np[i], 12, alone[i]);
    mllm_scheduler *sch = NULL;
    CHECK_OK(mllm_scheduler_create(m, NULL, &sch));
    bc_seq q[3];
    for (int i = 0; i < 3; i++) {
        q[i] = (bc_seq){.prompt = ps[i], .n_prompt = np[i], .n_gen = 12, .s = bc_session(m, 32)};
        bc_submit(sch, &q[i]);
    }
    mllm_seq_params dup;
    memset(&dup, 0, sizeof dup);
    dup.session = q[0].s;
    dup.prompt = p0;
    dup.n_prompt = 1;
    int32_t id = 0;
    CHECK_ERR(mllm_scheduler_submit(sch, &dup, &id), MLLM_ERR_STATE, "");
    CHECK_ERR(mllm_session_eval(q[0].s, p0, 1, MLLM_LOGITS_LAST), MLLM_ERR_STATE, "scheduler");
    int active = 0;
    for (int k = 0; k < 4; k++) CHECK_OK(mllm_scheduler_step(sch, &active));
    CHECK_OK(mllm_scheduler_cancel(sch, q[1].id));
    CHECK_ERR(mllm_scheduler_release(sch, q[0].id), MLLM_ERR_STATE, "");
    for (int k = 0; k < 1000 && active > 0; k++) CHECK_OK(mllm_scheduler_step(sch, &active));
    for (int i = 0; i < 3; i++) {
        mllm_seq_result r;
        int32_t got[BC_MAX_GEN];
        CHECK_OK(mllm_scheduler_result(sch, q[i].id, &r, got, BC_MAX_GEN));
        if (i == 1) {
            CHECK(r.stop_reason == MLLM_STOP_CANCELLED && r.n_tokens < 12, "cancelled: stop %d, %d tokens", r.stop_reason, r.n_tokens);
            CHECK(memcmp(got, alone[1], sizeof(int32_t) * (size_t)r.n_tokens) == 0);
        } else {
            CHECK(r.stop_reason == MLLM_STOP_MAX_TOKENS && r.n_tokens == 12 && memcmp(got, alone[i], sizeof(int32_t) * 12) == 0,
                  "sequence %d after another's cancel", i);
        }
        CHECK_OK(mllm_scheduler_release(sch, q[i].id));
    }
    CHECK_ERR(mllm_scheduler_result(sch, q[0].id, NULL, NULL, 0), MLLM_ERR_INVALID_ARGUMENT, "");
    mllm_scheduler_free(sch);
    for (int i = 0; i < 3; i++) mllm_session_free(q[i].s);
}

#if defined(__linux__)
static int thread_count(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1) break;
    if (f) fclose(f);
    return n;
}
#endif

/* Sessions share their model's pool and weights: 8 sessions start no thread and add no weight
 * memory, only their KV caches; two models on the process-wide pool start it once. */
static void shared_resources(const tiny_cfg *cfg) {
    mllm_model *m = tiny_load(cfg, "shared.gguf");
    if (!m) return;
    mllm_memory_info one, eight;
    mllm_session *s[8] = {0};
    s[0] = bc_session(m, 64);
    CHECK_OK(mllm_model_get_memory(m, &one));
#if defined(__linux__)
    const int threads = thread_count();
#endif
    for (int i = 1; i < 8; i++) s[i] = bc_session(m, 64);
    CHECK_OK(mllm_model_get_memory(m, &eight));
#if defined(__linux__)
    CHECK(thread_count() == threads, "threads %d -> %d with 7 more sessions", threads, thread_count());
#endif
    CHECK(eight.weights_bytes == one.weights_bytes && eight.weights_bytes > 0 && eight.compute_bytes == one.compute_bytes);
    CHECK(eight.kv_bytes == 8 * one.kv_bytes && one.kv_bytes > 0, "kv %lld vs %lld", (long long)eight.kv_bytes, (long long)one.kv_bytes);
    for (int i = 0; i < 8; i++) mllm_session_free(s[i]);
    mllm_model_free(m);
#if defined(__linux__)
    /* the process pool: the second model starts no threads */
    tiny_model tm;
    tiny_init(&tm, cfg);
    char path[512];
    tmp_path(path, sizeof path, "pool.gguf");
    CHECK(tiny_write(&tm, path) == 0);
    mllm_model_params mp;
    mllm_model_params_init(&mp);
    mp.n_threads = 3;
    mp.pool = MLLM_POOL_PROCESS;
    mllm_model *a = NULL, *b = NULL;
    CHECK_OK(mllm_model_load(path, &mp, &a));
    const int after_first = thread_count();
    CHECK_OK(mllm_model_load(path, &mp, &b));
    CHECK(thread_count() == after_first, "a second model on the process pool started threads");
    tiny_free(&tm);
    mllm_session *sa = a ? bc_session(a, 16) : NULL, *sb = b ? bc_session(b, 16) : NULL;
    const int32_t t[] = {1, 2, 3};
    if (sa && sb) {
        CHECK_OK(mllm_session_eval(sa, t, 3, MLLM_LOGITS_LAST));
        CHECK_OK(mllm_session_eval(sb, t, 3, MLLM_LOGITS_LAST));
        int32_t r;
        const float *la = mllm_session_logits(sa, &r), *lb = mllm_session_logits(sb, &r);
        CHECK(la && lb && memcmp(la, lb, sizeof(float) * (size_t)cfg->n_vocab) == 0);
    }
    mllm_session_free(sa);
    mllm_session_free(sb);
    mllm_model_free(a);
    mllm_model_free(b);
    remove(path);
#endif
}

/* Sliding-window rings (util/batch_checks.h bc_rings; the second cache type q8_0), and an empty
 * state restored over a truncated ring sequence. */
static void rings(const char *file) {
    tiny_cfg c = tiny_pro();
    c.n_embd = 128; /* head_dim 32: what a q8_0 cache needs */
    mllm_model *m = tiny_load(&c, "pro.gguf");
    if (!m) return;
    bc_rings(m, c.n_vocab, MLLM_KV_F32, MLLM_KV_Q8_0, "tiny mobilellm-pro rings", file);
    /* Restoring an empty state forgets the rings' bookkeeping of the session's old sequence: 11
     * tokens truncated to 10 leave the rings holding positions from 3 on; after the restore, a new
     * prompt gives the logits of a fresh session (a stale start would cut its windows short). */
    static const int32_t p11[] = {3, 9, 27, 1, 5, 7, 11, 2, 8, 30, 4}, p6[] = {12, 14, 16, 18, 20, 22};
    mllm_session *a = bc_ring_session(m, 4, MLLM_KV_F32), *e = bc_ring_session(m, 4, MLLM_KV_F32);
    mllm_session *f = bc_ring_session(m, 4, MLLM_KV_F32);
    if (a && e && f) {
        CHECK_OK(mllm_session_eval(a, p11, 11, MLLM_LOGITS_NONE));
        CHECK_OK(mllm_session_truncate(a, 10));
        CHECK(mllm_session_n_past(a) == 10, "truncation within the rings keeps the tokens");
        CHECK_OK(mllm_session_state_save_file(e, file));
        CHECK_OK(mllm_session_state_load_file(a, file));
        CHECK(mllm_session_n_past(a) == 0, "an empty state restored");
        CHECK_OK(mllm_session_eval(a, p6, 6, MLLM_LOGITS_LAST));
        CHECK_OK(mllm_session_eval(f, p6, 6, MLLM_LOGITS_LAST));
        int32_t ra, rf;
        const float *la = mllm_session_logits(a, &ra), *lf = mllm_session_logits(f, &rf);
        CHECK(la && lf && memcmp(la, lf, sizeof(float) * (size_t)c.n_vocab) == 0, "after restoring an empty state");
        remove(file);
    }
    mllm_session_free(a);
    mllm_session_free(e);
    mllm_session_free(f);
    mllm_model_free(m);
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s", tmp && *tmp ? tmp : "/tmp");
    char gguf[512];
    tmp_path(gguf, sizeof gguf, "ckpt.gguf");
    for (size_t i = 0; i < N_CHECKPOINTS; i++) bc_checkpoint_case(&k_checkpoints[i], MLLM_BACKEND_CPU, gguf);

    tiny_cfg cfg = tiny_default();
    mllm_model *m = tiny_load(&cfg, "tiny.gguf");
    cfg.seed += 1;
    mllm_model *other = tiny_load(&cfg, "other.gguf");
    cfg.seed -= 1;
    if (m && other) {
        char file[512];
        tmp_path(file, sizeof file, "state.bin");
        const int32_t p[] = {5, 6, 7, 8, 9, 10, 11};
        batch_rows_match_separate_evals(m, cfg.n_vocab);
        /* normed hidden states of magnitude ~1-3 from f32 sums of a few hundred products: a matmul over
         * more rows may sum in another order, moving them by ~1e-6 */
        bc_embeddings_same_as_alone(m, cfg.n_embd, 1e-4, "tiny llama f32");
        batch_embedding_errors(m);
        bc_same_as_alone(m, cfg.n_vocab, 6, 4, 7, "tiny llama f32");
        bc_same_as_alone(m, cfg.n_vocab, 12, 12, 16, "tiny llama f32");
        bc_state_roundtrip(m, cfg.n_vocab, p, 7, file);
        state_errors(m, other, file);
        prefix_copy(m, cfg.n_vocab);
        abort_between_layers(m, cfg.n_vocab);
        scheduler_cancel(m, cfg.n_vocab);
    }
    mllm_model_free(m);
    mllm_model_free(other);
    cancel_from_another_thread();
    shared_resources(&cfg);
    char ring_file[512];
    tmp_path(ring_file, sizeof ring_file, "ring_state.bin");
    rings(ring_file);
    return test_result("test_batch");
}
