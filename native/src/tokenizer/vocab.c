/* Vocabulary construction, validation and accessors. */
#include "tokenizer/vocab_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_err(char *err, int errlen, const char *msg, long a, long b) {
    if (err && errlen > 0) snprintf(err, (size_t)errlen, msg, a, b);
}

typedef struct len_id {
    uint32_t len;
    int32_t id;
} len_id;

static int by_len_desc(const void *a, const void *b) {
    const len_id *x = a, *y = b;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    return x->id < y->id ? -1 : (x->id > y->id);
}

static int build_literal_set(mllm_vocab *v, mllm_literal_set *set, int32_t type_a, int32_t type_b) {
    int32_t n = 0;
    for (int32_t i = 0; i < v->n_tokens; i++)
        if ((v->types[i] == type_a || v->types[i] == type_b) && v->lens[i] > 0) n++;
    set->ids = malloc(sizeof(int32_t) * (size_t)(n > 0 ? n : 1));
    len_id *order = malloc(sizeof(len_id) * (size_t)(n > 0 ? n : 1));
    if (!set->ids || !order) {
        free(order);
        return -1;
    }
    set->n = 0;
    memset(set->first, 0, sizeof set->first);
    for (int32_t i = 0; i < v->n_tokens; i++) {
        if ((v->types[i] == type_a || v->types[i] == type_b) && v->lens[i] > 0) {
            order[set->n].len = v->lens[i];
            order[set->n++].id = i;
            set->first[(unsigned char)v->pieces[i][0]] = 1;
        }
    }
    qsort(order, (size_t)set->n, sizeof(len_id), by_len_desc); /* longest match wins */
    for (int32_t k = 0; k < set->n; k++) set->ids[k] = order[k].id;
    free(order);
    return 0;
}

int32_t mllm_literal_match(const mllm_vocab *v, const mllm_literal_set *set, const char *text, int32_t n) {
    if (n <= 0 || !set->first[(unsigned char)text[0]]) return -1;
    for (int32_t k = 0; k < set->n; k++) {
        int32_t id = set->ids[k];
        if ((int64_t)v->lens[id] <= n && memcmp(v->pieces[id], text, v->lens[id]) == 0) return id;
    }
    return -1;
}

static int check_special_id(const char *name, int32_t id, int32_t n, char *err, int errlen) {
    if (id < -1 || id >= n) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s token id %%ld is out of range (vocabulary has %%ld tokens)", name);
        set_err(err, errlen, msg, (long)id, (long)n);
        return -1;
    }
    return 0;
}

static int32_t first_of_type(const mllm_vocab *v, int32_t type) {
    for (int32_t i = 0; i < v->n_tokens; i++)
        if (v->types[i] == type) return i;
    return -1;
}

