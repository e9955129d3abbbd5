/* Checks of batched decoding shared by test_batch.c (CPU) and test_vulkan_batch.c: many sequences
 * advanced together by a scheduler (continuous batching, chunked prefill, sequences waiting for a
 * place and joining later) must produce exactly the greedy tokens each produces alone (one
 * session, mllm_session_eval one token at a time, argmax of its logits), and those must follow the
 * transformers greedy ids of the reference checkpoints (testdata/reference) wherever transformers'
 * top-2 margin leaves no doubt; and a restored state must continue exactly as the saved session,
 * also for sliding-window rings (bc_rings). */
#ifndef TEST_BATCH_CHECKS_H
#define TEST_BATCH_CHECKS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mobilellm.h"
#include "checkpoints.h"
#include "test_check.h"

enum { BC_MAX_GEN = 64, BC_PROMPTS = 3 };

static inline int32_t bc_argmax(const float *x, int n) {
    int32_t b = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[b]) b = i;
    return b;
}

static inline mllm_model *bc_load(const char *path, int backend) {
    mllm_model_params mp;
    mllm_model_params_init(&mp);
    mp.backend = backend;
    mp.n_threads = 2;
    mllm_model *m = NULL;
    CHECK_OK(mllm_model_load(path, &mp, &m));
    return m;
}

static inline mllm_session *bc_session(mllm_model *m, int n_ctx) {
    mllm_session_params sp;
    mllm_session_params_init(&sp);
    sp.n_ctx = n_ctx;
    mllm_session *s = NULL;
    CHECK_OK(mllm_session_create(m, &sp, &s));
    return s;
}

/* The prompt in one eval, then one eval per greedy token (no scheduler). */
static inline void bc_greedy(mllm_session *s, int n_vocab, const int32_t *prompt, int n_prompt, int n_gen, int32_t *out) {
    CHECK_OK(mllm_session_eval(s, prompt, n_prompt, MLLM_LOGITS_LAST));
    for (int g = 0; g < n_gen; g++) {
        int32_t rows = 0;
        const float *lg = mllm_session_logits(s, &rows);
        out[g] = lg ? bc_argmax(lg, n_vocab) : -1;
        if (g + 1 < n_gen) CHECK_OK(mllm_session_eval(s, &out[g], 1, MLLM_LOGITS_LAST));
    }
}

/* The sequence alone, in a session of its own. */
static inline void bc_alone(mllm_model *m, int n_vocab, const int32_t *prompt, int n_prompt, int n_gen, int32_t *out) {
    mllm_session *s = bc_session(m, n_prompt + n_gen + 8);
    if (!s) return;
    bc_greedy(s, n_vocab, prompt, n_prompt, n_gen, out);
    mllm_session_free(s);
}

typedef struct bc_seq {
    const int32_t *prompt;
    int n_prompt, n_gen;
    mllm_session *s;
    int32_t id;
} bc_seq;

static inline void bc_submit(mllm_scheduler *sch, bc_seq *q) {
    mllm_seq_params p;
    memset(&p, 0, sizeof p);
    p.session = q->s;
    p.prompt = q->prompt;
    p.n_prompt = q->n_prompt;
    p.max_tokens = q->n_gen;
    p.ignore_eos = 1;
    CHECK_OK(mllm_scheduler_submit(sch, &p, &q->id));
}

/* n sequences through one scheduler of max_seqs places and step_tokens per step: the first
 * n - late are submitted at once, the others after two steps (they join running ones). Each
 * sequence's tokens go to out[i * BC_MAX_GEN ...]; returns the steps taken. */
