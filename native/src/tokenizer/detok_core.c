#include "tokenizer/detok_core.h"
#include "tokenizer/utf8.h"

#include <string.h>

/* Uppercase only, as SentencePiece writes and reads byte pieces. */
static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int mllm_byte_piece_value(const char *p, uint32_t len) {
    if (len != 6 || memcmp(p, "<0x", 3) != 0 || p[5] != '>') return -1;
    int hi = hex_digit(p[3]), lo = hex_digit(p[4]);
    return (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
}

void mllm_text_put(mllm_text_sink *s, const void *p, int64_t n) {
    if (n > 0 && s->len + n <= s->cap) memcpy(s->buf + s->len, p, (size_t)n); /* buf may be NULL (size query) */
    s->len += n;
}


/* Writes a piece with every U+2581 turned back into ' '. */
static void put_piece(mllm_text_sink *s, const char *p, int64_t n) {
    int64_t run = 0;
    for (int64_t i = 0; i < n;) {
        if (i + 2 < n && (unsigned char)p[i] == 0xE2 && (unsigned char)p[i + 1] == 0x96 &&
            (unsigned char)p[i + 2] == 0x81) {
            mllm_text_put(s, p + run, i - run);
            mllm_text_put(s, " ", 1);
            i += 3;
            run = i;
        } else {
            i++;
        }
    }
    mllm_text_put(s, p + run, n - run);
}

static void drop_front(mllm_detok_state *st, int32_t k) {
    memmove(st->pending, st->pending + k, (size_t)(st->n_pending - k));
    st->n_pending -= k;
}

/* Emits every complete character and every byte that cannot start or continue one; keeps a
 * valid but incomplete prefix. An invalid byte costs exactly one U+FFFD and the bytes after it
 * are examined afresh, so nothing is ever held for more than 3 bytes. */
static void drain(mllm_detok_state *st, mllm_text_sink *out) {
    while (st->n_pending > 0) {
        if (!mllm_utf8_is_valid_prefix(st->pending, st->n_pending)) {
            mllm_text_put(out, MLLM_UTF8_REPLACEMENT, 3);
            drop_front(st, 1);
        } else if (st->n_pending == mllm_utf8_expected_len(st->pending[0])) {
            mllm_text_put(out, st->pending, st->n_pending);
            st->n_pending = 0;
        } else {
            return;
        }
    }
}

void mllm_detok_init(const mllm_vocab *v, mllm_detok_state *st, int strip_leading_space) {
    memset(st, 0, sizeof *st);
    st->bytelevel = v->kind == MLLM_VOCAB_BYTELEVEL;
    st->strip = strip_leading_space != 0 && !st->bytelevel;
}

void mllm_detok_finish(mllm_detok_state *st, mllm_text_sink *out) {
    int32_t n = st->bytelevel && st->n_pending > 0 ? 1 : st->n_pending; /* held bytes form a valid prefix */
    for (int32_t i = 0; i < n; i++) mllm_text_put(out, MLLM_UTF8_REPLACEMENT, 3);
    st->n_pending = 0;
}

/* Byte-level: adds one byte to the stream. The held bytes are always a valid incomplete prefix;
 * when the new byte breaks it, the held prefix (the maximal subpart) becomes one U+FFFD and the
 * new byte is examined afresh. */
static void push_stream_byte(mllm_detok_state *st, unsigned char b, mllm_text_sink *out) {
    st->pending[st->n_pending++] = b;
    while (st->n_pending > 0) {
        if (mllm_utf8_is_valid_prefix(st->pending, st->n_pending)) {
            if (st->n_pending < mllm_utf8_expected_len(st->pending[0])) return;
            mllm_text_put(out, st->pending, st->n_pending);
            st->n_pending = 0;
        } else {
            mllm_text_put(out, MLLM_UTF8_REPLACEMENT, 3);
            drop_front(st, st->n_pending > 1 ? st->n_pending - 1 : 1);
        }
    }
}

/* The byte the character at p (of len bytes) stands for, or -1 if it is not in the alphabet. */
static int stand_in_byte(const mllm_vocab *v, const unsigned char *p, int len) {
    uint32_t cp = len == 1 ? p[0] : len == 2 ? ((uint32_t)(p[0] & 0x1F) << 6) | (p[1] & 0x3F) : 0x144;
    return cp < 0x144 ? v->char_byte[cp] : -1;
}

void mllm_bytelevel_token_bytes(const mllm_vocab *v, int32_t id, void (*fn)(void *ctx, unsigned char b), void *ctx) {
    if (v->types[id] == MLLM_TOKEN_CONTROL) return;
    const unsigned char *p = (const unsigned char *)v->pieces[id];
    int32_t n = (int32_t)v->lens[id];
    int32_t i = 0;
    while (i < n) {
        int len = mllm_utf8_char_len(p + i, n - i);
        if (len == 0 || stand_in_byte(v, p + i, len) < 0) break;
        i += len;
    }
    if (i < n) {
        for (i = 0; i < n; i++) fn(ctx, p[i]);
        return;
    }
    for (i = 0; i < n;) {
        int len = mllm_utf8_char_len(p + i, n - i);
        fn(ctx, (unsigned char)stand_in_byte(v, p + i, len));
        i += len;
    }
}

typedef struct stream_ctx {
    mllm_detok_state *st;
    mllm_text_sink *out;
} stream_ctx;

static void stream_byte(void *ctx, unsigned char b) {
    stream_ctx *c = ctx;
    push_stream_byte(c->st, b, c->out);
}

void mllm_detok_feed(const mllm_vocab *v, mllm_detok_state *st, int32_t id, mllm_text_sink *out) {
    if (st->bytelevel) {
        stream_ctx c = {st, out};
        mllm_bytelevel_token_bytes(v, id, stream_byte, &c);
        return;
    }
    int32_t type = v->types[id];
    int byte = type == MLLM_TOKEN_BYTE ? mllm_byte_piece_value(v->pieces[id], v->lens[id]) : -1;
    if (byte >= 0) {
        st->strip = 0;
        st->pending[st->n_pending++] = (unsigned char)byte; /* drain() keeps n_pending <= 3 */
        drain(st, out);
        return;
    }
    mllm_detok_finish(st, out);
    if (type == MLLM_TOKEN_CONTROL) return;
    if (type == MLLM_TOKEN_UNKNOWN) {
        st->strip = 0;
        mllm_text_put(out, MLLM_UNK_SURFACE, (int64_t)sizeof MLLM_UNK_SURFACE - 1);
        return;
    }
    const char *p = v->pieces[id];
    int64_t n = v->lens[id];
    if (st->strip && n >= 3 && memcmp(p, "\xE2\x96\x81", 3) == 0) {
        p += 3;
        n -= 3;
    }
    st->strip = 0;
    put_piece(out, p, n);
}
