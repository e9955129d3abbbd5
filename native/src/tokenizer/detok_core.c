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

static void put(mllm_text_sink *s, const void *p, int64_t n) {
    if (n > 0 && s->len + n <= s->cap) memcpy(s->buf + s->len, p, (size_t)n); /* buf may be NULL (size query) */
    s->len += n;
}

/* Writes a piece with every U+2581 turned back into ' '. */
static void put_piece(mllm_text_sink *s, const char *p, int64_t n) {
    int64_t run = 0;
    for (int64_t i = 0; i < n;) {
        if (i + 2 < n && (unsigned char)p[i] == 0xE2 && (unsigned char)p[i + 1] == 0x96 &&
            (unsigned char)p[i + 2] == 0x81) {
            put(s, p + run, i - run);
            put(s, " ", 1);
            i += 3;
            run = i;
        } else {
            i++;
        }
    }
    put(s, p + run, n - run);
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
            put(out, MLLM_UTF8_REPLACEMENT, 3);
            drop_front(st, 1);
        } else if (st->n_pending == mllm_utf8_expected_len(st->pending[0])) {
            put(out, st->pending, st->n_pending);
            st->n_pending = 0;
        } else {
            return;
        }
    }
}

void mllm_detok_init(mllm_detok_state *st, int strip_leading_space) {
    memset(st, 0, sizeof *st);
    st->strip = strip_leading_space != 0;
}

void mllm_detok_finish(mllm_detok_state *st, mllm_text_sink *out) {
    for (int32_t i = 0; i < st->n_pending; i++) put(out, MLLM_UTF8_REPLACEMENT, 3);
    st->n_pending = 0;
}

void mllm_detok_feed(const mllm_vocab *v, mllm_detok_state *st, int32_t id, mllm_text_sink *out) {
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
        put(out, MLLM_UNK_SURFACE, (int64_t)sizeof MLLM_UNK_SURFACE - 1);
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