static inline int bc_scheduled(mllm_model *m, bc_seq *q, int n, int late, int max_seqs, int step_tokens, int32_t *out) {
    mllm_scheduler_params pp;
    mllm_scheduler_params_init(&pp);
    pp.max_seqs = max_seqs;
    pp.step_tokens = step_tokens;
    mllm_scheduler *sch = NULL;
    CHECK_OK(mllm_scheduler_create(m, &pp, &sch));
    if (!sch) return 0;
    for (int i = 0; i < n; i++) q[i].s = bc_session(m, q[i].n_prompt + q[i].n_gen + 8);
    for (int i = 0; i < n - late; i++) bc_submit(sch, &q[i]);
    int steps = 0, active = 1;
    while (active > 0 && steps < 10000) {
        if (steps == 2)
            for (int i = n - late; i < n; i++) bc_submit(sch, &q[i]);
        CHECK_OK(mllm_scheduler_step(sch, &active));
        steps++;
        if (steps <= 2 && late > 0) active = 1; /* the late ones are still to come */
    }
    for (int i = 0; i < n; i++) {
        mllm_seq_result r;
        CHECK_OK(mllm_scheduler_result(sch, q[i].id, &r, out + (size_t)i * BC_MAX_GEN, BC_MAX_GEN));
        CHECK(r.status == MLLM_OK && r.stop_reason == MLLM_STOP_MAX_TOKENS && r.n_tokens == q[i].n_gen,
              "sequence %d: status %d stop %d, %d tokens (%s)", i, r.status, r.stop_reason, r.n_tokens, r.message);
        CHECK(mllm_session_n_past(q[i].s) == q[i].n_prompt + q[i].n_gen - 1,
              "every returned token but the last (it ended the sequence) is in the cache");
        CHECK_OK(mllm_scheduler_release(sch, q[i].id));
    }
    mllm_scheduler_free(sch);
    for (int i = 0; i < n; i++) mllm_session_free(q[i].s);
    return steps;
}

/* A reference checkpoint's three prompts (and their copies, so that more sequences than places
 * run), scheduled in small steps: identical to alone, and alone as transformers. */
static inline void bc_checkpoint_case(const spec *sp, int backend, const char *gguf) {
    char path[512];
    snprintf(path, sizeof path, "%s/reference/%s.json", MLLM_TEST_DATA, sp->name);
    char *json = read_all(path, NULL);
    CHECK(json != NULL, "%s", path);
    CHECK(convert(sp, gguf) == 0);
    mllm_model *m = json ? bc_load(gguf, backend) : NULL;
    if (!m) {
        free(json);
        return;
    }
    enum { N = 6 };
    static int32_t ids[BC_PROMPTS][64], alone[BC_PROMPTS][BC_MAX_GEN], got[N * BC_MAX_GEN];
    double d[64], greedy[BC_PROMPTS][64], margin[BC_PROMPTS][64];
    int n_ids[BC_PROMPTS], n_greedy[BC_PROMPTS];
    bc_seq q[N];
    for (int p = 0; p < BC_PROMPTS; p++) {
        n_ids[p] = json_array(json, "\"ids\": [", p, d, 64);
        n_greedy[p] = json_array(json, "\"greedy_ids\": [", p, greedy[p], 64);
        CHECK(json_array(json, "\"greedy_top2_margins\": [", p, margin[p], 64) == n_greedy[p] && n_ids[p] > 1 && n_greedy[p] > 0);
        for (int i = 0; i < n_ids[p]; i++) ids[p][i] = (int32_t)d[i];
        bc_alone(m, sp->vocab, ids[p], n_ids[p], n_greedy[p], alone[p]);
    }
    for (int i = 0; i < N; i++) {
        const int p = i % BC_PROMPTS;
        q[i] = (bc_seq){.prompt = ids[p], .n_prompt = n_ids[p], .n_gen = n_greedy[p] - (i >= BC_PROMPTS ? 3 : 0)};
    }
    /* 4 places for 6 sequences (2 wait), 2 of them joining after two steps; 7 tokens per step, so
     * prompts are read in chunks within the same steps as other sequences' decodes */
    const int steps = bc_scheduled(m, q, N, 2, 4, 7, got);
    int same = 1, compared = 0, agree = 0;
    for (int i = 0; i < N; i++) {
        const int p = i % BC_PROMPTS;
        for (int g = 0; g < q[i].n_gen; g++) same &= got[i * BC_MAX_GEN + g] == alone[p][g];
    }
    for (int p = 0; p < BC_PROMPTS; p++) {
        /* the F16 KV cache rounds K/V: compare while transformers' top two are clearly apart (the
         * threshold of test_vulkan.c's F16 comparison) */
        for (int g = 0; g < n_greedy[p] && margin[p][g] >= 5e-2; g++, compared++) agree += alone[p][g] == (int32_t)greedy[p][g];
    }
    printf("%-28s %s: %d sequences in %d steps, greedy %s as alone; alone as transformers %d/%d\n", sp->name,
           backend == MLLM_BACKEND_VULKAN ? "vulkan" : "cpu", N, steps, same ? "same" : "DIFFERENT", agree, compared);
    CHECK(same, "%s: batched greedy differs from the sequences alone", sp->name);
    CHECK(compared > 0 && agree == compared, "%s: greedy differs from transformers", sp->name);
    mllm_model_free(m);
    remove(gguf);
    free(json);
}

