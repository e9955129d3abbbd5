/* Text -> token ids, following SentencePiece's BPE encoder as the LLaMA tokenizer uses it:
 *  1. parse_special: split the text around literal control tokens ("<s>") which become ids;
 *  2. normalise each text fragment: dummy prefix U+2581 (when add_space_prefix), ' ' -> U+2581;
 *  3. split into symbols: user-defined pieces (longest match, never merged further), else one
 *     UTF-8 character, else one invalid byte;
 *  4. repeatedly merge the adjacent pair whose concatenation is a NORMAL, USER_DEFINED or UNUSED
 *     piece with the highest score (ties: leftmost), via a max-heap of candidate pairs over a
 *     linked list of symbols; stale heap entries are recognised by their length and skipped
 *     (O(n log n)); CONTROL, UNKNOWN and BYTE pieces are never merge results;
 *  5. a final symbol that is an UNUSED piece is split again where its last recorded merge
 *     joined it (recursively), so unused pieces never reach the output;
 *  6. each final symbol -> its id; if not in the vocabulary -> one "<0xAB>" piece per byte
 *     (byte fallback), or the unknown token, consecutive unknowns collapsing into one. */
#include "tokenizer/vocab_internal.h"
#include "tokenizer/utf8.h"

#include <stdlib.h>
#include <string.h>

#define SPACE_SYMBOL "\xE2\x96\x81" /* U+2581 LOWER ONE EIGHTH BLOCK */

typedef struct bpe_symbol {
    int32_t start, len;  /* bytes of the normalised fragment */
    int32_t prev, next;  /* linked list; -1 at the ends */
    int32_t frozen_id;   /* user-defined piece id (never merged), else -1 */
} bpe_symbol;

typedef struct bpe_pair {
    float score;
    int32_t left, right; /* symbol indices; the merge keeps `left` */
    int32_t len;         /* bytes of the concatenation: detects stale entries */
    int32_t id;
} bpe_pair;

typedef struct span {
    int32_t start, len;
} span;

typedef struct encoder {
    const mllm_vocab *v;
    char *norm;          /* normalised fragment */
    bpe_symbol *sym;
    bpe_pair *heap;
    int32_t heap_n;
    /* Where an UNUSED piece was last split into a candidate pair (SentencePiece's reverse
     * merges), valid when split_gen[i] == gen (the fragment being encoded). */
    int32_t *split_at, *split_gen, gen;
    span *stack;         /* resegmentation work list */
    int32_t *out;        /* growable token list */
    int64_t n_out, cap_out;
    int prev_unk;        /* last emitted token was an unknown made from text */
    int failed;          /* out of memory */
} encoder;

static void emit(encoder *e, int32_t id) {
    if (e->failed) return;
    if (e->n_out == e->cap_out) {
        int64_t cap = e->cap_out ? e->cap_out * 2 : 64;
        int32_t *p = realloc(e->out, sizeof(int32_t) * (size_t)cap);
        if (!p) { e->failed = 1; return; }
        e->out = p;
        e->cap_out = cap;
    }
    e->out[e->n_out++] = id;
    e->prev_unk = 0;
}

/* SentencePiece merges a run of unknown pieces into one. */
static void emit_unk(encoder *e) {
    if (e->prev_unk) return;
    emit(e, e->v->unk);
    e->prev_unk = 1;
}

/* Max-heap order: higher score first, then the leftmost pair. */
static int pair_before(const bpe_pair *a, const bpe_pair *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static void heap_push(encoder *e, bpe_pair p) {
    int32_t i = e->heap_n++;
    while (i > 0) {
        int32_t parent = (i - 1) / 2;
        if (!pair_before(&p, &e->heap[parent])) break;
        e->heap[i] = e->heap[parent];
        i = parent;
    }
    e->heap[i] = p;
}

static bpe_pair heap_pop(encoder *e) {
    bpe_pair top = e->heap[0];
    bpe_pair last = e->heap[--e->heap_n];
    int32_t i = 0, n = e->heap_n;
    for (;;) {
        int32_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && pair_before(&e->heap[c + 1], &e->heap[c])) c++;
        if (!pair_before(&e->heap[c], &last)) break;
        e->heap[i] = e->heap[c];
        i = c;
    }
    if (n > 0) e->heap[i] = last;
    return top;
}

