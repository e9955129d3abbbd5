/* BPE encoding against merges worked out by hand on a small vocabulary. */
#include "test_tokenizer_util.h"

/* Single characters are only ever initial symbols, so their scores do not matter (-10). The
 * merge pieces' scores decide the order of merges; each case below derives its result. */
static const test_piece k_pieces[] = {
    {SP, -10, 1}, {"a", -10, 1}, {"b", -10, 1}, {"c", -10, 1}, {"d", -10, 1}, {"e", -10, 1},
    {"h", -10, 1}, {"l", -10, 1}, {"o", -10, 1}, {"s", -10, 1}, {"<", -10, 1}, {">", -10, 1},
    {"/", -10, 1}, {"\t", -10, 1}, {"\n", -10, 1},
    {"ll", -1.0f, 1}, {"lo", -1.5f, 1}, {"he", -2.0f, 1}, {"hell", -3.0f, 1}, {SP "he", -4.0f, 1},
    {SP "hello", -0.1f, 1}, /* unreachable: neither "▁hell" nor "hello" is a piece */
    {"ab", -1.0f, 1}, {"bc", -1.0f, 1}, {SP SP, -0.5f, 1}, {SP "a", -0.7f, 1},
    {"cd", 5.0f, MLLM_TOKEN_UNUSED},   /* merged (best score), then split again: never output */
    {"dd", 9.0f, MLLM_TOKEN_CONTROL},  /* never a merge result; parse_special=1 matches it */
    {"<cut>", 0.0f, MLLM_TOKEN_USER_DEFINED},
    {"x", -10, 1}, {"y", -10, 1}, {"z", -10, 1}, {"yz", -1.0f, 1},
    {"xy", 7.0f, MLLM_TOKEN_UNUSED}, {"xyz", 6.0f, MLLM_TOKEN_UNUSED},
};
#define N_PIECES ((int32_t)(sizeof k_pieces / sizeof k_pieces[0]))

static void test_merges(const test_vocab *tv) {
    /* "▁hello": pairs he(-2) ll(-1) lo(-1.5). ll first -> ▁ h e ll o; lo is now stale.
     * he(-2) -> ▁ he ll o; new pairs ▁he(-4), hell(-3). hell -> ▁ hell o; "▁hell" and "hello"
     * are not pieces; ▁he is stale. BPE is not longest-match: "▁hello" is never reached. */
    ENCODES(tv, "hello", 0, 0, SP, "hell", "o");
    /* "▁cabc": ab(-1) and bc(-1) tie: the leftmost merges first -> ▁ c ab c (bc now stale). */
    ENCODES(tv, "cabc", 0, 0, SP, "c", "ab", "c");
    /* "▁abc": ▁a(-0.7) beats ab(-1) -> ▁a b c, then bc -> ▁a bc. */
    ENCODES(tv, "abc", 0, 0, SP "a", "bc");
    /* Whitespace runs are kept: "▁a▁▁b": ▁▁(-0.5) first, then ▁a(-0.7). */
    ENCODES(tv, "a  b", 0, 0, SP "a", SP SP, "b");
    /* "▁▁▁▁": three tied ▁▁ pairs; leftmost first, (1,2) becomes stale, then (2,3). */
    ENCODES(tv, "   ", 0, 0, SP SP, SP SP);
    ENCODES(tv, " ", 0, 0, SP SP);
    ENCODES(tv, "a\tb\nc", 0, 0, SP "a", "\t", "b", "\n", "c");
    ENCODES(tv, "a\t\t", 0, 0, SP "a", "\t", "\t");
    /* SentencePiece merges into an UNUSED piece like any other, then splits it back into the
     * pair that formed it. "▁cd": cd(5) merges, nothing else applies, cd -> c d. */
    ENCODES(tv, "cd", 0, 0, SP, "c", "d");
    /* "▁bcd": cd(5) beats bc(-1) -> ▁ b cd ("bcd" is no piece, bc is stale) -> split: b c d.
     * (Skipping unused pieces instead would give ▁ bc d.) */
    ENCODES(tv, "bcd", 0, 0, SP, "b", "c", "d");
    /* Nested: "▁xyz": xy(7) merges (split recorded at 1), then xyz(6) (split at 2); yz is stale.
     * xyz -> xy z -> x y z. */
    ENCODES(tv, "xyz", 0, 0, SP, "x", "y", "z");
    /* Control pieces are never merge results even with the best score. */
    ENCODES(tv, "add", 0, 0, SP "a", "d", "d");
    /* User-defined pieces are matched whole before BPE and never merge with neighbours. */
    ENCODES(tv, "a<cut>b", 0, 0, SP "a", "<cut>", "b");
    ENCODES(tv, "<cut>", 0, 0, SP, "<cut>");
}

