/* Scanners for the split patterns in pretokenize.h. Both patterns are alternations tried in
 * order at each position; every code point starts a match of some alternative (letters,
 * numbers, whitespace and "other" each have one), so the pieces tile the text. What the
 * backtracking of each alternative amounts to:
 *  - X?Y+ with X and Y disjoint or not: take X only if the rest still matches after it;
 *  - \s*[\r\n]+ : the whitespace run up to and including its last CR/LF;
 *  - \s+(?!\S) : the whitespace run minus its last character, unless the run ends the text (a
 *    run of one character followed by text does not match);
 *  - Llama 4's U*W+ (U, W overlapping classes): if the character after the maximal U-run is in
 *    W, the W-run from there; otherwise the U-run cut after its last character that is also in W.
 * (?i:'s|...) folds case as Unicode does: 's' also matches U+017F LATIN SMALL LETTER LONG S. */
#include "tokenizer/pretokenize.h"
#include "tokenizer/unicode_class.h"

#include <string.h>

mllm_pretok_info mllm_pretok_lookup(const char *name, size_t len) {
    static const struct {
        const char *name;
        mllm_pretok_info info;
    } names[] = {
        {"llama-bpe", {MLLM_PRETOK_LLAMA3, 1, 1}}, {"llama3", {MLLM_PRETOK_LLAMA3, 1, 1}},
        {"llama-v3", {MLLM_PRETOK_LLAMA3, 1, 1}},  {"smaug-bpe", {MLLM_PRETOK_LLAMA3, 0, 0}},
        {"llama4", {MLLM_PRETOK_LLAMA4, 0, 0}},    {"gpt-4o", {MLLM_PRETOK_LLAMA4, 0, 0}},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i].name) == len && memcmp(names[i].name, name, len) == 0) return names[i].info;
    }
    return (mllm_pretok_info){MLLM_PRETOK_NONE, 0, 0};
}

static int is_crlf(uint32_t c) { return c == '\r' || c == '\n'; }

/* [^\r\n\p{L}\p{N}] */
static int is_prefix(const uint32_t *cp, const uint8_t *cat, int32_t i) {
    return !is_crlf(cp[i]) && !mllm_ucat_is_letter(cat[i]) && cat[i] != MLLM_UCAT_NUMBER;
}

/* [^\s\p{L}\p{N}] */
static int is_other(uint8_t c) { return c == MLLM_UCAT_OTHER || c == MLLM_UCAT_MARK; }

/* Llama 4's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and [\p{Ll}\p{Lm}\p{Lo}\p{M}] */
static int in_upper(uint8_t c) {
    return c == MLLM_UCAT_LU || c == MLLM_UCAT_LT || c == MLLM_UCAT_LM || c == MLLM_UCAT_LO || c == MLLM_UCAT_MARK;
}
static int in_lower(uint8_t c) {
    return c == MLLM_UCAT_LL || c == MLLM_UCAT_LM || c == MLLM_UCAT_LO || c == MLLM_UCAT_MARK;
}

static int32_t run_of(const uint8_t *cat, int32_t n, int32_t i, int (*in)(uint8_t)) {
    while (i < n && in(cat[i])) i++;
    return i;
}

static int is_letter(uint8_t c) { return mllm_ucat_is_letter((mllm_ucat)c); }
static int is_number(uint8_t c) { return c == MLLM_UCAT_NUMBER; }
static int is_space(uint8_t c) { return c == MLLM_UCAT_SPACE; }

static int fold_eq(uint32_t c, char lower) {
    return c == (uint32_t)lower || c == (uint32_t)(lower - 'a' + 'A') || (lower == 's' && c == 0x17F);
}

