/* Saved session states and prefix copies.
 *
 * A state is, all integers little-endian:
 *   0   8  magic "MLLMSTAT"
 *   8   4  format version (MLLM_STATE_VERSION)
 *   12  4  header bytes (HEADER)
 *   16  8  the model's fingerprint (model_load.c)
 *   24  4  KV type, 28 4 layers, 32 4 values per KV row, 36 4 n_past, 40 4 logits rows (0 or 1),
 *   44  4  n_vocab, 48 8 payload bytes
 *   56     payload: per layer, K rows [0, n_past) then V rows [0, n_past), as the cache stores them;
 *          then the last logits row (n_vocab f32) if any
 *   end 8  FNV-1a 64 of every byte before it
 * A load checks everything, checksum included, before it changes the session. The public functions
 * (api/api_state.c) add argument checks and files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "model/session_state.h"

#define HEADER 56
static const char MAGIC[8] = {'M', 'L', 'L', 'M', 'S', 'T', 'A', 'T'};

#define FNV_START 0xcbf29ce484222325ull
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int32_t logit_rows(const mllm_session *s) { return s->n_logits > 0 ? 1 : 0; }

static uint64_t payload_bytes(const mllm_session *s) {
    return 2 * (uint64_t)s->kv->n_layer * (uint64_t)s->n_past * s->kv->row_bytes +
           (uint64_t)logit_rows(s) * (uint64_t)s->model->hp.n_vocab * sizeof(float);
}

uint64_t mllm_state_bytes(const mllm_session *s) { return HEADER + payload_bytes(s) + 8; }

/* Where a state is written: a buffer or a file, hashing as it goes. */
typedef struct sink {
    uint8_t *buf;
    FILE *file;
    size_t at;
    uint64_t hash;
} sink;

static mllm_status put(sink *k, const void *p, size_t n) {
    k->hash = fnv(k->hash, p, n);
    if (k->file) {
        if (fwrite(p, 1, n, k->file) != n) return mllm_fail(MLLM_ERR_IO, "cannot write the session state");
    } else {
        memcpy(k->buf + k->at, p, n);
    }
    k->at += n;
    return MLLM_OK;
}

static mllm_status write_state(const mllm_session *s, sink *k) {
    const mllm_kv_cache *kv = s->kv;
    uint8_t h[HEADER];
    memcpy(h, MAGIC, 8);
    put32(h + 8, MLLM_STATE_VERSION);
    put32(h + 12, HEADER);
    put64(h + 16, s->model->fingerprint);
    put32(h + 24, (uint32_t)kv->type);
    put32(h + 28, (uint32_t)kv->n_layer);
    put32(h + 32, (uint32_t)kv->row);
    put32(h + 36, (uint32_t)s->n_past);
    put32(h + 40, (uint32_t)logit_rows(s));
    put32(h + 44, (uint32_t)s->model->hp.n_vocab);
    put64(h + 48, payload_bytes(s));
    if (!mllm_kv_cache_holds_prefix(kv, s->n_past)) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED,
                         "cannot save this session's state: its sliding-window layers no longer hold all of its %d tokens "
                         "(a state can be saved while the sequence fits in their window + n_batch - 1 positions)",
                         s->n_past);
    }
    k->hash = FNV_START;
    mllm_status st = put(k, h, HEADER);
    uint8_t *rows = s->n_past > 0 ? malloc((size_t)s->n_past * kv->row_bytes) : NULL;
    if (!st && s->n_past > 0 && !rows) st = mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory saving the session state");
    for (int32_t l = 0; l < kv->n_layer && !st && s->n_past > 0; l++) {
        for (int v = 0; v < 2 && !st; v++) {
            st = mllm_kv_cache_read(kv, v, l, s->n_past, rows);
            if (!st) st = put(k, rows, (size_t)s->n_past * kv->row_bytes);
        }
    }
    free(rows);
    if (!st && logit_rows(s)) {
        const size_t n = (size_t)s->model->hp.n_vocab;
        st = put(k, s->logits + (size_t)(s->n_logits - 1) * n, n * sizeof(float));
    }
    if (st) return st;
    uint8_t sum[8];
    put64(sum, k->hash);
    return put(k, sum, 8);
}

mllm_status mllm_state_write(const mllm_session *s, void *buf, FILE *file) {
    sink k = {.buf = buf, .file = file};
    return write_state(s, &k);
}

static const char *kv_type_name(uint32_t type) {
    return type == MLLM_KV_F16 ? "f16" : type == MLLM_KV_F32 ? "f32" : type == MLLM_KV_Q8_0 ? "q8_0" : "unknown";
}

