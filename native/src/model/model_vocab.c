/* Vocabulary from the tokenizer.ggml.* keys (pieces point into the mapped file; the tokenizer
 * copies what it keeps). tokenizer.ggml.model selects the tokenizer: "llama" (or absent) is
 * SentencePiece BPE, "gpt2" byte-level BPE with tokenizer.ggml.merges and the pre-tokenizer
 * tokenizer.ggml.pre names (docs/gguf-conventions.md). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "gguf/gguf.h"
#include "model/model.h"
#include "tokenizer/pretokenize.h"
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

/* Reads a string array into pieces/lens (pointing into the file). */
static mllm_status read_strings(const mllm_gguf *f, const char *key, const uint8_t *p, uint64_t n, const char **pieces,
                                uint32_t *lens) {
    for (uint64_t i = 0; i < n; i++) {
        uint64_t len;
        p = mllm_gguf_read_str(p, &pieces[i], &len);
        if (len > UINT32_MAX) return mllm_fail(MLLM_ERR_FORMAT, "%s[%" PRIu64 "] is %" PRIu64 " bytes long", key, i, len);
        lens[i] = (uint32_t)len;
    }
    return MLLM_OK;
}

/* The byte-level parts: pre-tokenizer, merges (into *merges / *merge_lens, freed by the caller). */
static mllm_status bytelevel_desc(const mllm_gguf *f, mllm_vocab_desc *d, int *add_bos_default, const char ***merges,
                                  uint32_t **merge_lens) {
    const char *pre;
    uint64_t pre_len;
    mllm_status s = mllm_gguf_get_str(f, "tokenizer.ggml.pre", &pre, &pre_len);
    if (s == MLLM_ERR_STATE) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "missing metadata key 'tokenizer.ggml.pre': the byte-level tokenizer needs its pre-tokenizer "
                                               "(supported: 'llama-bpe' (Llama 3), 'smaug-bpe', 'llama4')");
    }
    if (s) return s;
    const mllm_pretok_info info = mllm_pretok_lookup(pre, (size_t)pre_len);
    if (info.pretok == MLLM_PRETOK_NONE) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "tokenizer.ggml.pre '%.*s' is not supported (supported: 'llama-bpe' (Llama 3), 'smaug-bpe', 'llama4')",
                         (int)(pre_len > 64 ? 64 : pre_len), pre);
    }
    d->pretok = info.pretok;
    *add_bos_default = info.add_bos;
    if ((s = flag(f, "tokenizer.ggml.ignore_merges", info.ignore_merges, &d->ignore_merges))) return s;
    const uint8_t *data;
    uint64_t n;
    s = mllm_gguf_get_arr(f, "tokenizer.ggml.merges", MLLM_GGUF_STRING, &data, &n);
    if (s == MLLM_ERR_STATE) return mllm_fail(MLLM_ERR_FORMAT, "missing metadata key 'tokenizer.ggml.merges' (needed by tokenizer.ggml.model 'gpt2')");
    if (s) return s;
    if (n > INT32_MAX) return mllm_fail(MLLM_ERR_FORMAT, "tokenizer.ggml.merges has %" PRIu64 " entries", n);
    *merges = malloc((size_t)(n ? n : 1) * sizeof **merges);
    *merge_lens = malloc((size_t)(n ? n : 1) * sizeof **merge_lens);
    if (!*merges || !*merge_lens) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory reading %" PRIu64 " merges", n);
    if ((s = read_strings(f, "tokenizer.ggml.merges", data, n, *merges, *merge_lens))) return s;
    d->n_merges = (int32_t)n;
    d->merges = *merges;
    d->merge_lens = *merge_lens;
    return MLLM_OK;
}

/* End of turn and end of message for files that do not name them (llama.cpp's files of Llama 3 and
 * MobileLLM-R1, say): control tokens with these names, as llama.cpp looks them up. */
static int32_t find_eog(const char *const *pieces, const uint32_t *lens, const int32_t *types, int32_t n, int32_t eog[2]) {
    static const char *const names[2][4] = {{"<|eot_id|>", "<|eot|>", "<|im_end|>", "<end_of_turn>"}, {"<|eom_id|>", "<|eom|>"}};
    int32_t found[2] = {-1, -1}, k = 0;
    for (int32_t i = 0; i < n; i++) {
        if (!types || types[i] != MLLM_TOKEN_CONTROL) continue;
        for (int w = 0; w < 2; w++)
            for (int j = 0; j < 4 && names[w][j]; j++)
                if (found[w] < 0 && lens[i] == strlen(names[w][j]) && memcmp(pieces[i], names[w][j], lens[i]) == 0) found[w] = i;
    }
    for (int w = 0; w < 2; w++)
        if (found[w] >= 0) eog[k++] = found[w];
    return k;
}