static int validate(const mllm_vocab_desc *d, char *err, int errlen) {
    if (!d) { set_err(err, errlen, "vocabulary description is NULL", 0, 0); return -1; }
    if (d->n_tokens <= 0) { set_err(err, errlen, "vocabulary has %ld tokens (need at least 1)", d->n_tokens, 0); return -1; }
    if (d->n_tokens > MLLM_VOCAB_MAX_TOKENS) {
        set_err(err, errlen, "vocabulary of %ld tokens exceeds the limit of %ld", d->n_tokens, MLLM_VOCAB_MAX_TOKENS);
        return -1;
    }
    if (!d->pieces || !d->piece_lens) { set_err(err, errlen, "vocabulary pieces or piece lengths are NULL", 0, 0); return -1; }
    for (int32_t i = 0; i < d->n_tokens; i++) {
        if (!d->pieces[i] && d->piece_lens[i] > 0) { set_err(err, errlen, "piece of token %ld is NULL", i, 0); return -1; }
        if (d->piece_lens[i] > 65536) { set_err(err, errlen, "piece of token %ld is %ld bytes long (limit 65536)", i, (long)d->piece_lens[i]); return -1; }
        if (d->scores && isnan(d->scores[i])) { set_err(err, errlen, "score of token %ld is NaN", i, 0); return -1; }
        if (d->types && (d->types[i] < 0 || d->types[i] > MLLM_TOKEN_BYTE)) {
            set_err(err, errlen, "token %ld has invalid type %ld (expected 1..6)", i, (long)d->types[i]);
            return -1;
        }
    }
    if (check_special_id("BOS", d->bos, d->n_tokens, err, errlen) || check_special_id("EOS", d->eos, d->n_tokens, err, errlen) ||
        check_special_id("UNK", d->unk, d->n_tokens, err, errlen) || check_special_id("PAD", d->pad, d->n_tokens, err, errlen))
        return -1;
    if (d->n_eog < 0 || (d->n_eog > 0 && !d->eog)) { set_err(err, errlen, "%ld end-of-generation tokens but no list of them", d->n_eog, 0); return -1; }
    for (int32_t i = 0; i < d->n_eog; i++)
        if (d->eog[i] < 0 || d->eog[i] >= d->n_tokens) {
            set_err(err, errlen, "end-of-generation token id %ld is out of range (vocabulary has %ld tokens)", d->eog[i], d->n_tokens);
            return -1;
        }
    if (d->kind != MLLM_VOCAB_SPM && d->kind != MLLM_VOCAB_BYTELEVEL) { set_err(err, errlen, "unknown vocabulary kind %ld", d->kind, 0); return -1; }
    if (d->kind == MLLM_VOCAB_BYTELEVEL) {
        if (d->pretok != MLLM_PRETOK_LLAMA3 && d->pretok != MLLM_PRETOK_LLAMA4) { set_err(err, errlen, "unknown pre-tokenizer %ld", d->pretok, 0); return -1; }
        if (d->n_merges < 0 || (d->n_merges > 0 && (!d->merges || !d->merge_lens))) { set_err(err, errlen, "%ld merges but no list of them", d->n_merges, 0); return -1; }
    }
    return 0;
}

/* Byte pieces are "<0xAB>" with uppercase hex, as SentencePiece writes them. */
static void index_byte_pieces(mllm_vocab *v) {
    v->has_byte_fallback = 0;
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        int32_t id = mllm_piece_map_find(&v->map, name, 6);
        v->byte_ids[b] = (id >= 0 && v->types[id] == MLLM_TOKEN_BYTE) ? id : -1;
        if (v->byte_ids[b] >= 0) v->has_byte_fallback = 1;
    }
}

