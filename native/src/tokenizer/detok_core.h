/* Token -> text conversion shared by batch decoding and the streaming detokenizer, so that
 * streaming a sequence yields exactly the bytes mllm_vocab_decode returns for it. */
#ifndef MLLM_DETOK_CORE_H
#define MLLM_DETOK_CORE_H

#include "tokenizer/vocab_internal.h"

/* Output buffer that keeps counting past its capacity (to report the size needed). */
typedef struct mllm_text_sink {
    char *buf;
    int64_t cap;
    int64_t len;
} mllm_text_sink;

/* Appends n bytes (counts them only, past the capacity). */
void mllm_text_put(mllm_text_sink *s, const void *p, int64_t n);

typedef struct mllm_detok_state {
    unsigned char pending[4]; /* bytes of an incomplete UTF-8 character from byte tokens */
    int32_t n_pending;
    int32_t strip;            /* 1 until the first non-control token: drop its dummy-prefix space */
    int32_t bytelevel;        /* byte-level vocabulary: ill-formed bytes as a lossy UTF-8 decoder */
} mllm_detok_state;

/* Value of a byte piece "<0xAB>", or -1 if p[0..len) is not one. */
int mllm_byte_piece_value(const char *p, uint32_t len);

/* Calls fn for each byte a byte-level token stands for: each character of the piece stands for
 * one byte; a piece with a character outside the alphabet (an added token such as "my tok")
 * stands for its own UTF-8; CONTROL tokens stand for nothing. */
void mllm_bytelevel_token_bytes(const mllm_vocab *v, int32_t id, void (*fn)(void *ctx, unsigned char b), void *ctx);

void mllm_detok_init(const mllm_vocab *v, mllm_detok_state *st, int strip_leading_space);
/* Appends the text `id` completes; id must be valid. SentencePiece: byte tokens are assembled
 * into characters; any other token first turns held bytes into U+FFFD (one per byte), as
 * SentencePiece does. Byte-level: every token's bytes join one byte stream (a character may span
 * tokens), decoded as Rust's String::from_utf8_lossy does (one U+FFFD per maximal ill-formed
 * subpart); CONTROL tokens vanish. */
void mllm_detok_feed(const mllm_vocab *v, mllm_detok_state *st, int32_t id, mllm_text_sink *out);
/* Emits U+FFFD for each held byte (byte-level: one for the held incomplete character) and
 * empties the state's byte buffer. */
void mllm_detok_finish(mllm_detok_state *st, mllm_text_sink *out);

#endif