mllm_status mllm_model_load_vocab(mllm_model *m) {
    const mllm_gguf *f = m->file;
    const char *tm;
    uint64_t tm_len;
    mllm_vocab_desc d;
    memset(&d, 0, sizeof d);
    mllm_status s = mllm_gguf_get_str(f, "tokenizer.ggml.model", &tm, &tm_len);
    if (s == MLLM_OK && tm_len == 4 && memcmp(tm, "gpt2", 4) == 0) {
        d.kind = MLLM_VOCAB_BYTELEVEL;
    } else if (s == MLLM_OK && !(tm_len == 5 && memcmp(tm, "llama", 5) == 0)) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "tokenizer.ggml.model '%.*s' is not supported (supported: 'llama' (SentencePiece), 'gpt2' (byte-level BPE))",
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
    int32_t eog[2];
    if ((s = token_id(f, "tokenizer.ggml.bos_token_id", d.n_tokens, &d.bos))) return s;
    if ((s = token_id(f, "tokenizer.ggml.eos_token_id", d.n_tokens, &d.eos))) return s;
    if ((s = token_id(f, "tokenizer.ggml.unknown_token_id", d.n_tokens, &d.unk))) return s;
    if ((s = token_id(f, "tokenizer.ggml.padding_token_id", d.n_tokens, &d.pad))) return s;
    if ((s = token_id(f, "tokenizer.ggml.eot_token_id", d.n_tokens, &eog[0]))) return s;
    if ((s = token_id(f, "tokenizer.ggml.eom_token_id", d.n_tokens, &eog[1]))) return s;
    for (int i = 0; i < 2; i++)
        if (eog[i] >= 0) eog[d.n_eog++] = eog[i];
    d.eog = eog;

    const char **pieces = malloc((size_t)n * sizeof *pieces);
    uint32_t *lens = malloc((size_t)n * sizeof *lens);
    float *sc = scores ? malloc((size_t)n * sizeof *sc) : NULL;
    int32_t *ty = types ? malloc((size_t)n * sizeof *ty) : NULL;
    const char **merges = NULL;
    uint32_t *merge_lens = NULL;
    if (!pieces || !lens || (scores && !sc) || (types && !ty)) {
        s = mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory reading a vocabulary of %" PRIu64 " tokens", n);
        goto done;
    }
    /* llama.cpp's defaults: BOS for SentencePiece, per pre-tokenizer name for byte-level */
    int bos_default = d.kind == MLLM_VOCAB_SPM;
    if (d.kind == MLLM_VOCAB_BYTELEVEL && (s = bytelevel_desc(f, &d, &bos_default, &merges, &merge_lens))) goto done;
    if ((s = flag(f, "tokenizer.ggml.add_bos_token", bos_default, &d.add_bos))) goto done;
    if ((s = flag(f, "tokenizer.ggml.add_eos_token", 0, &d.add_eos))) goto done;
    if ((s = flag(f, "tokenizer.ggml.add_space_prefix", d.kind == MLLM_VOCAB_SPM, &d.add_space_prefix))) goto done;
    if ((s = read_strings(f, "tokenizer.ggml.tokens", tok, n, pieces, lens))) goto done;
    /* The arrays in the file need not be 4-byte aligned: copy them out. */
    if (sc) memcpy(sc, scores, (size_t)n * sizeof *sc);
    if (ty) memcpy(ty, types, (size_t)n * sizeof *ty);
    if (d.n_eog == 0) d.n_eog = find_eog(pieces, lens, ty, d.n_tokens, eog);
    d.pieces = pieces;
    d.piece_lens = lens;
    d.scores = sc;
    d.types = ty;
    char err[512] = "";
    m->vocab = mllm_vocab_create(&d, err, (int)sizeof err);
    if (!m->vocab) s = mllm_fail(MLLM_ERR_FORMAT, "invalid vocabulary: %s", err[0] ? err : "rejected by the tokenizer");
    m->info.add_bos = d.add_bos; /* the defaults depend on the tokenizer */
    m->info.add_eos = d.add_eos;
done:
    free(pieces);
    free(lens);
    free(sc);
    free(ty);
    free(merges);
    free(merge_lens);
    return s;
}
