/* Vocabulary from the tokenizer.ggml.* keys (pieces point into the mapped file; the tokenizer
 * copies what it keeps). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "gguf/gguf.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

static mllm_status token_id(const mllm_gguf *f, const char *key, int32_t n_tokens, int32_t *out) {
    uint32_t v;
    mllm_status s = mllm_gguf_get_u32(f, key, &v);
    if (s == MLLM_ERR_STATE) {
        *out = -1;
        return MLLM_OK;
    }
    if (s) return s;
    if (v >= (uint32_t)n_tokens) return mllm_fail(MLLM_ERR_FORMAT, "metadata key '%s' = %u is not a token id (vocabulary of %d)", key, v, n_tokens);
    *out = (int32_t)v;
    return MLLM_OK;
}

static mllm_status flag(const mllm_gguf *f, const char *key, int def, int32_t *out) {
    int v;
    mllm_status s = mllm_gguf_get_bool(f, key, &v);
    if (s == MLLM_ERR_STATE) v = def;
    else if (s) return s;
    *out = v;
    return MLLM_OK;
}

mllm_status mllm_model_load_vocab(mllm_model *m) {
    const mllm_gguf *f = m->file;
    const char *tm;
    uint64_t tm_len;
    mllm_status s = mllm_gguf_get_str(f, "tokenizer.ggml.model", &tm, &tm_len);
    if (s == MLLM_OK && !(tm_len == 5 && memcmp(tm, "llama", 5) == 0)) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "tokenizer.ggml.model '%.*s' is not supported (only 'llama')",
                         (int)(tm_len > 64 ? 64 : tm_len), tm);
    }
    if (s && s != MLLM_ERR_STATE) return s;
    const uint8_t *tok;
    uint64_t n;
    s = mllm_gguf_get_arr(f, "tokenizer.ggml.tokens", MLLM_GGUF_STRING, &tok, &n);
    if (s == MLLM_ERR_STATE) return mllm_fail(MLLM_ERR_FORMAT, "missing metadata key 'tokenizer.ggml.tokens'");
    if (s) return s;
    if (n != (uint64_t)m->hp.n_vocab) {
        return mllm_fail(MLLM_ERR_FORMAT, "tokenizer.ggml.tokens has %" PRIu64 " entries but token_embd.weight has %d rows", n,
                         m->hp.n_vocab);
    }
    mllm_vocab_desc d;
    memset(&d, 0, sizeof d);
    d.n_tokens = (int32_t)n;
    const uint8_t *data;
    uint64_t cnt;
    s = mllm_gguf_get_arr(f, "tokenizer.ggml.scores", MLLM_GGUF_FLOAT32, &data, &cnt);
    if (s == MLLM_OK && cnt != n) return mllm_fail(MLLM_ERR_FORMAT, "tokenizer.ggml.scores has %" PRIu64 " entries, expected %" PRIu64, cnt, n);
    if (s && s != MLLM_ERR_STATE) return s;
    const uint8_t *scores = s == MLLM_OK ? data : NULL;
    s = mllm_gguf_get_arr(f, "tokenizer.ggml.token_type", MLLM_GGUF_INT32, &data, &cnt);
    if (s == MLLM_OK && cnt != n) return mllm_fail(MLLM_ERR_FORMAT, "tokenizer.ggml.token_type has %" PRIu64 " entries, expected %" PRIu64, cnt, n);
    if (s && s != MLLM_ERR_STATE) return s;
    const uint8_t *types = s == MLLM_OK ? data : NULL;
    if ((s = token_id(f, "tokenizer.ggml.bos_token_id", d.n_tokens, &d.bos))) return s;
    if ((s = token_id(f, "tokenizer.ggml.eos_token_id", d.n_tokens, &d.eos))) return s;
    if ((s = token_id(f, "tokenizer.ggml.unknown_token_id", d.n_tokens, &d.unk))) return s;
    if ((s = token_id(f, "tokenizer.ggml.padding_token_id", d.n_tokens, &d.pad))) return s;
    if ((s = flag(f, "tokenizer.ggml.add_bos_token", 1, &d.add_bos))) return s;
    if ((s = flag(f, "tokenizer.ggml.add_eos_token", 0, &d.add_eos))) return s;
    if ((s = flag(f, "tokenizer.ggml.add_space_prefix", 1, &d.add_space_prefix))) return s;

    const char **pieces = malloc((size_t)n * sizeof *pieces);
    uint32_t *lens = malloc((size_t)n * sizeof *lens);
    float *sc = scores ? malloc((size_t)n * sizeof *sc) : NULL;
    int32_t *ty = types ? malloc((size_t)n * sizeof *ty) : NULL;
    if (!pieces || !lens || (scores && !sc) || (types && !ty)) {
        s = mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory reading a vocabulary of %" PRIu64 " tokens", n);
        goto done;
    }
    const uint8_t *p = tok;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t len;
        p = mllm_gguf_read_str(p, &pieces[i], &len);
        if (len > UINT32_MAX) {
            s = mllm_fail(MLLM_ERR_FORMAT, "tokenizer.ggml.tokens[%" PRIu64 "] is %" PRIu64 " bytes long", i, len);
            goto done;
        }
        lens[i] = (uint32_t)len;
    }
    /* The arrays in the file need not be 4-byte aligned: copy them out. */
    if (sc) memcpy(sc, scores, (size_t)n * sizeof *sc);
    if (ty) memcpy(ty, types, (size_t)n * sizeof *ty);
    d.pieces = pieces;
    d.piece_lens = lens;
    d.scores = sc;
    d.types = ty;
    char err[512] = "";
    m->vocab = mllm_vocab_create(&d, err, (int)sizeof err);
    if (!m->vocab) s = mllm_fail(MLLM_ERR_FORMAT, "invalid vocabulary: %s", err[0] ? err : "rejected by the tokenizer");
done:
    free(pieces);
    free(lens);
    free(sc);
    free(ty);
    return s;
}
