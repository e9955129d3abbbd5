/* Text -> token ids for byte-level BPE vocabularies (tokenizer.ggml.model = "gpt2"), as Hugging
 * Face tokenizers encodes with a Split(pattern) + ByteLevel pre-tokenizer and a BPE model:
 *  1. added tokens written in the text become their ids: USER_DEFINED pieces always, CONTROL and
 *     UNKNOWN pieces with parse_special; the leftmost match wins, the longest at one position;
 *  2. each stretch of text between them is decoded as UTF-8, each maximal ill-formed subpart
 *     becoming U+FFFD (what a lossy conversion to a Rust string does), and split into pieces by
 *     the vocabulary's pre-tokenizer (pretokenize.c);
 *  3. each piece's bytes are spelt in the byte-level alphabet (bytelevel.h); with ignore_merges a
 *     piece that is a NORMAL vocabulary entry is taken whole;
 *  4. otherwise its characters start as one symbol each and the adjacent pair with the lowest
 *     merge rank is merged (ties: the leftmost) until no pair has a merge: a min-heap of
 *     candidate pairs over a linked list of symbols, stale entries recognised by the symbols'
 *     ids having changed. A byte whose character is not in the vocabulary becomes the unknown
 *     token if there is one and is dropped otherwise (as tokenizers does). */
#include "tokenizer/bytelevel.h"
#include "tokenizer/heap.h"
#include "tokenizer/unicode_class.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(char *err, int errlen, const char *fmt, long r, uint32_t n, const char *m, const char *what) {
    if (err && errlen > 0) snprintf(err, (size_t)errlen, fmt, r, (int)(n > 64 ? 64 : n), m, what);
}

int mllm_bytelevel_init(mllm_vocab *v, const mllm_vocab_desc *d, char *err, int errlen) {
    v->pretok = (mllm_pretok)d->pretok;
    v->ignore_merges = d->ignore_merges != 0;
    for (uint32_t c = 0; c < 0x144; c++) v->char_byte[c] = -1;
    for (int b = 0; b < 256; b++) {
        uint32_t c = mllm_bytelevel_char((uint8_t)b);
        v->byte_char_len[b] = (uint8_t)mllm_utf8_encode(c, v->byte_char[b]);
        v->byte_char_id[b] = mllm_piece_map_find(&v->map, v->byte_char[b], v->byte_char_len[b]);
        v->char_byte[c] = (int16_t)b;
    }
    if (mllm_merge_table_init(&v->merges, d->n_merges)) goto oom;
    uint32_t max_len = 0;
    for (int32_t r = 0; r < d->n_merges; r++)
        if (d->merge_lens[r] > max_len) max_len = d->merge_lens[r];
    char *joined = malloc((size_t)max_len + 1);
    if (!joined) goto oom;
    for (int32_t r = 0; r < d->n_merges; r++) {
        const char *m = d->merges[r];
        uint32_t n = d->merge_lens[r];
        const char *sp = n > 1 && m ? memchr(m + 1, ' ', n - 1) : NULL;
        if (!sp) {
            fail(err, errlen, "merge %ld ('%.*s') is not two pieces separated by a space%s", r, n, m ? m : "", "");
            free(joined);
            return -1;
        }
        uint32_t ln = (uint32_t)(sp - m), rn = n - ln - 1;
        memcpy(joined, m, ln);
        memcpy(joined + ln, sp + 1, rn);
        int32_t left = mllm_piece_map_find(&v->map, m, ln);
        int32_t right = mllm_piece_map_find(&v->map, sp + 1, rn);
        int32_t result = mllm_piece_map_find(&v->map, joined, ln + rn);
        if (left < 0 || right < 0 || result < 0) {
            fail(err, errlen, "merge %ld ('%.*s') %s is not in the vocabulary", r, n, m,
                 left < 0 ? "has a left piece that" : right < 0 ? "has a right piece that" : "makes a piece that");
            free(joined);
            return -1;
        }
        mllm_merge_table_add(&v->merges, left, right, result); /* a repeated pair keeps its first rank */
    }
    free(joined);
    return 0;
oom:
    fail(err, errlen, "out of memory building %ld merges%.*s%s", d->n_merges, 0, "", "");
    return -1;
}

