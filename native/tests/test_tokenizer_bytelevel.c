/* Byte-level BPE (tokenizer.ggml.model "gpt2"): the pre-tokenizers' splits (as Hugging Face
 * tokenizers' Split pre-tokenizer makes them for the same strings with Llama 3's and Llama 4's
 * patterns), merges worked out by hand on a small vocabulary, added tokens, decoding and
 * streaming of characters split across tokens, ill-formed UTF-8, vocabulary errors, and a GGUF
 * file with a gpt2 vocabulary through the public API. The parity with tokenizers on real
 * vocabularies is java-api's ByteLevelTokenizerParityTest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/model.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode_class.h"
#include "tokenizer/utf8.h"
#include "util/test_check.h"
#include "util/tiny_model.h"

/* ---- pre-tokenizers ---- */

/* Splits text and compares with the expected pieces (NULL-terminated list). */
static void check_split(mllm_pretok p, const char *text, const char *const *want) {
    int32_t len = (int32_t)strlen(text);
    uint32_t cps[256];
    int32_t offs[257];
    uint8_t cats[256];
    int32_t n = mllm_utf8_decode_lossy((const unsigned char *)text, len, cps, offs);
    for (int32_t i = 0; i < n; i++) cats[i] = (uint8_t)mllm_ucat_of(cps[i]);
    int32_t k = 0;
    for (int32_t i = 0; i < n; k++) {
        int32_t step = mllm_pretok_next(p, cps, cats, n, i);
        int32_t bytes = offs[i + step] - offs[i];
        if (!want[k] || (int32_t)strlen(want[k]) != bytes || memcmp(want[k], text + offs[i], (size_t)bytes) != 0) {
            fprintf(stderr, "split of \"%s\" (pattern %d): piece %d is \"%.*s\", expected \"%s\"\n", text, (int)p, (int)k,
                    (int)bytes, text + offs[i], want[k] ? want[k] : "(end)");
            g_fail++;
            return;
        }
        i += step;
    }
    CHECK(want[k] == NULL);
}

#define SPLITS(p, text, ...) check_split(p, text, (const char *const[]){__VA_ARGS__, NULL})

static void test_llama3_splits(void) {
    mllm_pretok p = MLLM_PRETOK_LLAMA3;
    SPLITS(p, "Hello world's  end\n\n  x", "Hello", " world", "'s", " ", " end", "\n\n", " ", " x");
    /* contractions only where an apostrophe starts a piece; case folding includes U+017F */
    SPLITS(p, "I'M 'll'LL '\xC5\xBFt 12345 \xD9\xA1\xD9\xA2\xD9\xA3\xD9\xA4", "I", "'M", " '", "ll", "'LL", " '", "\xC5\xBFt", " ",
           "123", "45", " ", "\xD9\xA1\xD9\xA2\xD9\xA3", "\xD9\xA4");
    SPLITS(p, "x'\xC5\xBFt", "x", "'\xC5\xBF", "t");
    SPLITS(p, " !!\r\n\t x \xE3\x80\x80y", " !!\r\n", "\t", " x", " ", "\xE3\x80\x80y");
    /* marks are not letters: e + U+0301 splits */
    SPLITS(p, "e\xCC\x81t\xCC\x81 \xCC\x81" "a", "e", "\xCC\x81t", "\xCC\x81", " \xCC\x81", "a");
    SPLITS(p, "x  \t\n  ", "x", "  \t\n", "  ");
    SPLITS(p, "'s'S", "'s", "'S");
    SPLITS(p, "\xC2\xA0\xC2\xA0z", "\xC2\xA0", "\xC2\xA0z");
}

static void test_llama4_splits(void) {
    mllm_pretok p = MLLM_PRETOK_LLAMA4;
    SPLITS(p, "Hello world's  end\n\n  x", "Hello", " world's", " ", " end", "\n\n", " ", " x");
    SPLITS(p, "I'M 'll'LL '\xC5\xBFt 12345 \xD9\xA1\xD9\xA2\xD9\xA3\xD9\xA4", "I'M", " '", "ll'LL", " '", "\xC5\xBFt", " ", "123", "45",
           " ", "\xD9\xA1\xD9\xA2\xD9\xA3", "\xD9\xA4");
    /* marks belong to both letter classes */
    SPLITS(p, "e\xCC\x81t\xCC\x81 \xCC\x81" "a", "e\xCC\x81t\xCC\x81", " \xCC\x81" "a");
    /* upper run then lower run; a lone upper run; titlecase U+01C5 */
    SPLITS(p, "HTTPServer iPhone \xC7\x85" "ab ABC", "HTTPServer", " i", "Phone", " \xC7\x85" "ab", " ABC");
    SPLITS(p, "a/b\n/c //\n", "a", "/b", "\n", "/c", " //\n");
    /* modifier letters (Lm) are in both classes */
    SPLITS(p, "\xCA\xB0\xCA\xB0" "a A\xCA\xB0" "b \xE4\xB8\x80\xE4\xBA\x8C", "\xCA\xB0\xCA\xB0" "a", " A\xCA\xB0" "b", " \xE4\xB8\x80\xE4\xBA\x8C");
    SPLITS(p, "'s'S", "'s'S");
}

