/* Tokenizers over a GGUF vocabulary: SentencePiece BPE (tokenizer.ggml.model = "llama") and
 * byte-level BPE (tokenizer.ggml.model = "gpt2", bpe_bytelevel.c).
 *
 * SentencePiece:
 * Encoding follows SentencePiece's BPE model with LLaMA's identity normaliser (bpe_encode.c):
 * dummy prefix U+2581 when add_space_prefix, ' ' -> U+2581, no other normalisation; USER_DEFINED
 * pieces matched whole; score-ordered merges (ties leftmost) into NORMAL/USER_DEFINED/UNUSED
 * pieces, UNUSED ones split back; byte fallback "<0xAB>" or <unk> (a run of unknowns -> one).
 * Deliberate differences: invalid UTF-8 bytes become one symbol each (so byte fallback keeps the
 * bytes) where SentencePiece substitutes U+FFFD; with parse_special, CONTROL and UNKNOWN pieces
 * written in the text become their ids and every text fragment gets its own dummy prefix.
 * Decoding is SentencePiece's (decode.c, detok_core.c). */
#ifndef MLLM_TOKENIZER_H
#define MLLM_TOKENIZER_H

#include <stdint.h>

typedef struct mllm_vocab mllm_vocab;

typedef enum mllm_vocab_kind {
    MLLM_VOCAB_SPM = 0,       /* tokenizer.ggml.model "llama": SentencePiece BPE */
    MLLM_VOCAB_BYTELEVEL = 1  /* tokenizer.ggml.model "gpt2": byte-level BPE with merges */
} mllm_vocab_kind;

typedef struct mllm_vocab_desc {
    int32_t n_tokens;
    const char *const *pieces;   /* pieces[i], not NUL-terminated necessarily: see piece_lens */
    const uint32_t *piece_lens;
    const float *scores;         /* may be NULL: all 0 */
    const int32_t *types;        /* mllm_token_type; may be NULL: all NORMAL */
    int32_t bos, eos, unk, pad;  /* -1 if absent */
    int32_t add_bos, add_eos;
    int32_t add_space_prefix;    /* SentencePiece's dummy prefix; default 1 */
    int32_t n_eog;               /* more tokens that end generation besides eos (end of turn, ...) */
    const int32_t *eog;
    /* byte-level BPE only */
    int32_t kind;                /* mllm_vocab_kind (0: SentencePiece) */
    int32_t pretok;              /* mllm_pretok (pretokenize.h) */
    int32_t ignore_merges;
    int32_t n_merges;
    const char *const *merges;   /* "left right", split at the first space after the first byte */
    const uint32_t *merge_lens;
} mllm_vocab_desc;

/* Copies everything it needs. NULL + message in err (size errlen) on bad input. */
mllm_vocab *mllm_vocab_create(const mllm_vocab_desc *desc, char *err, int errlen);
void mllm_vocab_free(mllm_vocab *vocab);

int32_t mllm_vocab_n_tokens(const mllm_vocab *v);
const char *mllm_vocab_piece(const mllm_vocab *v, int32_t id); /* NUL-terminated copy */
float mllm_vocab_score(const mllm_vocab *v, int32_t id);
int32_t mllm_vocab_type(const mllm_vocab *v, int32_t id);
int32_t mllm_vocab_bos(const mllm_vocab *v);
int32_t mllm_vocab_eos(const mllm_vocab *v);
int32_t mllm_vocab_add_bos(const mllm_vocab *v);
/* 1 if generation ends at this token: EOS or one of the desc's eog tokens. */
int mllm_vocab_is_eog(const mllm_vocab *v, int32_t id);

/* Limits: the vocabulary size (64 times the largest vocabularies in use; also keeps the piece
 * map's capacity within 32 bits), and the text one encode call takes (its normalised form, each
 * space a 3-byte U+2581, must stay below 2 GiB). */
#define MLLM_VOCAB_MAX_TOKENS (1 << 24)
#define MLLM_VOCAB_MAX_TEXT ((INT32_MAX - 3) / 3)

/* Same contracts as mllm_tokenize / mllm_detokenize in mobilellm.h (add_bos already resolved);
 * encode returns INT32_MIN for a text longer than MLLM_VOCAB_MAX_TEXT. */
int32_t mllm_vocab_encode(const mllm_vocab *v, const char *text, int32_t len, int32_t *out,
                          int32_t n_max, int add_bos, int parse_special);
int32_t mllm_vocab_decode(const mllm_vocab *v, const int32_t *tokens, int32_t n, char *buf, int32_t size);

/* Bytes a single token contributes when decoded (byte tokens: 1 byte; control: 0; "▁" -> ' ').
 * Writes up to size bytes, returns the length (negated if too small). */
int32_t mllm_vocab_token_bytes(const mllm_vocab *v, int32_t id, char *buf, int32_t size);

/* Streaming detokenizer behind mllm_detokenizer_* (struct mllm_detokenizer of mobilellm.h).
 * Pushing tokens one by one and flushing yields exactly mllm_vocab_decode's bytes when
 * strip_leading_space matches (it only takes effect when the vocabulary adds a dummy prefix).
 * The vocabulary must outlive it. NULL when out of memory. */
struct mllm_detokenizer;
struct mllm_detokenizer *mllm_vocab_detok_new(const mllm_vocab *v, int strip_leading_space);
void mllm_vocab_detok_free(struct mllm_detokenizer *d);
/* Same contracts as mllm_detokenizer_push / _flush; INT32_MIN for an out-of-range token. */
int32_t mllm_vocab_detok_push(struct mllm_detokenizer *d, int32_t token, char *buf, int32_t size);
int32_t mllm_vocab_detok_flush(struct mllm_detokenizer *d, char *buf, int32_t size);

#endif