mllm_vocab *mllm_vocab_create(const mllm_vocab_desc *d, char *err, int errlen) {
    if (validate(d, err, errlen)) return NULL;
    mllm_vocab *v = calloc(1, sizeof *v);
    if (!v) goto oom;
    int32_t n = d->n_tokens;
    v->n_tokens = n;
    size_t arena = 0;
    for (int32_t i = 0; i < n; i++) arena += (size_t)d->piece_lens[i] + 1;
    v->arena = malloc(arena);
    v->pieces = malloc(sizeof(char *) * (size_t)n);
    v->lens = malloc(sizeof(uint32_t) * (size_t)n);
    v->scores = malloc(sizeof(float) * (size_t)n);
    v->types = malloc(sizeof(int32_t) * (size_t)n);
    if (!v->arena || !v->pieces || !v->lens || !v->scores || !v->types) goto oom;
    char *p = v->arena;
    for (int32_t i = 0; i < n; i++) {
        uint32_t len = d->piece_lens[i];
        if (len) memcpy(p, d->pieces[i], len);
        p[len] = '\0';
        v->pieces[i] = p;
        v->lens[i] = len;
        if (len > v->max_piece_len) v->max_piece_len = len;
        p += len + 1;
        v->scores[i] = d->scores ? d->scores[i] : 0.0f;
        int32_t t = d->types ? d->types[i] : MLLM_TOKEN_NORMAL;
        v->types[i] = t == 0 ? MLLM_TOKEN_NORMAL : t; /* 0 = ggml's "undefined" */
    }
    v->bos = d->bos;
    v->eos = d->eos;
    v->pad = d->pad;
    v->unk = d->unk >= 0 ? d->unk : first_of_type(v, MLLM_TOKEN_UNKNOWN);
    v->add_bos = d->add_bos != 0;
    v->add_eos = d->add_eos != 0;
    v->add_space_prefix = d->add_space_prefix != 0;
    if (mllm_piece_map_build(&v->map, (const char *const *)v->pieces, v->lens, n)) goto oom;
    index_byte_pieces(v);
    v->unused_index = malloc(sizeof(int32_t) * (size_t)n);
    if (!v->unused_index) goto oom;
    for (int32_t i = 0; i < n; i++) v->unused_index[i] = v->types[i] == MLLM_TOKEN_UNUSED ? v->n_unused++ : -1;
    v->kind = d->kind;
    v->n_eog = d->n_eog;
    v->eog = malloc(sizeof(int32_t) * (size_t)(d->n_eog > 0 ? d->n_eog : 1));
    if (!v->eog) goto oom;
    if (d->n_eog > 0) memcpy(v->eog, d->eog, sizeof(int32_t) * (size_t)d->n_eog);
    if (v->kind == MLLM_VOCAB_BYTELEVEL) {
        if (mllm_bytelevel_init(v, d, err, errlen)) {
            mllm_vocab_free(v);
            return NULL;
        }
    } else if (v->unk < 0) {
        for (int b = 0; b < 256; b++) {
            if (v->byte_ids[b] < 0) {
                mllm_vocab_free(v);
                set_err(err, errlen, "vocabulary has no unknown token and no byte piece <0x%02lX>: some text could not be encoded", b, 0);
                return NULL;
            }
        }
    }
    if (build_literal_set(v, &v->specials, MLLM_TOKEN_CONTROL, MLLM_TOKEN_UNKNOWN) ||
        build_literal_set(v, &v->user, MLLM_TOKEN_USER_DEFINED, MLLM_TOKEN_USER_DEFINED))
        goto oom;
    return v;
oom:
    mllm_vocab_free(v);
    set_err(err, errlen, "out of memory while building the vocabulary", 0, 0);
    return NULL;
}

void mllm_vocab_free(mllm_vocab *v) {
    if (!v) return;
    mllm_piece_map_free(&v->map);
    free(v->specials.ids);
    free(v->user.ids);
    free(v->arena);
    free(v->pieces);
    free(v->lens);
    free(v->scores);
    free(v->types);
    free(v->unused_index);
    free(v->eog);
    mllm_merge_table_free(&v->merges);
    free(v);
}

int32_t mllm_vocab_n_tokens(const mllm_vocab *v) { return v->n_tokens; }

const char *mllm_vocab_piece(const mllm_vocab *v, int32_t id) {
    return (id >= 0 && id < v->n_tokens) ? v->pieces[id] : NULL;
}

float mllm_vocab_score(const mllm_vocab *v, int32_t id) {
    return (id >= 0 && id < v->n_tokens) ? v->scores[id] : 0.0f;
}

int32_t mllm_vocab_type(const mllm_vocab *v, int32_t id) {
    return (id >= 0 && id < v->n_tokens) ? v->types[id] : -1;
}

int32_t mllm_vocab_bos(const mllm_vocab *v) { return v->bos; }
int32_t mllm_vocab_eos(const mllm_vocab *v) { return v->eos; }
int32_t mllm_vocab_add_bos(const mllm_vocab *v) { return v->add_bos; }

int mllm_vocab_is_eog(const mllm_vocab *v, int32_t id) {
    if (id < 0) return 0;
    if (id == v->eos) return 1;
    for (int32_t i = 0; i < v->n_eog; i++)
        if (v->eog[i] == id) return 1;
    return 0;
}