static void test_pretok_names(void) {
    mllm_pretok_info l3 = mllm_pretok_lookup("llama-bpe", 9), smaug = mllm_pretok_lookup("smaug-bpe", 9);
    mllm_pretok_info l4 = mllm_pretok_lookup("llama4", 6);
    CHECK(l3.pretok == MLLM_PRETOK_LLAMA3 && l3.ignore_merges && l3.add_bos);
    /* llama.cpp's defaults for the names: Llama 3's pattern under "smaug-bpe", without ignore merges or BOS */
    CHECK(smaug.pretok == MLLM_PRETOK_LLAMA3 && !smaug.ignore_merges && !smaug.add_bos);
    CHECK(l4.pretok == MLLM_PRETOK_LLAMA4 && !l4.ignore_merges && !l4.add_bos);
    CHECK(mllm_pretok_lookup("llama", 5).pretok == MLLM_PRETOK_NONE);
    CHECK(mllm_pretok_lookup("qwen2", 5).pretok == MLLM_PRETOK_NONE);
}

static void test_unicode_classes(void) {
    CHECK(mllm_ucat_of('A') == MLLM_UCAT_LU && mllm_ucat_of('z') == MLLM_UCAT_LL && mllm_ucat_of('7') == MLLM_UCAT_NUMBER);
    CHECK(mllm_ucat_of(0x01C5) == MLLM_UCAT_LT && mllm_ucat_of(0x02B0) == MLLM_UCAT_LM && mllm_ucat_of(0x4E00) == MLLM_UCAT_LO);
    CHECK(mllm_ucat_of(0x0301) == MLLM_UCAT_MARK && mllm_ucat_of(0x2160) == MLLM_UCAT_NUMBER);
    CHECK(mllm_ucat_of(0x85) == MLLM_UCAT_SPACE && mllm_ucat_of(0x3000) == MLLM_UCAT_SPACE && mllm_ucat_of(0x2029) == MLLM_UCAT_SPACE);
    CHECK(mllm_ucat_of(0x200B) == MLLM_UCAT_OTHER && mllm_ucat_of(0xFEFF) == MLLM_UCAT_OTHER); /* format, not \s */
    CHECK(mllm_ucat_of(0x105C0) == MLLM_UCAT_LO);  /* Todhri, new in Unicode 16.0 */
    CHECK(mllm_ucat_of(0x10940) == MLLM_UCAT_OTHER); /* Sidetic, Unicode 17.0: not yet */
    CHECK(mllm_ucat_of(0x110000) == MLLM_UCAT_OTHER);
}

static void test_lossy_utf8(void) {
    uint32_t cps[16];
    int32_t offs[17];
    /* E2 82 is one maximal subpart (one U+FFFD), 'A' survives; C0 and AF are two (C0 never starts a character) */
    int32_t n = mllm_utf8_decode_lossy((const unsigned char *)"\xE2\x82" "A\xC0\xAF\xF0\x9F\x98", 7, cps, offs);
    CHECK(n == 5 && cps[0] == 0xFFFD && cps[1] == 'A' && cps[2] == 0xFFFD && cps[3] == 0xFFFD && cps[4] == 0xFFFD);
    CHECK(offs[1] == 3 && offs[2] == 4 && offs[5] == 13);
    /* surrogates (ED A0 80) are three subparts */
    CHECK(mllm_utf8_decode_lossy((const unsigned char *)"\xED\xA0\x80", 3, cps, NULL) == 3);
}

/* ---- encoding on a hand-built vocabulary ---- */

typedef struct bl_vocab {
    mllm_vocab *v;
    const char *pieces[300];
    uint32_t lens[300];
    int32_t types[300];
    char alpha[256][3];
    int32_t n;
} bl_vocab;

#define G "\xC4\xA0" /* U+0120: the stand-in of the space byte */

