/* Streaming detokenizer: text is emitted as soon as a character is complete; on a too-small
 * buffer the state is rolled back so the caller can retry with the size returned. */
#include "tokenizer/detok_core.h"

#include <stdlib.h>

struct mllm_detokenizer {
    const mllm_vocab *v;
    int32_t strip_leading_space;
    mllm_detok_state st;
};

struct mllm_detokenizer *mllm_vocab_detok_new(const mllm_vocab *v, int strip_leading_space) {
    struct mllm_detokenizer *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->v = v;
    d->strip_leading_space = strip_leading_space && v->add_space_prefix;
    mllm_detok_init(v, &d->st, d->strip_leading_space);
    return d;
}

void mllm_vocab_detok_free(struct mllm_detokenizer *d) { free(d); }

static int32_t commit(struct mllm_detokenizer *d, const mllm_detok_state *next, const mllm_text_sink *out) {
    if (out->len > out->cap) return -(int32_t)out->len; /* one token's text is far below 2 GiB */
    d->st = *next;
    return (int32_t)out->len;
}

int32_t mllm_vocab_detok_push(struct mllm_detokenizer *d, int32_t token, char *buf, int32_t size) {
    if (!d || token < 0 || token >= d->v->n_tokens || size < 0 || (size > 0 && !buf)) return INT32_MIN;
    mllm_detok_state next = d->st;
    mllm_text_sink out = {buf, size, 0};
    mllm_detok_feed(d->v, &next, token, &out);
    return commit(d, &next, &out);
}

int32_t mllm_vocab_detok_flush(struct mllm_detokenizer *d, char *buf, int32_t size) {
    if (!d || size < 0 || (size > 0 && !buf)) return INT32_MIN;
    mllm_detok_state next = d->st;
    mllm_text_sink out = {buf, size, 0};
    mllm_detok_finish(&next, &out);
    mllm_detok_init(d->v, &next, d->strip_leading_space); /* flush also resets */
    return commit(d, &next, &out);
}