typedef struct bl_symbol {
    int32_t id;         /* -1 once merged into its left neighbour */
    int32_t prev, next; /* linked list; -1 at the ends */
} bl_symbol;

typedef struct bl_pair {
    int32_t rank;
    int32_t left, right; /* symbol indices */
    int32_t left_id, right_id;
} bl_pair;

typedef struct bl_encoder {
    const mllm_vocab *v;
    uint32_t *cps;     /* code points of the stretch being encoded */
    uint8_t *cats;
    int32_t *offs;     /* their byte offsets in `clean` */
    char *clean;       /* the stretch re-encoded (U+FFFD for ill-formed bytes) */
    /* per piece, grown to the longest piece: */
    char *spelt;       /* the piece in the byte-level alphabet (2 bytes per byte at most) */
    bl_symbol *sym;    /* one per byte */
    mllm_heap heap;    /* bl_pair: the initial pairs plus two per merge, 3 per byte */
    int32_t piece_cap;
    mllm_token_list out; /* out.failed: out of memory */
} bl_encoder;

static void emit(bl_encoder *e, int32_t id) { mllm_token_list_push(&e->out, id); }

/* Heap order: lower rank first, then the leftmost pair. */
static int pair_before(const void *pa, const void *pb) {
    const bl_pair *a = pa, *b = pb;
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static void try_pair(bl_encoder *e, int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    int32_t lid = e->sym[left].id, rid = e->sym[right].id;
    int32_t rank = mllm_merge_table_find(&e->v->merges, lid, rid);
    if (rank >= 0) mllm_heap_push(&e->heap, &(bl_pair){rank, left, right, lid, rid});
}

static int reserve_piece(bl_encoder *e, int32_t nb) {
    if (nb <= e->piece_cap) return 0;
    int32_t cap = nb > 2 * e->piece_cap ? nb : 2 * e->piece_cap;
    char *spelt = realloc(e->spelt, 2 * (size_t)cap);
    if (spelt) e->spelt = spelt;
    bl_symbol *sym = realloc(e->sym, sizeof(bl_symbol) * (size_t)cap);
    if (sym) e->sym = sym;
    bl_pair *heap = realloc(e->heap.items, sizeof(bl_pair) * 3 * (size_t)cap);
    if (heap) e->heap.items = heap;
    if (!spelt || !sym || !heap) return -1;
    e->piece_cap = cap;
    return 0;
}

/* BPE over one pre-tokenized piece of nb bytes (nb >= 1). */
static void encode_piece(bl_encoder *e, const unsigned char *bytes, int32_t nb) {
    const mllm_vocab *v = e->v;
    if (reserve_piece(e, nb)) {
        e->out.failed = 1;
        return;
    }
    if (v->ignore_merges) {
        int32_t n = 0;
        for (int32_t i = 0; i < nb; i++) {
            memcpy(e->spelt + n, v->byte_char[bytes[i]], v->byte_char_len[bytes[i]]);
            n += v->byte_char_len[bytes[i]];
        }
        int32_t id = mllm_piece_map_find(&v->map, e->spelt, (uint32_t)n);
        if (id >= 0 && v->types[id] == MLLM_TOKEN_NORMAL) {
            emit(e, id);
            return;
        }
    }
    int32_t n_sym = 0;
    for (int32_t i = 0; i < nb; i++) {
        int32_t id = v->byte_char_id[bytes[i]];
        if (id < 0) id = v->unk;
        if (id < 0) continue;
        e->sym[n_sym] = (bl_symbol){id, n_sym - 1, -1};
        if (n_sym > 0) e->sym[n_sym - 1].next = n_sym;
        n_sym++;
    }
    e->heap.n = 0;
    for (int32_t i = 0; i + 1 < n_sym; i++) try_pair(e, i, i + 1);
    while (e->heap.n > 0) {
        bl_pair p;
        mllm_heap_pop(&e->heap, &p);
        bl_symbol *l = &e->sym[p.left], *r = &e->sym[p.right];
        if (l->id != p.left_id || r->id != p.right_id || l->next != p.right) continue; /* stale */
        l->id = v->merges.result[p.rank];
        l->next = r->next;
        if (r->next >= 0) e->sym[r->next].prev = p.left;
        r->id = -1;
        try_pair(e, l->prev, p.left);
        try_pair(e, p.left, l->next);
    }
    for (int32_t i = 0; i >= 0 && n_sym > 0; i = e->sym[i].next) emit(e, e->sym[i].id);
}

/* Pre-tokenizes and encodes a stretch of text that holds no added token. */
static void encode_stretch(bl_encoder *e, const char *text, int32_t len) {
    if (len == 0 || e->out.failed) return;
    int32_t n = mllm_utf8_decode_lossy((const unsigned char *)text, len, e->cps, e->offs);
    for (int32_t i = 0; i < n; i++) {
        mllm_utf8_encode(e->cps[i], e->clean + e->offs[i]);
        e->cats[i] = (uint8_t)mllm_ucat_of(e->cps[i]);
    }
    for (int32_t i = 0; i < n && !e->out.failed;) {
        int32_t k = mllm_pretok_next(e->v->pretok, e->cps, e->cats, n, i);
        encode_piece(e, (const unsigned char *)e->clean + e->offs[i], e->offs[i + k] - e->offs[i]);
        i += k;
    }
}

/* Longest added token at text[0..n) that this call matches, or -1. */
static int32_t added_token_at(const mllm_vocab *v, const char *text, int32_t n, int parse_special) {
    int32_t id = parse_special ? mllm_literal_match(v, &v->specials, text, n) : -1;
    int32_t user = mllm_literal_match(v, &v->user, text, n);
    if (user >= 0 && (id < 0 || v->lens[user] > v->lens[id])) id = user;
    return id;
}

int32_t mllm_bytelevel_encode(const mllm_vocab *v, const char *text, int32_t len, int32_t *out, int32_t n_max,
                              int add_bos, int parse_special) {
    if (!v || len < 0 || (len > 0 && !text) || n_max < 0 || (n_max > 0 && !out)) return INT32_MIN;
    bl_encoder e = {0};
    e.v = v;
    e.heap.item_size = sizeof(bl_pair);
    e.heap.before = pair_before;
    /* A stretch of len bytes has at most len code points and re-encodes to at most 3 * len
     * bytes (an ill-formed byte becomes the 3 bytes of U+FFFD). */
    size_t n = (size_t)len + 1;
    e.cps = malloc(sizeof(uint32_t) * n);
    e.cats = malloc(n);
    e.offs = malloc(sizeof(int32_t) * (n + 1));
    e.clean = malloc(3 * n + 4);
    if (!e.cps || !e.cats || !e.offs || !e.clean) e.out.failed = 1;
    if (add_bos && v->bos >= 0) emit(&e, v->bos);
    int32_t stretch = 0;
    for (int32_t pos = 0; pos < len && !e.out.failed;) {
        int32_t id = added_token_at(v, text + pos, len - pos, parse_special);
        if (id < 0) {
            pos++;
            continue;
        }
        encode_stretch(&e, text + stretch, pos - stretch);
        emit(&e, id);
        pos += (int32_t)v->lens[id];
        stretch = pos;
    }
    encode_stretch(&e, text + stretch, len - stretch);
    int32_t result = mllm_token_list_finish(&e.out, out, n_max);
    free(e.cps);
    free(e.cats);
    free(e.offs);
    free(e.clean);
    free(e.spelt);
    free(e.sym);
    free(e.heap.items);
    return result;
}
