/* Decoding, the streaming detokenizer, round trips over testdata/tokenizer/corpus.json and
 * vocabulary validation. */
#include "test_tokenizer_util.h"

#include <math.h>
#include <stdint.h>

static const test_piece k_pieces[] = {
    {SP, -10, 1}, {"a", -10, 1}, {"b", -10, 1}, {"e", -10, 1}, {"h", -10, 1}, {"l", -10, 1},
    {"o", -10, 1}, {"ll", -1, 1}, {"he", -2, 1}, {"hell", -3, 1}, {SP SP, -0.5f, 1}, {SP "a", -0.7f, 1},
    {SP "hello", -5, 1}, {"\t", -10, 1}, {"\n", -10, 1},
};
#define N_PIECES ((int32_t)(sizeof k_pieces / sizeof k_pieces[0]))

#define REPL "\xEF\xBF\xBD" /* U+FFFD */

static int decode_is(const test_vocab *tv, const char *const *pieces, int32_t n, const char *expect, int32_t exp_len) {
    int32_t ids[64];
    for (int32_t i = 0; i < n; i++) ids[i] = test_id(tv, pieces[i]);
    char buf[256];
    int32_t len = mllm_vocab_decode(tv->v, ids, n, buf, sizeof buf);
    int ok = len == exp_len && memcmp(buf, expect, (size_t)exp_len) == 0;
    if (!ok) fprintf(stderr, "decode gave %d bytes \"%.*s\", expected \"%s\"\n", (int)len, len > 0 ? (int)len : 0, buf, expect);
    return ok;
}

#define DECODES(tv, expect, ...)                                                                 \
    do {                                                                                         \
        static const char *const p_[] = {__VA_ARGS__};                                           \
        CHECK(decode_is((tv), p_, (int32_t)(sizeof p_ / sizeof p_[0]), (expect), (int32_t)(sizeof(expect) - 1))); \
    } while (0)

static void test_decode(const test_vocab *tv) {
    DECODES(tv, "hello", SP, "hell", "o");           /* dummy-prefix space dropped */
    DECODES(tv, "hello", "<s>", SP "hello", "</s>"); /* control tokens vanish, then the first piece */
    DECODES(tv, " hello", SP SP, "hell", "o");       /* only one space is the dummy prefix */
    DECODES(tv, "hello hello", SP "hello", SP "hello");
    DECODES(tv, "hell", "hell");                     /* no ▁, nothing dropped */
    DECODES(tv, " a", "<0x20>", "a");                /* a byte piece is not a dummy prefix */
    DECODES(tv, "a\tb", SP "a", "\t", "b");
    DECODES(tv, "\xE4\xB8\xAD", SP, "<0xE4>", "<0xB8>", "<0xAD>");
    /* SentencePiece turns each byte that forms no character into U+FFFD: */
    DECODES(tv, REPL, "<0xFF>");
    DECODES(tv, REPL REPL "a", "<0xE4>", "<0xB8>", "a");    /* truncated, then a normal piece */
    DECODES(tv, REPL "A", "<0xF0>", "<0x41>");                /* bad continuation byte */
    DECODES(tv, REPL REPL, "<0xC0>", "<0x80>");               /* overlong */
    DECODES(tv, REPL REPL, "<0xE4>", "</s>", "<0xB8>");       /* a control token breaks a sequence */
    DECODES(tv, "a \xE2\x81\x87 b", SP "a", "<unk>", "b");    /* unknown reads " ⁇ " */
    DECODES(tv, "", "<s>");

    int32_t ids[3] = {test_id(tv, SP "hello"), test_id(tv, SP "hello"), 99999};
    char small[4];
    CHECK(mllm_vocab_decode(tv->v, ids, 2, small, sizeof small) == -11); /* "hello hello" */
    CHECK(mllm_vocab_decode(tv->v, ids, 2, NULL, 0) == -11);
    CHECK(mllm_vocab_decode(tv->v, ids, 3, NULL, 0) == INT32_MIN);      /* id out of range */

    char b[16];
    CHECK(mllm_vocab_token_bytes(tv->v, test_id(tv, SP "hello"), b, sizeof b) == 6 && memcmp(b, " hello", 6) == 0);
    CHECK(mllm_vocab_token_bytes(tv->v, test_id(tv, "<0xE4>"), b, sizeof b) == 1 && (unsigned char)b[0] == 0xE4);
    CHECK(mllm_vocab_token_bytes(tv->v, test_id(tv, "</s>"), b, sizeof b) == 0);
    CHECK(mllm_vocab_token_bytes(tv->v, test_id(tv, SP "hello"), b, 3) == -6);
}

