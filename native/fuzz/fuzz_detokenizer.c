/* libFuzzer target: batch and streaming detokenization over a fuzzed vocabulary (fuzz_vocab.h).
 * The payload is a list of 16-bit token ids (one past the vocabulary = an invalid id) and
 * output buffer sizes. Checks the contracts of tokenizer.h: an invalid id is rejected and
 * changes nothing, a too-small buffer returns the size needed and consumes nothing, and the
 * streamed text of the valid ids equals their batch decoding. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_vocab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_vocab fv;
    if (fuzz_vocab_build(&fv, data, size) || !fv.v) return 0;
    const int32_t n_vocab = mllm_vocab_n_tokens(fv.v);
    const size_t n_in = fv.payload_len / 3;
    int32_t *valid = malloc(sizeof(int32_t) * (n_in ? n_in : 1));
    struct mllm_detokenizer *d = mllm_vocab_detok_new(fv.v, 1);
    if (!valid || !d) abort();
    size_t cap = 64, len = 0;
    char *streamed = malloc(cap);
    int32_t n_valid = 0;
    for (size_t i = 0; i < n_in; i++) {
        const uint8_t *p = fv.payload + 3 * i;
        int32_t id = (int32_t)((p[0] | p[1] << 8) % (uint32_t)(n_vocab + 1));
        if (id == n_vocab) id = p[0] & 1 ? -1 : n_vocab; /* out of range either way */
        char small[8];
        int32_t size_small = p[2] % 8; /* often too small: exercises the retry contract */
        int32_t r = mllm_vocab_detok_push(d, id, small, size_small);
        if (id < 0 || id >= n_vocab) {
            if (r != INT32_MIN) abort();
            continue;
        }
        valid[n_valid++] = id;
        if (r == INT32_MIN) abort();
        int32_t got = r;
        char *out = small;
        if (r < 0) { /* nothing consumed: the same push with the size asked for must succeed */
            out = malloc((size_t)-r);
            if (!out || mllm_vocab_detok_push(d, id, out, -r) != -r) abort();
            got = -r;
        }
        while (len + (size_t)got + 16 > cap) cap *= 2;
        streamed = realloc(streamed, cap);
        if (!streamed) abort();
        memcpy(streamed + len, out, (size_t)got);
        len += (size_t)got;
        if (out != small) free(out);
    }
    char tail[16];
    int32_t t = mllm_vocab_detok_flush(d, tail, sizeof tail);
    if (t < 0) abort(); /* at most three held bytes, 9 bytes of U+FFFD */
    memcpy(streamed + len, tail, (size_t)t);
    len += (size_t)t;

    int32_t m = mllm_vocab_decode(fv.v, valid, n_valid, NULL, 0);
    if (m == INT32_MIN) abort();
    m = m < 0 ? -m : m;
    char *batch = malloc((size_t)m + 1);
    if (!batch || mllm_vocab_decode(fv.v, valid, n_valid, batch, m) != m) abort();
    if ((size_t)m != len || memcmp(batch, streamed, len) != 0) abort(); /* streaming differs from batch */
    free(batch);
    free(streamed);
    free(valid);
    mllm_vocab_detok_free(d);
    mllm_vocab_free(fv.v);
    return 0;
}