static void test_byte_fallback(const test_vocab *tv) {
    ENCODES(tv, "\xC3\xA9", 0, 0, SP, "<0xC3>", "<0xA9>");                             /* é */
    ENCODES(tv, "e\xCC\x81", 0, 0, SP, "e", "<0xCC>", "<0x81>");                       /* e + U+0301 */
    ENCODES(tv, "\xE4\xB8\xAD", 0, 0, SP, "<0xE4>", "<0xB8>", "<0xAD>");               /* 中 */
    ENCODES(tv, "\xF0\x9F\x98\x80", 0, 0, SP, "<0xF0>", "<0x9F>", "<0x98>", "<0x80>"); /* 😀 */
    ENCODES(tv, "\r\n", 0, 0, SP, "<0x0D>", "\n");
    /* Invalid UTF-8: every bad byte is a symbol of its own; the 'a' after a truncated sequence
     * stays a character of its own (not swallowed as a continuation byte). */
    ENCODES(tv, "a\xFF", 0, 0, SP "a", "<0xFF>");
    ENCODES(tv, "\xE4\xB8", 0, 0, SP, "<0xE4>", "<0xB8>");
    ENCODES(tv, "\xE4\xB8" "a", 0, 0, SP, "<0xE4>", "<0xB8>", "a");
    ENCODES(tv, "\xC0\x80", 0, 0, SP, "<0xC0>", "<0x80>");         /* overlong NUL */
    ENCODES(tv, "\xED\xA0\x80", 0, 0, SP, "<0xED>", "<0xA0>", "<0x80>"); /* surrogate D800 */
    /* A NUL byte inside the text is ordinary data (the length is explicit). */
    CHECK(encode_is(tv, "a\0b", 3, 0, 0, (const char *const[]){SP "a", "<0x00>", "b", NULL}));
}

static void test_specials(const test_vocab *tv) {
    ENCODES(tv, "<s>", 0, 0, SP, "<", "s", ">");
    ENCODES(tv, "<s>", 0, 1, "<s>");
    ENCODES(tv, "</s>", 0, 1, "</s>");
    ENCODES(tv, "<unk>", 0, 1, "<unk>");
    ENCODES(tv, "<s", 0, 1, SP, "<", "s");
    /* Each text fragment gets the dummy prefix: "a" then <s> then "▁b" (▁b is no piece). */
    ENCODES(tv, "a<s>b", 0, 1, SP "a", "<s>", SP, "b");
    ENCODES(tv, "<s><s>", 0, 1, "<s>", "<s>");
    ENCODES(tv, "add", 0, 1, SP "a", "dd");
    ENCODES(tv, "hello", 1, 0, "<s>", SP, "hell", "o");
    ENCODES_NOTHING(tv, "", 0, 0);
    ENCODES_NOTHING(tv, "", 0, 1);
    ENCODES(tv, "", 1, 0, "<s>");
}

static void test_output_buffer(const test_vocab *tv) {
    int32_t out[3] = {-7, -7, -7};
    /* "hello" with BOS needs 4 tokens: too small -> -4 and nothing written. */
    CHECK(mllm_vocab_encode(tv->v, "hello", 5, out, 3, 1, 0) == -4);
    CHECK(out[0] == -7 && out[1] == -7 && out[2] == -7);
    CHECK(mllm_vocab_encode(tv->v, "hello", 5, NULL, 0, 0, 0) == -3);
    CHECK(mllm_vocab_encode(tv->v, NULL, 5, out, 3, 0, 0) == INT32_MIN);
    CHECK(mllm_vocab_encode(tv->v, "x", -1, out, 3, 0, 0) == INT32_MIN);
}

static void test_no_byte_fallback(void) {
    test_vocab tv;
    test_vocab_build(&tv, k_pieces, N_PIECES, 0, 1);
    ENCODES(&tv, "\xC3\xA9", 0, 0, SP, "<unk>");
    /* A run of unknown symbols collapses into one <unk>, as SentencePiece does. */
    ENCODES(&tv, "\xC3\xA9\xC3\xA0", 0, 0, SP, "<unk>");
    ENCODES(&tv, "a\xC3\xA9" "b", 0, 0, SP "a", "<unk>", "b");
    mllm_vocab_free(tv.v);
}

static void test_no_space_prefix(void) {
    test_vocab tv;
    test_vocab_build(&tv, k_pieces, N_PIECES, 1, 0);
    ENCODES(&tv, "hello", 0, 0, "hell", "o");
    /* "▁hello" as in test_merges but ▁ is now a real space. */
    ENCODES(&tv, " hello", 0, 0, SP, "hell", "o");
    mllm_vocab_free(tv.v);
}

