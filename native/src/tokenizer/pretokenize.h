/* Pre-tokenizers of byte-level BPE vocabularies: split text into the pieces BPE works on, as the
 * split patterns of the tokenizers named by tokenizer.ggml.pre do (llama.cpp's names). Each
 * pattern is a hand-written scanner over Unicode classes (unicode_class.h) that takes, at each
 * position, the first alternative of the pattern that matches, with the backtracking of a
 * regular expression engine worked out per alternative (see pretokenize.c). */
#ifndef MLLM_PRETOKENIZE_H
#define MLLM_PRETOKENIZE_H

#include <stddef.h>
#include <stdint.h>

typedef enum mllm_pretok {
    MLLM_PRETOK_NONE = 0,
    /* Llama 3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
     *          ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
    MLLM_PRETOK_LLAMA3 = 1,
    /* Llama 4 (GPT-4o's o200k pattern):
     *   [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|
     *   [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|
     *   \p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
    MLLM_PRETOK_LLAMA4 = 2
} mllm_pretok;

/* What tokenizer.ggml.pre names: the split pattern and llama.cpp's defaults for the keys a file may
 * leave out, which llama.cpp sets per name (Llama 3's files as "llama-bpe": ignore merges and add
 * BOS; the same vocabulary under "smaug-bpe": neither). */
typedef struct mllm_pretok_info {
    mllm_pretok pretok;  /* MLLM_PRETOK_NONE for a name this engine does not know */
    int ignore_merges;   /* a piece that is a whole vocabulary entry is taken as is, without merging */
    int add_bos;
} mllm_pretok_info;

mllm_pretok_info mllm_pretok_lookup(const char *name, size_t len);

/* Length (>= 1, in code points) of the piece starting at cp[i], i < n; cat[] holds each code
 * point's mllm_ucat. */
int32_t mllm_pretok_next(mllm_pretok p, const uint32_t *cp, const uint8_t *cat, int32_t n, int32_t i);

#endif