/* n sequences of a model (prompts of 3 to 3 + 2 (n - 1) tokens) through places places and
 * step_tokens tokens per step, the last two joining after two steps, as in bc_checkpoint_case:
 * identical to each alone. */
enum { BC_MANY = 12 };
static inline void bc_same_as_alone(mllm_model *m, int n_vocab, int n, int places, int step_tokens, const char *label) {
    enum { GEN = 24 };
    static int32_t prompts[BC_MANY][3 + 2 * BC_MANY], alone[BC_MANY][BC_MAX_GEN], got[BC_MANY * BC_MAX_GEN];
    bc_seq q[BC_MANY];
    if (n > BC_MANY) n = BC_MANY;
    for (int i = 0; i < n; i++) {
        const int len = 3 + 2 * i;
        for (int k = 0; k < len; k++) prompts[i][k] = (int32_t)((k * 13 + i * 7 + 1) % n_vocab);
        q[i] = (bc_seq){.prompt = prompts[i], .n_prompt = len, .n_gen = GEN - i % 8};
        bc_alone(m, n_vocab, prompts[i], len, q[i].n_gen, alone[i]);
    }
    const int steps = bc_scheduled(m, q, n, 2, places, step_tokens, got);
    int same = 1;
    for (int i = 0; i < n; i++) same &= memcmp(got + (size_t)i * BC_MAX_GEN, alone[i], sizeof(int32_t) * (size_t)q[i].n_gen) == 0;
    printf("%-28s: %d sequences (%d places, %d tokens a step) in %d steps, greedy %s as alone\n", label, n, places, step_tokens,
           steps, same ? "same" : "DIFFERENT");
    CHECK(same, "%s: batched greedy differs from the sequences alone", label);
}

/* Save after a prompt, restore into a fresh session: its logits and the next eval's logits are the
 * saved session's, bit for bit (the same backend computing the same rows). */
static inline void bc_state_roundtrip(mllm_model *m, int n_vocab, const int32_t *prompt, int n, const char *file) {
    mllm_session *a = bc_session(m, 64), *b = bc_session(m, 64);
    if (!a || !b) return;
    CHECK_OK(mllm_session_eval(a, prompt, n, MLLM_LOGITS_LAST));
    int64_t size = 0, written = 0;
    CHECK_OK(mllm_session_state_size(a, &size));
    void *buf = malloc((size_t)size);
    CHECK_OK(mllm_session_state_save(a, buf, size, &written));
    CHECK(written == size);
    CHECK_OK(mllm_session_state_load(b, buf, size));
    CHECK(mllm_session_n_past(b) == n);
    int32_t ra = 0, rb = 0;
    const float *la = mllm_session_logits(a, &ra), *lb = mllm_session_logits(b, &rb);
    CHECK(la && lb && ra == 1 && rb == 1 && memcmp(la, lb, sizeof(float) * (size_t)n_vocab) == 0, "restored logits");
    const int32_t next = la ? bc_argmax(la, n_vocab) : 0;
    CHECK_OK(mllm_session_eval(a, &next, 1, MLLM_LOGITS_LAST));
    CHECK_OK(mllm_session_eval(b, &next, 1, MLLM_LOGITS_LAST));
    la = mllm_session_logits(a, &ra);
    lb = mllm_session_logits(b, &rb);
    CHECK(la && lb && memcmp(la, lb, sizeof(float) * (size_t)n_vocab) == 0, "logits after the restored state");
    /* through a file: the same */
    CHECK_OK(mllm_session_state_save_file(a, file));
    mllm_session *c = bc_session(m, 64);
    CHECK_OK(mllm_session_state_load_file(c, file));
    const float *lc = mllm_session_logits(c, &rb);
    la = mllm_session_logits(a, &ra);
    CHECK(c && mllm_session_n_past(c) == n + 1 && lc && memcmp(la, lc, sizeof(float) * (size_t)n_vocab) == 0);
    remove(file);
    mllm_session_free(c);
    free(buf);
    mllm_session_free(a);
    mllm_session_free(b);
}