/* ids 0..255: byte stand-ins (byte order); then `extra`; merges in rank order */
static const struct {
    const char *piece;
    int32_t type;
} k_extra[] = {
    {"he", 1}, {"ll", 1}, {"el", 1}, {"hell", 1}, {"hello", 1}, {G "t", 1}, {G "the", 1}, {"xyz", 1}, {"ab", 1}, {"bc", 1},
    {"<|eot_id|>", MLLM_TOKEN_CONTROL}, {"<|eo", MLLM_TOKEN_CONTROL}, {"my tok", MLLM_TOKEN_USER_DEFINED},
    {"a\xC3\xB1" "b", MLLM_TOKEN_USER_DEFINED}, {"<unk>", MLLM_TOKEN_UNKNOWN},
};
#define N_EXTRA ((int32_t)(sizeof k_extra / sizeof k_extra[0]))
static const char *const k_merges[] = {"h e", "l l", "e l", "he ll", "hell o", G " t", G "t he", "a b", "b c"};

static int32_t id_of(const bl_vocab *bv, const char *piece) {
    for (int32_t i = 0; i < bv->n; i++)
        if (strlen(piece) == bv->lens[i] && memcmp(piece, bv->pieces[i], bv->lens[i]) == 0) return i;
    fprintf(stderr, "no piece %s\n", piece);
    return -1;
}

static mllm_vocab *build(bl_vocab *bv, int32_t pretok, int32_t ignore_merges, int32_t n_merges, const char *const *merges,
                         char *err, int errlen) {
    bv->n = 0;
    for (int b = 0; b < 256; b++) {
        int self = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        static int shifted;
        if (b == 0) shifted = 0;
        unsigned cp = self ? (unsigned)b : 0x100u + (unsigned)shifted++;
        int len = mllm_utf8_encode(cp, bv->alpha[b]);
        bv->pieces[bv->n] = bv->alpha[b];
        bv->lens[bv->n] = (uint32_t)len;
        bv->types[bv->n++] = MLLM_TOKEN_NORMAL;
    }
    for (int32_t i = 0; i < N_EXTRA; i++) {
        bv->pieces[bv->n] = k_extra[i].piece;
        bv->lens[bv->n] = (uint32_t)strlen(k_extra[i].piece);
        bv->types[bv->n++] = k_extra[i].type;
    }
    uint32_t mlens[16];
    for (int32_t i = 0; i < n_merges; i++) mlens[i] = (uint32_t)strlen(merges[i]);
    int32_t eog[1] = {256 + 10};
    mllm_vocab_desc d = {.n_tokens = bv->n, .pieces = bv->pieces, .piece_lens = bv->lens, .types = bv->types,
                         .bos = -1, .eos = -1, .unk = -1, .pad = -1, .n_eog = 1, .eog = eog,
                         .kind = MLLM_VOCAB_BYTELEVEL, .pretok = pretok, .ignore_merges = ignore_merges,
                         .n_merges = n_merges, .merges = merges, .merge_lens = mlens};
    bv->v = mllm_vocab_create(&d, err, errlen);
    return bv->v;
}

static void check_encode(bl_vocab *bv, const char *text, int32_t len, int parse_special, const char *const *want) {
    int32_t ids[256], exp[256], n_exp = 0;
    for (; want[n_exp]; n_exp++) exp[n_exp] = id_of(bv, want[n_exp]);
    int32_t n = mllm_vocab_encode(bv->v, text, len, ids, 256, 0, parse_special);
    if (n != n_exp || memcmp(ids, exp, sizeof(int32_t) * (size_t)n) != 0) {
        fprintf(stderr, "encode \"%.*s\": got", (int)len, text);
        for (int32_t i = 0; i < n; i++) fprintf(stderr, " [%s]", mllm_vocab_piece(bv->v, ids[i]));
        fprintf(stderr, "\n");
        g_fail++;
    }
}

#define ENC(bv, text, special, ...) check_encode(bv, text, (int32_t)strlen(text), special, (const char *const[]){__VA_ARGS__, NULL})