/* Pushes pieces one by one; checks each push's output against want[i]. */
static void test_stream(const test_vocab *tv) {
    struct mllm_detokenizer *d = mllm_vocab_detok_new(tv->v, 1);
    char buf[64];
    /* 😀 = F0 9F 98 80 split over byte tokens: nothing until the 4th byte. */
    CHECK(mllm_vocab_detok_push(d, test_id(tv, SP), buf, sizeof buf) == 0); /* stripped prefix */
    CHECK(mllm_vocab_detok_push(d, test_id(tv, "<0xF0>"), buf, sizeof buf) == 0);
    CHECK(mllm_vocab_detok_push(d, test_id(tv, "<0x9F>"), buf, sizeof buf) == 0);
    CHECK(mllm_vocab_detok_push(d, test_id(tv, "<0x98>"), buf, sizeof buf) == 0);
    /* Too small a buffer: the size needed is returned and nothing is consumed. */
    CHECK(mllm_vocab_detok_push(d, test_id(tv, "<0x80>"), buf, 2) == -4);
    CHECK(mllm_vocab_detok_push(d, test_id(tv, "<0x80>"), buf, sizeof buf) == 4 && memcmp(buf, "\xF0\x9F\x98\x80", 4) == 0);
    /* Later ▁ are real spaces. */
    CHECK(mllm_vocab_detok_push(d, test_id(tv, SP "hello"), buf, sizeof buf) == 6 && memcmp(buf, " hello", 6) == 0);
    /* Invalid mid-stream: F0 then 'A' -> U+FFFD immediately, then 'A'; nothing held. */
    CHECK(mllm_vocab_detok_push(d, test_id(tv, "<0xF0>"), buf, sizeof buf) == 0);
    CHECK(mllm_vocab_detok_push(d, test_id(tv, "<0x41>"), buf, sizeof buf) == 4 && memcmp(buf, REPL "A", 4) == 0);
    /* A stray continuation byte is replaced at once rather than held. */
    CHECK(mllm_vocab_detok_push(d, test_id(tv, "<0x80>"), buf, sizeof buf) == 3 && memcmp(buf, REPL, 3) == 0);
    /* Held bytes of an unfinished character come out as U+FFFD on flush, one per byte. */
    CHECK(mllm_vocab_detok_push(d, test_id(tv, "<0xE4>"), buf, sizeof buf) == 0);
    CHECK(mllm_vocab_detok_push(d, test_id(tv, "<0xB8>"), buf, sizeof buf) == 0);
    CHECK(mllm_vocab_detok_flush(d, buf, 5) == -6);
    CHECK(mllm_vocab_detok_flush(d, buf, sizeof buf) == 6 && memcmp(buf, REPL REPL, 6) == 0);
    CHECK(mllm_vocab_detok_flush(d, buf, sizeof buf) == 0);
    /* Flush resets: the next first piece loses its dummy prefix again. */
    CHECK(mllm_vocab_detok_push(d, test_id(tv, SP "hello"), buf, sizeof buf) == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK(mllm_vocab_detok_push(d, 99999, buf, sizeof buf) == INT32_MIN);
    mllm_vocab_detok_free(d);

    d = mllm_vocab_detok_new(tv->v, 0); /* continuing after a prompt: keep the space */
    CHECK(mllm_vocab_detok_push(d, test_id(tv, SP "hello"), buf, sizeof buf) == 6 && memcmp(buf, " hello", 6) == 0);
    mllm_vocab_detok_free(d);
}

/* ---- corpus.json: a JSON array of strings (escapes as written by any JSON encoder) ---- */

static int hex4(const char *p, uint32_t *out) {
    *out = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0) return -1;
        *out = *out * 16 + (uint32_t)v;
    }
    return 0;
}

static int put_utf8(char *dst, uint32_t cp) {
    if (cp < 0x80) { dst[0] = (char)cp; return 1; }
    if (cp < 0x800) { dst[0] = (char)(0xC0 | cp >> 6); dst[1] = (char)(0x80 | (cp & 63)); return 2; }
    if (cp < 0x10000) {
        dst[0] = (char)(0xE0 | cp >> 12); dst[1] = (char)(0x80 | (cp >> 6 & 63)); dst[2] = (char)(0x80 | (cp & 63));
        return 3;
    }
    dst[0] = (char)(0xF0 | cp >> 18); dst[1] = (char)(0x80 | (cp >> 12 & 63));
    dst[2] = (char)(0x80 | (cp >> 6 & 63)); dst[3] = (char)(0x80 | (cp & 63));
    return 4;
}

/* Decodes the JSON string starting after its opening quote at *pp into dst; returns its length
 * or -1. Advances *pp past the closing quote. */
static int32_t json_string(const char **pp, char *dst) {
    const char *p = *pp;
    int32_t n = 0;
    while (*p && *p != '"') {
        if (*p != '\\') { dst[n++] = *p++; continue; }
        p++;
        char c = *p++;
        const char *simple = strchr("\"\\/bfnrt", c);
        if (c && simple) { dst[n++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"]; continue; }
        uint32_t cp, lo;
        if (c != 'u' || hex4(p, &cp)) return -1;
        p += 4;
        if (cp >= 0xD800 && cp < 0xDC00) { /* surrogate pair */
            if (p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF) return -1;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
        }
        n += put_utf8(dst + n, cp);
    }
    if (*p != '"') return -1;
    *pp = p + 1;
    return n;
}

static char *read_file(const char *path, long *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)*size + 1);
    if (s && fread(s, 1, (size_t)*size, f) != (size_t)*size) { free(s); s = NULL; }
    if (s) s[*size] = '\0';
    fclose(f);
    return s;
}

