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

/* The pre-tokenizer tokenizer.ggml.pre = name[0..len) selects, or MLLM_PRETOK_NONE. */
mllm_pretok mllm_pretok_from_name(const char *name, size_t len);
/* Whether llama.cpp applies "ignore merges" (a piece that is a whole vocabulary entry is taken
 * as is, without merging) for this pre-tokenizer when the file does not say. */
int mllm_pretok_ignores_merges(mllm_pretok p);

/* Length (>= 1, in code points) of the piece starting at cp[i], i < n; cat[] holds each code
 * point's mllm_ucat. */
int32_t mllm_pretok_next(mllm_pretok p, const uint32_t *cp, const uint8_t *cat, int32_t n, int32_t i);

#endif