/* A session of a model with window-5 layers (util/tiny_model.h tiny_pro): n_batch 4 makes them
 * rings of 5 + 4 - 1 = 8 positions (stored twice) in a context of 64; n_batch 0 (the default, 256)
 * gives every layer all 64 rows, the independent reference (a windowed query reads the same keys). */
static inline mllm_session *bc_ring_session(mllm_model *m, int n_batch, int kv_type) {
    mllm_session_params sp;
    mllm_session_params_init(&sp);
    sp.n_ctx = 64;
    if (n_batch) sp.n_batch = n_batch;
    sp.kv_type = kv_type;
    mllm_session *s = NULL;
    CHECK_OK(mllm_session_create(m, &sp, &s));
    return s;
}

/* Sliding-window rings where serving meets them, on a tiny_pro model: (1) three sequences with
 * rings (cache type kv_sched) scheduled together, in steps of more tokens than their n_batch, give
 * the greedy tokens of full-cache sessions alone; (2) for kv_sched and kv_other, a state saved and
 * restored, and a prefix copied, while the rings still hold positions 0..n-1, continue bit for bit
 * as the source; once a ring has wrapped both are refused with MLLM_ERR_UNSUPPORTED, the sessions
 * unchanged; (3), (4) below. */
static inline void bc_rings(mllm_model *m, int n_vocab, int kv_sched, int kv_other, const char *label, const char *file) {
    enum { N = 3, GEN = 14 };
    static const int32_t prompts[N][11] = {{3, 9, 27, 1, 5, 7, 11, 2, 8, 30, 4}, {6, 2}, {12, 14, 16, 18, 20, 22}};
    static const int np[N] = {11, 2, 6};
    static int32_t alone[N][BC_MAX_GEN], got[N * BC_MAX_GEN];
    bc_seq q[N];
    for (int i = 0; i < N; i++) {
        mllm_session *full = bc_ring_session(m, 0, kv_sched);
        if (full) bc_greedy(full, n_vocab, prompts[i], np[i], GEN, alone[i]);
        mllm_session_free(full);
        q[i] = (bc_seq){.prompt = prompts[i], .n_prompt = np[i], .n_gen = GEN, .s = bc_ring_session(m, 4, kv_sched)};
    }
    mllm_scheduler_params pp;
    mllm_scheduler_params_init(&pp);
    pp.max_seqs = N;
    pp.step_tokens = 9; /* more than a ring session's n_batch: its prompt goes in chunks of 4 */
    mllm_scheduler *sch = NULL;
    CHECK_OK(mllm_scheduler_create(m, &pp, &sch));
    for (int i = 0; i < N && sch; i++) bc_submit(sch, &q[i]);
    for (int active = 1, steps = 0; sch && active > 0 && steps < 1000; steps++) CHECK_OK(mllm_scheduler_step(sch, &active));
    int same = 1;
    for (int i = 0; i < N && sch; i++) {
        mllm_seq_result r;
        CHECK_OK(mllm_scheduler_result(sch, q[i].id, &r, got + (size_t)i * BC_MAX_GEN, BC_MAX_GEN));
        CHECK(r.status == MLLM_OK && r.n_tokens == GEN, "%s: ring sequence %d: status %d, %d tokens (%s)", label, i, r.status,
              r.n_tokens, r.message);
        same &= memcmp(got + (size_t)i * BC_MAX_GEN, alone[i], sizeof(int32_t) * GEN) == 0;
    }
    printf("%-28s: %d ring sequences scheduled, greedy %s as full caches alone\n", label, N, same ? "same" : "DIFFERENT");
    CHECK(same, "%s: ring sequences scheduled differ from full caches alone", label);
    mllm_scheduler_free(sch);
    for (int i = 0; i < N; i++) mllm_session_free(q[i].s);

    const int kv_types[2] = {kv_sched, kv_other};
    for (int t = 0; t < 2; t++) {
        mllm_session *a = bc_ring_session(m, 4, kv_types[t]), *b = bc_ring_session(m, 4, kv_types[t]);
        mllm_session *d = bc_ring_session(m, 4, kv_types[t]);
        if (!a || !b || !d) return;
        CHECK_OK(mllm_session_eval(a, prompts[0], 6, MLLM_LOGITS_LAST)); /* 6 positions: the rings of 8 hold them all */
        CHECK_OK(mllm_session_state_save_file(a, file));
        CHECK_OK(mllm_session_state_load_file(b, file));
        CHECK_OK(mllm_session_copy_prefix(d, a, 6));
        const int32_t next[] = {7, 1, 2};
        for (int i = 0; i < 3; i++) {
            CHECK_OK(mllm_session_eval(a, &next[i], 1, MLLM_LOGITS_LAST));
            CHECK_OK(mllm_session_eval(b, &next[i], 1, MLLM_LOGITS_LAST));
            CHECK_OK(mllm_session_eval(d, &next[i], 1, MLLM_LOGITS_LAST));
        }
        int32_t ra, rb, rd;
        const float *la = mllm_session_logits(a, &ra), *lb = mllm_session_logits(b, &rb), *ld = mllm_session_logits(d, &rd);
        CHECK(la && lb && memcmp(la, lb, sizeof(float) * (size_t)n_vocab) == 0, "%s kv %d: restored ring state", label, kv_types[t]);
        CHECK(la && ld && memcmp(la, ld, sizeof(float) * (size_t)n_vocab) == 0, "%s kv %d: copied ring prefix", label, kv_types[t]);
        /* 9 positions: the rings of 8 have wrapped, position 0 is gone */
        CHECK_ERR(mllm_session_state_save_file(a, file), MLLM_ERR_UNSUPPORTED, "sliding-window");
        CHECK_ERR(mllm_session_copy_prefix(d, a, 2), MLLM_ERR_UNSUPPORTED, "ring");
        CHECK(mllm_session_n_past(a) == 9 && mllm_session_n_past(d) == 9, "%s: refusals leave the sessions as they were", label);
        remove(file);
        mllm_session_free(a);
        mllm_session_free(b);
        mllm_session_free(d);
    }

    /* (3) A batch item may write at most n_batch positions of a ring session: more would overwrite
     * keys its own first query still reads. (4) Restoring an empty state forgets the rings'
     * bookkeeping of the old sequence: 11 tokens truncated to 10 leave the rings holding positions
     * from 3 on; after the restore a new prompt gives a fresh session's logits. */
    mllm_session *a = bc_ring_session(m, 4, kv_sched), *e = bc_ring_session(m, 4, kv_sched), *f = bc_ring_session(m, 4, kv_sched);
    mllm_batch *bt = NULL;
    CHECK_OK(mllm_batch_create(m, 16, 2, &bt));
    if (a && e && f && bt) {
        CHECK_ERR(mllm_batch_add(bt, a, prompts[0], 5, MLLM_LOGITS_LAST), MLLM_ERR_UNSUPPORTED, "n_batch 4");
        CHECK_OK(mllm_session_eval(a, prompts[0], np[0], MLLM_LOGITS_NONE));
        CHECK_OK(mllm_session_truncate(a, 10));
        CHECK(mllm_session_n_past(a) == 10, "%s: truncation within the rings keeps the tokens", label);
        CHECK_OK(mllm_session_state_save_file(e, file));
        CHECK_OK(mllm_session_state_load_file(a, file));
        CHECK(mllm_session_n_past(a) == 0, "%s: an empty state restored", label);
        CHECK_OK(mllm_session_eval(a, prompts[2], np[2], MLLM_LOGITS_LAST));
        CHECK_OK(mllm_session_eval(f, prompts[2], np[2], MLLM_LOGITS_LAST));
        int32_t ra, rf;
        const float *la = mllm_session_logits(a, &ra), *lf = mllm_session_logits(f, &rf);
        CHECK(la && lf && memcmp(la, lf, sizeof(float) * (size_t)n_vocab) == 0, "%s: after restoring an empty state", label);
        remove(file);
    }
    mllm_batch_free(bt);
    mllm_session_free(a);
    mllm_session_free(e);
    mllm_session_free(f);
}
/* ---- embeddings of several texts in one pass (mllm_batch_add_embed) ---- */

