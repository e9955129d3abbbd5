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

typedef struct mllm_detok_state {
    unsigned char pending[4]; /* bytes of an incomplete UTF-8 character from byte tokens */
    int32_t n_pending;
    int32_t strip;            /* 1 until the first non-control token: drop its dummy-prefix space */
} mllm_detok_state;

/* Value of a byte piece "<0xAB>", or -1 if p[0..len) is not one. */
int mllm_byte_piece_value(const char *p, uint32_t len);

void mllm_detok_init(mllm_detok_state *st, int strip_leading_space);
/* Appends the text `id` completes; id must be valid. Byte tokens are assembled into characters;
 * any other token first turns held bytes into U+FFFD (one per byte), as SentencePiece does. */
void mllm_detok_feed(const mllm_vocab *v, mllm_detok_state *st, int32_t id, mllm_text_sink *out);
/* Emits U+FFFD for each held byte and empties the state's byte buffer. */
void mllm_detok_finish(mllm_detok_state *st, mllm_text_sink *out);

#endif