/* Checks a whole state against the session (nothing changes), then restores it. */
mllm_status mllm_state_read(mllm_session *s, const uint8_t *p, uint64_t size) {
    const mllm_kv_cache *kv = s->kv;
    if (size < HEADER + 8 || memcmp(p, MAGIC, 8) != 0) return mllm_fail(MLLM_ERR_FORMAT, "not a session state (no MLLMSTAT header)");
    const uint32_t version = get32(p + 8);
    if (version != MLLM_STATE_VERSION) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "session state format version %u; this engine reads version %d", version,
                         MLLM_STATE_VERSION);
    }
    if (get32(p + 12) != HEADER) return mllm_fail(MLLM_ERR_FORMAT, "session state header of %u bytes, expected %d", get32(p + 12), HEADER);
    const uint64_t fp = get64(p + 16);
    if (fp != s->model->fingerprint) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT,
                         "the session state belongs to another model (fingerprint %016llx, this model's is %016llx)",
                         (unsigned long long)fp, (unsigned long long)s->model->fingerprint);
    }
    const uint32_t type = get32(p + 24), n_layer = get32(p + 28), row = get32(p + 32), n_past = get32(p + 36);
    const uint32_t rows = get32(p + 40), n_vocab = get32(p + 44);
    const uint64_t payload = get64(p + 48);
    if (type != (uint32_t)kv->type) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "the session state has a %s KV cache, this session a %s one",
                         kv_type_name(type), kv_type_name((uint32_t)kv->type));
    }
    if (n_layer != (uint32_t)kv->n_layer || row != (uint32_t)kv->row || n_vocab != (uint32_t)s->model->hp.n_vocab || rows > 1) {
        return mllm_fail(MLLM_ERR_FORMAT, "the session state's shape (%u layers, rows of %u, vocabulary %u) does not match its model",
                         n_layer, row, n_vocab);
    }
    if (n_past > (uint32_t)s->params.n_ctx) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "the session state holds %u tokens, more than this session's n_ctx %d", n_past,
                         s->params.n_ctx);
    }
    if (!mllm_kv_cache_rings_fit(kv, (int32_t)n_past)) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED,
                         "the session state holds %u tokens, more than this session's sliding-window layers hold (their "
                         "window + n_batch - 1 positions)",
                         n_past);
    }
    const uint64_t kv_bytes = 2 * (uint64_t)n_layer * n_past * kv->row_bytes;
    const uint64_t expect = kv_bytes + (uint64_t)rows * n_vocab * sizeof(float);
    if (payload != expect || size != HEADER + expect + 8) {
        return mllm_fail(MLLM_ERR_FORMAT, "the session state is %llu bytes, its header implies %llu (truncated or damaged)",
                         (unsigned long long)size, (unsigned long long)(HEADER + expect + 8));
    }
    if (fnv(FNV_START, p, (size_t)size - 8) != get64(p + size - 8)) {
        return mllm_fail(MLLM_ERR_FORMAT, "the session state's checksum does not match its contents (damaged)");
    }
    const uint8_t *d = p + HEADER;
    const size_t layer_bytes = (size_t)n_past * kv->row_bytes;
    mllm_session_truncate_impl(s, 0); /* also for an empty state: no ring bookkeeping of the old sequence stays */
    for (uint32_t l = 0; l < n_layer && n_past > 0; l++) {
        for (int v = 0; v < 2; v++, d += layer_bytes) {
            mllm_status st = mllm_kv_cache_write(s->kv, v, (int32_t)l, (int32_t)n_past, d);
            if (st) { /* a device failure half way: the cache holds a mix, so the sequence is forgotten */
                mllm_session_truncate_impl(s, 0);
                return st;
            }
        }
    }
    s->n_past = (int32_t)n_past;
    s->n_logits = (int32_t)rows;
    if (rows) memcpy(s->logits, d, (size_t)n_vocab * sizeof(float));
    return MLLM_OK;
}

uint64_t mllm_state_max_bytes(const mllm_session *s) {
    return HEADER + 2 * (uint64_t)s->kv->n_layer * (uint64_t)s->params.n_ctx * s->kv->row_bytes +
           (uint64_t)s->model->hp.n_vocab * sizeof(float) + 8;
}

mllm_status mllm_session_copy_prefix_impl(mllm_session *dst, const mllm_session *src, int32_t n) {
    /* a ring that no longer holds the prefix is refused before anything is written: dst unchanged */
    mllm_status st = mllm_kv_cache_copy_prefix(dst->kv, src->kv, n);
    if (st == MLLM_ERR_UNSUPPORTED) return st;
    if (st) { /* a device failure half way: the cache holds a mix, so the sequence is forgotten */
        mllm_session_truncate_impl(dst, 0);
        return st;
    }
    dst->n_past = n; /* the copy set the rings' bookkeeping for positions 0..n-1 */
    dst->n_logits = 0;
    return MLLM_OK;
}