static void try_pair(encoder *e, int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const bpe_symbol *l = &e->sym[left], *r = &e->sym[right];
    if (l->frozen_id >= 0 || r->frozen_id >= 0) return;
    int32_t len = l->len + r->len;
    int32_t id = mllm_piece_map_find(&e->v->map, e->norm + l->start, (uint32_t)len);
    if (id < 0) return;
    int32_t t = e->v->types[id];
    if (t != MLLM_TOKEN_NORMAL && t != MLLM_TOKEN_USER_DEFINED && t != MLLM_TOKEN_UNUSED) return;
    bpe_pair p = {e->v->scores[id], left, right, len, id};
    heap_push(e, p);
    if (t == MLLM_TOKEN_UNUSED) { /* a pair is recorded when queued, not when merged */
        int32_t u = e->v->unused_index[id];
        e->split_at[u] = l->len;
        e->split_gen[u] = e->gen;
    }
}

static int32_t normalise(const mllm_vocab *v, const char *text, int32_t len, char *dst) {
    int32_t n = 0;
    if (v->add_space_prefix) {
        memcpy(dst, SPACE_SYMBOL, 3);
        n = 3;
    }
    for (int32_t i = 0; i < len; i++) {
        if (text[i] == ' ') {
            memcpy(dst + n, SPACE_SYMBOL, 3);
            n += 3;
        } else {
            dst[n++] = text[i];
        }
    }
    return n;
}

static int32_t split_symbols(encoder *e, int32_t n) {
    int32_t count = 0, pos = 0;
    while (pos < n) {
        int32_t uid = mllm_literal_match(e->v, &e->v->user, e->norm + pos, n - pos);
        int32_t len;
        if (uid >= 0) {
            len = (int32_t)e->v->lens[uid];
        } else {
            len = mllm_utf8_char_len((const unsigned char *)e->norm + pos, n - pos);
            if (len == 0) len = 1; /* an invalid byte is a symbol of its own */
        }
        bpe_symbol s = {pos, len, count - 1, -1, uid};
        e->sym[count] = s;
        if (count > 0) e->sym[count - 1].next = count;
        count++;
        pos += len;
    }
    return count;
}

static void emit_piece(encoder *e, int32_t start, int32_t len) {
    const char *p = e->norm + start;
    int32_t id = mllm_piece_map_find(&e->v->map, p, (uint32_t)len);
    if (id >= 0) {
        emit(e, id);
    } else if (!e->v->has_byte_fallback) {
        emit_unk(e);
    } else {
        for (int32_t i = 0; i < len; i++) {
            int32_t b = e->v->byte_ids[(unsigned char)p[i]];
            if (b >= 0) emit(e, b);
            else emit_unk(e);
        }
    }
}

/* Splits recorded UNUSED merges apart, left part first. Each split shortens the span, so the
 * work list never holds more entries than the symbol has bytes. */
static void emit_symbol(encoder *e, const bpe_symbol *s) {
    if (s->frozen_id >= 0) {
        emit(e, s->frozen_id);
        return;
    }
    int32_t top = 0;
    e->stack[top++] = (span){s->start, s->len};
    while (top > 0) {
        span w = e->stack[--top];
        int32_t id = mllm_piece_map_find(&e->v->map, e->norm + w.start, (uint32_t)w.len);
        int32_t u = id >= 0 ? e->v->unused_index[id] : -1;
        if (u < 0 || e->split_gen[u] != e->gen) {
            emit_piece(e, w.start, w.len);
            continue;
        }
        int32_t cut = e->split_at[u];
        e->stack[top++] = (span){w.start + cut, w.len - cut};
        e->stack[top++] = (span){w.start, cut};
    }
}

