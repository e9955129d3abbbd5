/* Token ids -> text, as SentencePiece decodes: control tokens vanish, byte tokens are assembled
 * into UTF-8 (bytes that form no character become U+FFFD), U+2581 becomes ' ', the unknown token
 * reads " ⁇ ", and the dummy-prefix space of the first non-control piece is dropped. */
#include "tokenizer/detok_core.h"

int32_t mllm_vocab_decode(const mllm_vocab *v, const int32_t *tokens, int32_t n, char *buf, int32_t size) {
    if (!v || n < 0 || (n > 0 && !tokens) || size < 0 || (size > 0 && !buf)) return INT32_MIN;
    mllm_text_sink out = {buf, size, 0};
    mllm_detok_state st;
    mllm_detok_init(v, &st, v->add_space_prefix);
    for (int32_t i = 0; i < n; i++) {
        if (tokens[i] < 0 || tokens[i] >= v->n_tokens) return INT32_MIN;
        mllm_detok_feed(v, &st, tokens[i], &out);
        if (out.len > INT32_MAX) return INT32_MIN;
    }
    mllm_detok_finish(&st, &out);
    if (out.len > INT32_MAX) return INT32_MIN;
    return out.len > size ? -(int32_t)out.len : (int32_t)out.len;
}

static void put_byte(void *sink, unsigned char b) { mllm_text_put(sink, &b, 1); }

int32_t mllm_vocab_token_bytes(const mllm_vocab *v, int32_t id, char *buf, int32_t size) {
    if (!v || id < 0 || id >= v->n_tokens || size < 0 || (size > 0 && !buf)) return INT32_MIN;
    if (v->kind == MLLM_VOCAB_BYTELEVEL) {
        mllm_text_sink raw = {buf, size, 0};
        mllm_bytelevel_token_bytes(v, id, put_byte, &raw);
        return raw.len > size ? -(int32_t)raw.len : (int32_t)raw.len;
    }
    int byte = v->types[id] == MLLM_TOKEN_BYTE ? mllm_byte_piece_value(v->pieces[id], v->lens[id]) : -1;
    if (byte >= 0) {
        if (size < 1) return -1;
        buf[0] = (char)byte;
        return 1;
    }
    mllm_text_sink out = {buf, size, 0};
    mllm_detok_state st;
    mllm_detok_init(v, &st, 0);
    mllm_detok_feed(v, &st, id, &out);
    return out.len > size ? -(int32_t)out.len : (int32_t)out.len;
}
