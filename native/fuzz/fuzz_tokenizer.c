/* libFuzzer target: the SentencePiece BPE encoder over a fuzzed vocabulary (fuzz_vocab.h) and
 * fuzzed text. Besides the sanitizers it checks the encoder's contract: the size query and the
 * real call agree, every id is in the vocabulary, and for lossless vocabularies (only NORMAL,
 * USER_DEFINED and UNUSED pieces, all valid UTF-8, "▁" and the 256 byte pieces present) on valid
 * UTF-8 text without U+2581, decoding gives back exactly the text. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_vocab.h"
#include "tokenizer/utf8.h"

#define SPACE "\xE2\x96\x81"

static int valid_utf8(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        int k = mllm_utf8_char_len((const unsigned char *)s + i, (int32_t)(n - i > 4 ? 4 : n - i));
        if (k == 0) return 0;
        i += (size_t)k;
    }
    return 1;
}

static int contains(const char *s, size_t n, const char *needle, size_t m) {
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(s + i, needle, m) == 0) return 1;
    return 0;
}

/* The conditions under which SentencePiece-style encoding is lossless (see the file comment). */
static int lossless(const fuzz_vocab *fv, const char *text, size_t len) {
    if (!(fv->flags & FV_LOSSLESS) || !(fv->flags & FV_BYTE_PIECES) || (fv->flags & FV_NO_TYPES)) return 0;
    if (!valid_utf8(text, len) || contains(text, len, SPACE, 3)) return 0;
    int has_space = 0;
    for (int32_t i = 0; i < fv->n_entries; i++) {
        if (fv->lens[i] == 0 || !valid_utf8(fv->pieces[i], fv->lens[i])) return 0;
        has_space |= fv->lens[i] == 3 && memcmp(fv->pieces[i], SPACE, 3) == 0 && fv->types[i] == MLLM_TOKEN_NORMAL;
    }
    return has_space;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_vocab fv;
    if (fuzz_vocab_build(&fv, data, size) || !fv.v) return 0;
    const char *text = (const char *)fv.payload;
    const int32_t len = (int32_t)fv.payload_len;
    const int add_bos = (fv.flags & FV_ADD_BOS) != 0, special = (fv.flags & FV_PARSE_SPECIAL) != 0;
    const int32_t n_vocab = mllm_vocab_n_tokens(fv.v);

    int32_t need = mllm_vocab_encode(fv.v, text, len, NULL, 0, add_bos, special);
    if (need == INT32_MIN) abort(); /* valid arguments: only running out of memory could fail */
    int32_t n = need < 0 ? -need : need;
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    if (!ids) abort();
    if (mllm_vocab_encode(fv.v, text, len, ids, n, add_bos, special) != n) abort();
    for (int32_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= n_vocab) abort();

    if (!add_bos && lossless(&fv, text, fv.payload_len)) {
        int32_t m = mllm_vocab_decode(fv.v, ids, n, NULL, 0);
        m = m < 0 ? -m : m;
        char *back = malloc((size_t)m + 1);
        if (!back || mllm_vocab_decode(fv.v, ids, n, back, m) != m) abort();
        if ((size_t)m != fv.payload_len || memcmp(back, text, (size_t)m) != 0) abort(); /* not lossless */
        free(back);
    }
    free(ids);
    mllm_vocab_free(fv.v);
    return 0;
}
