/* Vocabularies from fuzz input, shared by the tokenizer and detokenizer targets and the seed
 * generator (which writes the same format). Layout of an input:
 *
 *   byte 0        flags: FV_SPACE_PREFIX, FV_PARSE_SPECIAL, FV_ADD_BOS, FV_BYTE_PIECES,
 *                 FV_NO_SCORES, FV_NO_TYPES, FV_LOSSLESS (see below)
 *   byte 1        number of entries n (0..255)
 *   n entries     [type u8][score i8][length u8][piece bytes]
 *   rest          the payload: text (tokenizer) or token ids (detokenizer)
 *
 * Entry i is token i; with FV_BYTE_PIECES the 256 pieces <0x00>..<0xFF> of type BYTE follow.
 * Entry types are the byte mod 7 (0 = ggml's "undefined", read as NORMAL); with FV_LOSSLESS only
 * NORMAL, USER_DEFINED and UNUSED are used, so that encoding loses nothing (fuzz_tokenizer.c). */
#ifndef FUZZ_VOCAB_H
#define FUZZ_VOCAB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mobilellm.h"
#include "tokenizer/tokenizer.h"

enum {
    FV_SPACE_PREFIX = 1,
    FV_PARSE_SPECIAL = 2,
    FV_ADD_BOS = 4,
    FV_BYTE_PIECES = 8,
    FV_NO_SCORES = 16,
    FV_NO_TYPES = 32,
    FV_LOSSLESS = 64,
};

#define FV_MAX_TOKENS (255 + 256)

typedef struct fuzz_vocab {
    mllm_vocab *v;             /* NULL when the tokenizer refused the description */
    uint8_t flags;
    int32_t n_entries;
    const uint8_t *payload;    /* the rest of the input */
    size_t payload_len;
    const char *pieces[FV_MAX_TOKENS];
    uint32_t lens[FV_MAX_TOKENS];
    float scores[FV_MAX_TOKENS];
    int32_t types[FV_MAX_TOKENS];
    char byte_names[256][8];
} fuzz_vocab;

static inline int32_t fv_type(uint8_t b, uint8_t flags) {
    static const int32_t lossless[3] = {MLLM_TOKEN_NORMAL, MLLM_TOKEN_USER_DEFINED, MLLM_TOKEN_UNUSED};
    return flags & FV_LOSSLESS ? lossless[b % 3] : (int32_t)(b % 7);
}

/* Parses the vocabulary part and builds it. Returns 0, or -1 when the input is too short. */
static inline int fuzz_vocab_build(fuzz_vocab *fv, const uint8_t *data, size_t size) {
    memset(fv, 0, sizeof *fv);
    if (size < 2) return -1;
    fv->flags = data[0];
    const int32_t n = data[1];
    size_t pos = 2;
    for (int32_t i = 0; i < n; i++) {
        if (size - pos < 3 || size - pos - 3 < data[pos + 2]) return -1;
        fv->types[i] = fv_type(data[pos], fv->flags);
        fv->scores[i] = (float)(int8_t)data[pos + 1] / 4.0f;
        fv->lens[i] = data[pos + 2];
        fv->pieces[i] = (const char *)data + pos + 3;
        pos += 3 + (size_t)data[pos + 2];
    }
    int32_t total = n;
    if (fv->flags & FV_BYTE_PIECES) {
        for (int b = 0; b < 256; b++, total++) {
            snprintf(fv->byte_names[b], sizeof fv->byte_names[b], "<0x%02X>", b);
            fv->pieces[total] = fv->byte_names[b];
            fv->lens[total] = 6;
            fv->scores[total] = 0.0f;
            fv->types[total] = MLLM_TOKEN_BYTE;
        }
    }
    fv->n_entries = n;
    fv->payload = data + pos;
    fv->payload_len = size - pos;
    if (total == 0) return 0;
    mllm_vocab_desc d = {
        .n_tokens = total,
        .pieces = fv->pieces,
        .piece_lens = fv->lens,
        .scores = fv->flags & FV_NO_SCORES ? NULL : fv->scores,
        .types = fv->flags & FV_NO_TYPES ? NULL : fv->types,
        .bos = total > 1 ? 1 : -1,
        .eos = total > 2 ? 2 : -1,
        .unk = -1, /* the first UNKNOWN piece, if any */
        .pad = -1,
        .add_bos = (fv->flags & FV_ADD_BOS) != 0,
        .add_eos = 0,
        .add_space_prefix = (fv->flags & FV_SPACE_PREFIX) != 0,
    };
    char err[256];
    fv->v = mllm_vocab_create(&d, err, (int)sizeof err);
    return 0;
}

/* Writes the vocabulary part of an input (the seed generator's half of the format). */
static inline size_t fuzz_vocab_write(uint8_t *out, uint8_t flags, const char *const *pieces, const uint8_t *types,
                                      const int8_t *scores, int32_t n) {
    size_t pos = 0;
    out[pos++] = flags;
    out[pos++] = (uint8_t)n;
    for (int32_t i = 0; i < n; i++) {
        size_t len = strlen(pieces[i]);
        out[pos++] = types[i];
        out[pos++] = (uint8_t)scores[i];
        out[pos++] = (uint8_t)len;
        memcpy(out + pos, pieces[i], len);
        pos += len;
    }
    return pos;
}

#endif