/* A quadratic merge loop would need minutes here; the heap-based one needs milliseconds. */
static void test_long_input(const test_vocab *tv) {
    const int32_t n = 200000;
    char *text = malloc((size_t)n);
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)(n + 8));
    for (int32_t i = 0; i < n; i++) text[i] = "hello "[i % 6];
    int32_t k = mllm_vocab_encode(tv->v, text, n, ids, n + 8, 0, 0);
    /* "▁hello▁hello▁..." -> per word: ▁ hell o, the first ▁ being the dummy prefix and every
     * later one the space; the last word's trailing space is a lone ▁. */
    CHECK(k == (n / 6) * 3 + 1);
    CHECK(k > 0 && ids[0] == test_id(tv, SP) && ids[1] == test_id(tv, "hell") && ids[2] == test_id(tv, "o"));
    for (int32_t i = 0; i < n; i++) text[i] = ' ';
    k = mllm_vocab_encode(tv->v, text, n, ids, n + 8, 0, 0);
    CHECK(k == (n + 2) / 2); /* n + 1 ▁ symbols pair up left to right: ceil((n + 1) / 2) */
    free(text);
    free(ids);
}

/* A user-defined piece that is a strict prefix of U+2581 (invalid UTF-8 on its own) splits every
 * normalised space into more symbols than the input had bytes: "\xE2" leaves "\x96" and "\x81"
 * as one invalid byte each, so " " (dummy prefix + space) becomes 6 symbols from 1 byte of text.
 * The expected tokens follow from the rules alone: the user piece is matched whole and frozen, the
 * two stray bytes form no piece and fall back to byte tokens. */
static void test_user_piece_inside_space(void) {
    static const test_piece pieces[] = {{"\xE2", 0.0f, MLLM_TOKEN_USER_DEFINED}, {"a", -1.0f, 1}};
    test_vocab tv;
    test_vocab_build(&tv, pieces, 2, 1, 1);
    ENCODES(&tv, " ", 0, 0, "\xE2", "<0x96>", "<0x81>", "\xE2", "<0x96>", "<0x81>");
    ENCODES(&tv, "a a", 0, 0, "\xE2", "<0x96>", "<0x81>", "a", "\xE2", "<0x96>", "<0x81>", "a");
    /* Many spaces: three symbols each, far more than one per input byte. */
    enum { N = 5000 };
    char *text = malloc(N);
    int32_t *ids = malloc(sizeof(int32_t) * 3 * (N + 1));
    memset(text, ' ', N);
    int32_t k = mllm_vocab_encode(tv.v, text, N, ids, 3 * (N + 1), 0, 0);
    CHECK(k == 3 * (N + 1));
    int ok = k == 3 * (N + 1);
    for (int32_t i = 0; ok && i < k; i += 3)
        ok = ids[i] == test_id(&tv, "\xE2") && ids[i + 1] == test_id(&tv, "<0x96>") && ids[i + 2] == test_id(&tv, "<0x81>");
    CHECK(ok);
    /* parse_special splits the text into fragments, each with its own dummy prefix */
    memcpy(text + 100, "<s>", 3);
    k = mllm_vocab_encode(tv.v, text, N, ids, 3 * (N + 1), 0, 1);
    CHECK(k == 3 * (N - 3 + 2) + 1);
    free(text);
    free(ids);
    mllm_vocab_free(tv.v);
}

/* The vocabulary size is bounded before any of the description's arrays is read. */
static void test_vocab_size_limit(void) {
    const char *piece = "a";
    uint32_t len = 1;
    mllm_vocab_desc d = {.n_tokens = MLLM_VOCAB_MAX_TOKENS + 1, .pieces = &piece, .piece_lens = &len,
                         .bos = -1, .eos = -1, .unk = -1, .pad = -1, .add_space_prefix = 1};
    char err[256] = "";
    CHECK(mllm_vocab_create(&d, err, sizeof err) == NULL);
    CHECK(strstr(err, "exceeds the limit") != NULL);
}

int main(void) {
    test_user_piece_inside_space();
    test_vocab_size_limit();
    test_vocab tv;
    test_vocab_build(&tv, k_pieces, N_PIECES, 1, 1);
    test_merges(&tv);
    test_byte_fallback(&tv);
    test_specials(&tv);
    test_output_buffer(&tv);
    test_long_input(&tv);
    mllm_vocab_free(tv.v);
    test_no_byte_fallback();
    test_no_space_prefix();
    return test_result("test_tokenizer_bpe");
}