static void test_merges(void) {
    bl_vocab bv;
    char err[256];
    CHECK(build(&bv, MLLM_PRETOK_LLAMA3, 0, 9, k_merges, err, sizeof err) != NULL);
    /* "hello": pairs he(0) el(2) ll(1) lo(-). he first -> he l l o; then ll -> he ll o; he+ll(3) ->
     * hell o; hell+o(4) -> hello. */
    ENC(&bv, "hello", 0, "hello");
    /* "helo": he(0) -> he l o; "he l" is no merge; el would need e and l adjacent: stays */
    ENC(&bv, "helo", 0, "he", "l", "o");
    /* "lll": the two ll pairs tie; the leftmost merges */
    ENC(&bv, "lll", 0, "ll", "l");
    /* "abc": ab(7) before bc(8) */
    ENC(&bv, "abc", 0, "ab", "c");
    /* pre-tokenizer pieces are merged separately: " the" is one piece, "the" merges to "t"+"he" only */
    ENC(&bv, "the the", 0, "t", "he", G "the");
    /* without ignore_merges, a piece that is a vocabulary entry but unreachable by merges is split */
    ENC(&bv, "xyz", 0, "x", "y", "z");
    /* ill-formed UTF-8 is encoded as U+FFFD (EF BF BD) */
    ENC(&bv, "\xFF", 0, "\xC3\xAF", "\xC2\xBF", "\xC2\xBD");
    /* special tokens: only with parse_special, longest match ("<|eot_id|>" over "<|eo") */
    ENC(&bv, "a<|eot_id|>b", 1, "a", "<|eot_id|>", "b");
    ENC(&bv, "<|eo<|eot_id|>", 1, "<|eo", "<|eot_id|>");
    ENC(&bv, "<|eot_id|>", 0, "<", "|", "e", "o", "t", "_", "i", "d", "|", ">");
    /* user-defined tokens always (HF's non-special added tokens), even inside a word */
    ENC(&bv, "xmy tokx", 0, "x", "my tok", "x");
    CHECK(mllm_vocab_is_eog(bv.v, id_of(&bv, "<|eot_id|>")) && !mllm_vocab_is_eog(bv.v, id_of(&bv, "he")));
    mllm_vocab_free(bv.v);

    CHECK(build(&bv, MLLM_PRETOK_LLAMA3, 1, 9, k_merges, err, sizeof err) != NULL);
    /* ignore_merges: a piece that is a NORMAL entry is taken whole */
    ENC(&bv, "xyz", 0, "xyz");
    ENC(&bv, "xyzx", 0, "x", "y", "z", "x");
    mllm_vocab_free(bv.v);
}

static void test_bad_vocabularies(void) {
    bl_vocab bv;
    char err[256] = "";
    CHECK(build(&bv, MLLM_PRETOK_LLAMA3, 0, 1, (const char *const[]){"h q"}, err, sizeof err) == NULL);
    CHECK(strstr(err, "merge 0 ('h q') makes a piece that is not in the vocabulary") != NULL);
    CHECK(build(&bv, MLLM_PRETOK_LLAMA3, 0, 1, (const char *const[]){"he"}, err, sizeof err) == NULL);
    CHECK(strstr(err, "not two pieces separated by a space") != NULL);
    CHECK(build(&bv, MLLM_PRETOK_LLAMA3, 0, 1, (const char *const[]){"zz e"}, err, sizeof err) == NULL);
    CHECK(strstr(err, "has a left piece that is not in the vocabulary") != NULL);
    CHECK(build(&bv, 7, 0, 0, NULL, err, sizeof err) == NULL && strstr(err, "unknown pre-tokenizer 7") != NULL);
}

/* ---- decoding ---- */

static void check_decode(bl_vocab *bv, const char *const *pieces, const char *want, int32_t want_len) {
    int32_t ids[32], n = 0;
    for (; pieces[n]; n++) ids[n] = id_of(bv, pieces[n]);
    char buf[128];
    int32_t got = mllm_vocab_decode(bv->v, ids, n, buf, (int32_t)sizeof buf);
    CHECK(got == want_len && memcmp(buf, want, (size_t)want_len) == 0);
    /* streaming, one token at a time, must give the same bytes */
    struct mllm_detokenizer *d = mllm_vocab_detok_new(bv->v, 1);
    char s[128];
    int32_t len = 0;
    for (int32_t i = 0; i < n; i++) len += mllm_vocab_detok_push(d, ids[i], s + len, (int32_t)sizeof s - len);
    len += mllm_vocab_detok_flush(d, s + len, (int32_t)sizeof s - len);
    mllm_vocab_detok_free(d);
    if (len != want_len || memcmp(s, want, (size_t)want_len) != 0) {
        fprintf(stderr, "streamed decode: got \"%.*s\", expected \"%.*s\"\n", (int)len, s, (int)want_len, want);
        g_fail++;
    }
}

#define DEC(bv, want, ...) check_decode(bv, (const char *const[]){__VA_ARGS__, NULL}, want, (int32_t)(sizeof want - 1))

