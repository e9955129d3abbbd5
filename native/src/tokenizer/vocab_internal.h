/* The vocabulary's private layout, shared by the tokenizer's .c files only. */
#ifndef MLLM_VOCAB_INTERNAL_H
#define MLLM_VOCAB_INTERNAL_H

#include "mobilellm.h"
#include "tokenizer/merge_table.h"
#include "tokenizer/piece_map.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"

/* A set of pieces matched literally in text (control tokens, user-defined pieces). */
typedef struct mllm_literal_set {
    int32_t *ids;              /* sorted by piece length, longest first */
    int32_t n;
    unsigned char first[256];  /* 1 if some piece starts with this byte: cheap rejection */
} mllm_literal_set;

struct mllm_vocab {
    int32_t n_tokens;
    char **pieces;             /* NUL-terminated copies inside `arena` */
    uint32_t *lens;
    float *scores;
    int32_t *types;
    char *arena;
    int32_t bos, eos, unk, pad;
    int32_t add_bos, add_eos, add_space_prefix;
    int32_t byte_ids[256];     /* id of "<0xAB>" (type BYTE) or -1 */
    int32_t has_byte_fallback; /* 1 if the vocabulary has byte pieces */
    uint32_t max_piece_len;
    mllm_piece_map map;
    mllm_literal_set specials; /* CONTROL and UNKNOWN pieces: parse_special=1 */
    mllm_literal_set user;     /* USER_DEFINED pieces: always matched before BPE */
    int32_t n_eog;
    int32_t *eog;              /* tokens besides eos that end generation */
    int32_t n_unused;
    int32_t *unused_index;     /* per token: its index among the UNUSED pieces, or -1 */
    /* byte-level BPE (kind MLLM_VOCAB_BYTELEVEL) */
    int32_t kind;              /* mllm_vocab_kind */
    mllm_pretok pretok;
    int32_t ignore_merges;     /* a piece that is a vocabulary entry is taken whole */
    mllm_merge_table merges;
    int32_t byte_char_id[256]; /* id of the piece that is byte b's stand-in character, or -1 */
    char byte_char[256][2];    /* UTF-8 of byte b's stand-in character (1 or 2 bytes) */
    uint8_t byte_char_len[256];
    int16_t char_byte[0x144];  /* byte a stand-in code point < U+0144 stands for, or -1 */
};

/* Builds the byte-level parts of v (alphabet tables, merges) from d; 0, or -1 with a message. */
int mllm_bytelevel_init(mllm_vocab *v, const mllm_vocab_desc *d, char *err, int errlen);

/* Byte-level BPE encoding (bpe_bytelevel.c); same contract as mllm_vocab_encode. */
int32_t mllm_bytelevel_encode(const mllm_vocab *v, const char *text, int32_t len, int32_t *out, int32_t n_max,
                              int add_bos, int parse_special);

/* Longest piece of the set that starts text[0..n), or -1. */
int32_t mllm_literal_match(const mllm_vocab *v, const mllm_literal_set *set, const char *text, int32_t n);

/* SentencePiece's surface for the unknown token: " ⁇ " (U+2047). */
#define MLLM_UNK_SURFACE " \xE2\x81\x87 "

#endif