/* SentencePiece is lossless except that a literal U+2581 in the text comes back as ' '. */
static int32_t expected_round_trip(const char *s, int32_t n, char *out) {
    int32_t k = 0;
    for (int32_t i = 0; i < n; i++) {
        if (i + 2 < n && memcmp(s + i, SP, 3) == 0) { out[k++] = ' '; i += 2; }
        else out[k++] = s[i];
    }
    return k;
}

static void round_trip_one(const test_vocab *tv, const char *s, int32_t n, int32_t index) {
    static int32_t ids[20000];
    static char dec[60000], stream[60000], want[60000];
    int32_t k = mllm_vocab_encode(tv->v, s, n, ids, 20000, 1, 0);
    CHECK(k >= 1);
    if (k < 1) return;
    int32_t m = mllm_vocab_decode(tv->v, ids, k, dec, sizeof dec);
    int32_t w = expected_round_trip(s, n, want);
    if (m != w || memcmp(dec, want, (size_t)w) != 0) {
        fprintf(stderr, "corpus[%d]: round trip differs (%d vs %d bytes)\n", (int)index, (int)m, (int)w);
        g_fail++;
    }
    /* Streaming token by token must give exactly the batch result. */
    struct mllm_detokenizer *d = mllm_vocab_detok_new(tv->v, 1);
    int32_t total = 0;
    for (int32_t i = 0; i < k; i++) total += mllm_vocab_detok_push(d, ids[i], stream + total, (int32_t)sizeof stream - total);
    total += mllm_vocab_detok_flush(d, stream + total, (int32_t)sizeof stream - total);
    mllm_vocab_detok_free(d);
    if (total != m || memcmp(stream, dec, (size_t)m) != 0) {
        fprintf(stderr, "corpus[%d]: streaming differs from batch decode\n", (int)index);
        g_fail++;
    }
}

static void test_corpus(const test_vocab *tv) {
    long size;
    char *json = read_file(MLLM_TEST_DATA "/tokenizer/corpus.json", &size);
    CHECK(json != NULL);
    if (!json) return;
    char *str = malloc((size_t)size + 1);
    int32_t count = 0;
    for (const char *p = json; *p;) {
        if (*p++ != '"') continue;
        int32_t n = json_string(&p, str);
        CHECK(n >= 0);
        if (n < 0) break;
        round_trip_one(tv, str, n, count++);
    }
    CHECK(count >= 80);
    printf("corpus: %d strings round-tripped\n", (int)count);
    free(str);
    free(json);
}

static void test_create_errors(void) {
    const char *pieces[3] = {"<unk>", "a", "b"};
    uint32_t lens[3] = {5, 1, 1};
    float scores[3] = {0, 0, 0};
    int32_t types[3] = {2, 1, 1};
    char err[256];
    mllm_vocab_desc d = {.n_tokens = 3, .pieces = pieces, .piece_lens = lens, .scores = scores, .types = types,
                         .bos = -1, .eos = -1, .unk = 0, .pad = -1, .add_space_prefix = 1};
    mllm_vocab *v = mllm_vocab_create(&d, err, sizeof err);
    CHECK(v != NULL);
    mllm_vocab_free(v);

    d.bos = 3;
    CHECK(mllm_vocab_create(&d, err, sizeof err) == NULL && strstr(err, "BOS") && strstr(err, "3"));
    d.bos = -1;
    types[2] = 9;
    CHECK(mllm_vocab_create(&d, err, sizeof err) == NULL && strstr(err, "type 9"));
    types[2] = 1;
    scores[1] = NAN;
    CHECK(mllm_vocab_create(&d, err, sizeof err) == NULL && strstr(err, "NaN"));
    scores[1] = 0;
    types[0] = 1; /* no unknown token and no byte pieces: some text could not be encoded */
    d.unk = -1;
    CHECK(mllm_vocab_create(&d, err, sizeof err) == NULL && strstr(err, "unknown token"));
    d.n_tokens = 0;
    CHECK(mllm_vocab_create(&d, err, sizeof err) == NULL && strstr(err, "0 tokens"));
    CHECK(mllm_vocab_create(NULL, err, sizeof err) == NULL && strstr(err, "NULL"));
}

int main(void) {
    test_vocab tv;
    test_vocab_build(&tv, k_pieces, N_PIECES, 1, 1);
    test_decode(&tv);
    test_stream(&tv);
    test_corpus(&tv);
    mllm_vocab_free(tv.v);
    test_create_errors();
    return test_result("test_tokenizer_decode");
}