static void test_decode(void) {
    bl_vocab bv;
    char err[256];
    CHECK(build(&bv, MLLM_PRETOK_LLAMA3, 0, 9, k_merges, err, sizeof err) != NULL);
    DEC(&bv, "hello the", "hello", G "the");
    /* é = C3 A9 split across two tokens: no dummy-prefix stripping in byte-level vocabularies */
    DEC(&bv, " \xC3\xA9!", G, "\xC3\x83", "\xC2\xA9", "!");
    /* the control token vanishes; the user-defined one with a space (not in the alphabet) stands
     * for its own UTF-8; "añb" is spelt in the alphabet: ñ stands for byte F1, an ill-formed byte */
    DEC(&bv, "amy tokb", "a", "<|eot_id|>", "my tok", "b");
    DEC(&bv, "a\xEF\xBF\xBD" "b", "a\xC3\xB1" "b");
    /* E2 82 then 'A': one U+FFFD for the maximal subpart, as Rust's from_utf8_lossy */
    DEC(&bv, "\xEF\xBF\xBD" "A", "\xC3\xA2", "\xC4\xA4", "A"); /* bytes E2 82: U+0124 stands for 82 */
    /* an incomplete character at the end: one U+FFFD */
    DEC(&bv, "x\xEF\xBF\xBD", "x", "\xC3\xB0", "\xC5\x81", "\xC4\xBA"); /* bytes F0 9F 98 */
    char one[4];
    CHECK(mllm_vocab_token_bytes(bv.v, id_of(&bv, "\xC3\x83"), one, 4) == 1 && (unsigned char)one[0] == 0xC3);
    CHECK(mllm_vocab_token_bytes(bv.v, id_of(&bv, "<|eot_id|>"), one, 4) == 0);
    mllm_vocab_free(bv.v);
}

/* ---- a gpt2 vocabulary in a GGUF file, through the public API ---- */

static mllm_status load_bytelevel(const char *pre, mllm_model **out) {
    tiny_cfg c = tiny_default();
    c.n_vocab = 264;
    c.bytelevel = 1;
    c.pre = pre;
    tiny_model tm;
    tiny_init(&tm, &c);
    char path[64];
    snprintf(path, sizeof path, "/tmp/mllm_tok_bl_%d.gguf", (int)getpid());
    mllm_status s = MLLM_ERR_IO;
    *out = NULL;
    if (tiny_write(&tm, path) == 0) {
        mllm_model_params mp;
        mllm_model_params_init(&mp);
        mp.n_threads = 1;
        s = mllm_model_load(path, &mp, out);
        unlink(path);
    }
    tiny_free(&tm);
    return s;
}

static void test_gguf(void) {
    mllm_model *m;
    CHECK(load_bytelevel(NULL, &m) == MLLM_ERR_UNSUPPORTED && strstr(mllm_last_error(), "missing metadata key 'tokenizer.ggml.pre'"));
    CHECK(load_bytelevel("qwen2", &m) == MLLM_ERR_UNSUPPORTED && strstr(mllm_last_error(), "tokenizer.ggml.pre 'qwen2' is not supported"));
    CHECK(load_bytelevel("llama-bpe", &m) == MLLM_OK);
    if (!m) return;
    int32_t ids[16];
    /* no add_bos_token key: Llama 3's pre-tokenizer adds BOS (as llama.cpp) */
    int32_t n = mllm_tokenize(m, " the<|eot_id|>", 14, ids, 16, -1, 1);
    CHECK(n == 3 && ids[0] == 259 && ids[1] == 258 && ids[2] == 260);
    mllm_model_info info;
    CHECK(mllm_model_get_info(m, &info) == MLLM_OK && info.add_bos == 1);
    char buf[32];
    CHECK(mllm_detokenize(m, ids, n, buf, (int32_t)sizeof buf) == 4 && memcmp(buf, " the", 4) == 0);
    CHECK(strcmp(mllm_token_piece(m, 258), G "the") == 0);
    CHECK(mllm_vocab_is_eog(mllm_model_vocab(m), 260) && mllm_vocab_is_eog(mllm_model_vocab(m), 2));
    mllm_model_free(m);
    CHECK(load_bytelevel("llama4", &m) == MLLM_OK);
    if (m) {
        mllm_model_info i4;
        CHECK(mllm_model_get_info(m, &i4) == MLLM_OK && i4.add_bos == 0);
        mllm_model_free(m);
    }
}

int main(void) {
    test_llama3_splits();
    test_llama4_splits();
    test_pretok_names();
    test_unicode_classes();
    test_lossy_utf8();
    test_merges();
    test_bad_vocabularies();
    test_decode();
    test_gguf();
    return test_result("test_tokenizer_bytelevel");
}