enum { BE_TEXTS = 7, BE_MAX_LEN = 20, BE_SESSIONS = 3 };

/* Texts of different lengths (1..20 tokens) for the batched embedding checks. */
static inline int be_text(int t, int32_t *out) {
    static const int lens[BE_TEXTS] = {5, 1, 20, 12, 3, 17, 8};
    for (int i = 0; i < lens[t]; i++) out[i] = (int32_t)((t * 7 + i * 13 + 1) % 31);
    return lens[t];
}

/* Embeds every text through batches of at most 24 tokens and BE_SESSIONS sessions (so the texts
 * take several decodes, each session reused, each batch mixing lengths), writing n_embd floats per
 * text into out. The sessions start with tokens of their own: an embedding starts from an empty
 * sequence whatever the session held. */
static inline void be_embed_batched(mllm_model *m, int pooling, int normalize, int n_embd, float *out) {
    mllm_session *s[BE_SESSIONS];
    const int32_t junk[] = {4, 9, 16};
    for (int i = 0; i < BE_SESSIONS; i++) {
        s[i] = bc_session(m, 32);
        CHECK_OK(mllm_session_eval(s[i], junk, 3, MLLM_LOGITS_LAST));
    }
    mllm_batch *bt = NULL;
    CHECK_OK(mllm_batch_create(m, 24, BE_SESSIONS, &bt));
    int32_t tok[BE_MAX_LEN];
    int next = 0, decodes = 0;
    while (next < BE_TEXTS && bt) {
        int first = next, used = 0;
        while (next < BE_TEXTS && used < BE_SESSIONS) {
            int n = be_text(next, tok);
            if (mllm_batch_add_embed(bt, s[used], tok, n, pooling, normalize) != MLLM_OK) break; /* the batch is full */
            next++;
            used++;
        }
        CHECK(used > 0, "text %d fits no empty batch", next);
        if (used == 0) break;
        CHECK_OK(mllm_batch_decode(bt));
        decodes++;
        for (int i = 0; i < used; i++) {
            CHECK_OK(mllm_session_embedding(s[i], out + (size_t)(first + i) * n_embd));
            CHECK(mllm_session_n_past(s[i]) == 0, "an embedding leaves its session empty");
        }
    }
    CHECK(decodes >= 3, "%d texts in %d decodes: the batches never filled up", BE_TEXTS, decodes);
    mllm_batch_free(bt);
    for (int i = 0; i < BE_SESSIONS; i++) mllm_session_free(s[i]);
}