/* Length of (?i:'s|'t|'re|'ve|'m|'ll|'d) at cp[i], or 0. */
static int32_t contraction(const uint32_t *cp, int32_t n, int32_t i) {
    if (i + 1 >= n || cp[i] != '\'') return 0;
    uint32_t a = cp[i + 1];
    if (fold_eq(a, 's') || fold_eq(a, 't') || fold_eq(a, 'm') || fold_eq(a, 'd')) return 2;
    if (i + 2 >= n) return 0;
    uint32_t b = cp[i + 2];
    if ((fold_eq(a, 'r') || fold_eq(a, 'v')) && fold_eq(b, 'e')) return 3;
    if (fold_eq(a, 'l') && fold_eq(b, 'l')) return 3;
    return 0;
}

/* The whitespace alternatives shared by both patterns: \s*[\r\n]+|\s+(?!\S)|\s+ at a whitespace
 * character. */
static int32_t whitespace(const uint32_t *cp, const uint8_t *cat, int32_t n, int32_t i) {
    int32_t e = run_of(cat, n, i, is_space);
    for (int32_t k = e - 1; k >= i; k--)
        if (is_crlf(cp[k])) return k + 1 - i;
    if (e == n || e - i == 1) return e - i;
    return e - i - 1;
}

/* ' ?[^\s\p{L}\p{N}]+' followed by a run of the tail characters, or 0. */
static int32_t punctuation(const uint32_t *cp, const uint8_t *cat, int32_t n, int32_t i, int slash) {
    int32_t j = i + (cp[i] == ' ');
    if (j >= n || !is_other(cat[j])) return 0;
    j = run_of(cat, n, j, is_other);
    while (j < n && (is_crlf(cp[j]) || (slash && cp[j] == '/'))) j++;
    return j - i;
}

static int32_t next_llama3(const uint32_t *cp, const uint8_t *cat, int32_t n, int32_t i) {
    int32_t k = contraction(cp, n, i);
    if (k) return k;
    if (is_letter(cat[i])) return run_of(cat, n, i, is_letter) - i;
    if (is_prefix(cp, cat, i) && i + 1 < n && is_letter(cat[i + 1])) return run_of(cat, n, i + 1, is_letter) - i;
    if (is_number(cat[i])) {
        int32_t e = i + 1;
        while (e < n && e < i + 3 && is_number(cat[e])) e++;
        return e - i;
    }
    if ((k = punctuation(cp, cat, n, i, 0))) return k;
    return whitespace(cp, cat, n, i);
}

/* End of [U]*[W]+ from s, or -1. */
static int32_t upper_then_lower(const uint8_t *cat, int32_t n, int32_t s) {
    int32_t e = run_of(cat, n, s, in_upper);
    if (e < n && in_lower(cat[e])) return run_of(cat, n, e, in_lower);
    for (int32_t k = e - 1; k >= s; k--)
        if (in_lower(cat[k])) return k + 1;
    return -1;
}

/* End of [U]+[W]* from s, or -1. */
static int32_t upper_plus_lower(const uint8_t *cat, int32_t n, int32_t s) {
    int32_t e = run_of(cat, n, s, in_upper);
    return e > s ? run_of(cat, n, e, in_lower) : -1;
}

static int32_t next_llama4(const uint32_t *cp, const uint8_t *cat, int32_t n, int32_t i) {
    int prefix = is_prefix(cp, cat, i);
    int32_t (*word[2])(const uint8_t *, int32_t, int32_t) = {upper_then_lower, upper_plus_lower};
    for (int alt = 0; alt < 2; alt++) {
        for (int with_prefix = prefix; with_prefix >= 0; with_prefix--) {
            int32_t end = word[alt](cat, n, i + with_prefix);
            if (end >= 0) return end + contraction(cp, n, end) - i;
        }
    }
    if (is_number(cat[i])) {
        int32_t e = i + 1;
        while (e < n && e < i + 3 && is_number(cat[e])) e++;
        return e - i;
    }
    int32_t k = punctuation(cp, cat, n, i, 1);
    if (k) return k;
    return whitespace(cp, cat, n, i);
}

int32_t mllm_pretok_next(mllm_pretok p, const uint32_t *cp, const uint8_t *cat, int32_t n, int32_t i) {
    return p == MLLM_PRETOK_LLAMA4 ? next_llama4(cp, cat, n, i) : next_llama3(cp, cat, n, i);
}