static void encode_fragment(encoder *e, const char *text, int32_t len) {
    if (len == 0) return;
    e->gen++;
    int32_t n = normalise(e->v, text, len, e->norm);
    int32_t n_sym = split_symbols(e, n);
    e->heap_n = 0;
    for (int32_t i = 0; i + 1 < n_sym; i++) try_pair(e, i, i + 1);
    while (e->heap_n > 0) {
        bpe_pair p = heap_pop(e);
        bpe_symbol *l = &e->sym[p.left], *r = &e->sym[p.right];
        if (l->len == 0 || r->len == 0 || l->len + r->len != p.len) continue; /* stale */
        l->len = p.len;
        l->next = r->next;
        if (r->next >= 0) e->sym[r->next].prev = p.left;
        r->len = 0;
        try_pair(e, l->prev, p.left);
        try_pair(e, p.left, l->next);
    }
    for (int32_t i = 0; i >= 0 && n_sym > 0; i = e->sym[i].next) emit_symbol(e, &e->sym[i]);
}

int32_t mllm_vocab_encode(const mllm_vocab *v, const char *text, int32_t len, int32_t *out,
                          int32_t n_max, int add_bos, int parse_special) {
    if (!v || len < 0 || len > MLLM_VOCAB_MAX_TEXT || (len > 0 && !text) || n_max < 0 || (n_max > 0 && !out))
        return INT32_MIN;
    if (v->kind == MLLM_VOCAB_BYTELEVEL) return mllm_bytelevel_encode(v, text, len, out, n_max, add_bos, parse_special);
    encoder e = {0};
    e.v = v;
    /* Bytes of the longest normalised fragment: a 3-byte dummy prefix, each space a 3-byte
     * U+2581. Every symbol covers at least one of those bytes, and that is the only bound: a
     * user-defined piece that is part of a U+2581 leaves its other bytes as symbols of their own,
     * so a space can become three symbols. The heap holds the initial pairs plus at most two per
     * merge; the resegmentation stack at most one span per byte. */
    size_t spaces = 0;
    for (int32_t i = 0; i < len; i++) spaces += text[i] == ' ';
    const size_t max_norm = (size_t)len + 2 * spaces + 3;
    e.norm = malloc(max_norm);
    e.sym = malloc(sizeof(bpe_symbol) * max_norm);
    e.heap = malloc(sizeof(bpe_pair) * max_norm * 3);
    e.stack = malloc(sizeof(span) * max_norm);
    e.split_at = malloc(sizeof(int32_t) * (size_t)(v->n_unused + 1));
    e.split_gen = calloc((size_t)v->n_unused + 1, sizeof(int32_t)); /* gen starts at 1: none valid */
    if (!e.norm || !e.sym || !e.heap || !e.stack || !e.split_at || !e.split_gen) e.failed = 1;
    if (add_bos && v->bos >= 0) emit(&e, v->bos);
    int32_t frag = 0;
    if (parse_special && !e.failed) {
        for (int32_t pos = 0; pos < len;) {
            int32_t sid = mllm_literal_match(v, &v->specials, text + pos, len - pos);
            if (sid < 0) {
                pos++;
                continue;
            }
            encode_fragment(&e, text + frag, pos - frag);
            emit(&e, sid);
            pos += (int32_t)v->lens[sid];
            frag = pos;
        }
    }
    if (!e.failed) encode_fragment(&e, text + frag, len - frag);
    int32_t result;
    if (e.failed || e.n_out > INT32_MAX) {
        result = INT32_MIN;
    } else if (e.n_out > n_max) {
        result = -(int32_t)e.n_out;
    } else {
        if (e.n_out) memcpy(out, e.out, sizeof(int32_t) * (size_t)e.n_out);
        result = (int32_t)e.n_out;
    }
    free(e.norm);
    free(e.sym);
    free(e.heap);
    free(e.stack);
    free(e.split_at);
    free(e.split_gen);
    free(e.out);
    return result;
}