/* mllm_batch_add_embed: each text's embedding from a batched pass equals mllm_session_embed's for
 * both poolings, with and without normalisation, within tol (the caller says why). */
static inline void bc_embeddings_same_as_alone(mllm_model *m, int n_embd, double tol, const char *label) {
    float *batched = malloc(sizeof(float) * (size_t)BE_TEXTS * n_embd), *alone = malloc(sizeof(float) * (size_t)n_embd);
    mllm_session *ref = bc_session(m, 32);
    int32_t tok[BE_MAX_LEN];
    for (int pooling = MLLM_POOLING_MEAN; pooling <= MLLM_POOLING_LAST; pooling++) {
        for (int normalize = 0; normalize <= 1; normalize++) {
            be_embed_batched(m, pooling, normalize, n_embd, batched);
            double worst = 0, scale = 0;
            for (int t = 0; t < BE_TEXTS; t++) {
                int n = be_text(t, tok);
                CHECK_OK(mllm_session_embed(ref, tok, n, pooling, normalize, alone));
                for (int i = 0; i < n_embd; i++) {
                    worst = fmax(worst, fabs((double)batched[(size_t)t * n_embd + i] - alone[i]));
                    scale = fmax(scale, fabs((double)alone[i]));
                }
            }
            /* normed hidden states of magnitude ~1-3 from f32 sums of a few hundred products: a
             * matmul over more rows may sum in another order, moving them by ~1e-6 */
            printf("%-28s: batched embeddings, pooling %s%s: max |batched - alone| %.1e (max |x| %.2f)\n", label,
                   pooling == MLLM_POOLING_MEAN ? "mean" : "last", normalize ? " normalized" : "", worst, scale);
            CHECK(scale > 0.1, "embeddings are not all zero (max |x| %.2e)", scale);
            CHECK(worst < tol, "pooling %d normalize %d: batched embeddings differ from mllm_session_embed by %.2e", pooling,
                  normalize, worst);
        }
    }
    mllm_session_free(ref);
    free(batched);
    free(alone);
}

#endif
