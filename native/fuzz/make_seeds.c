/* Writes the seed corpora of the fuzz targets (native/fuzz/corpus/<target>/): tiny valid model
 * files from the tests' GGUF writer, vocabularies with text or token ids in fuzz_vocab.h's
 * format, sampler parameters with logits. The corpora are committed; this program recreates
 * them: native/build-fuzz/make_seeds native/fuzz/corpus */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_vocab.h"
#include "util/tiny_model.h"

static const char *g_root;

static void out_path(char *path, size_t n, const char *target, const char *name) {
    snprintf(path, n, "%s/%s", g_root, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, n, "%s/%s/%s", g_root, target, name);
}

static void put(const char *target, const char *name, const void *p, size_t n) {
    char path[512];
    out_path(path, sizeof path, target, name);
    if (gw_write(path, p, n) != 0) {
        perror(path);
        exit(1);
    }
}

static void model_seed(const char *name, tiny_cfg c) {
    tiny_model tm;
    tiny_init(&tm, &c);
    char path[512];
    out_path(path, sizeof path, "fuzz_model_load", name);
    if (tiny_write(&tm, path) != 0) exit(1);
    tiny_free(&tm);
}

static void model_seeds(void) {
    tiny_cfg c = tiny_default();
    c.n_vocab = 12;
    c.n_embd = 8;
    c.n_ff = 8;
    c.n_head = 2;
    c.n_kv = 1;
    c.n_block = 1;
    c.n_ctx = 32;
    c.eos = 2;
    model_seed("llama_f32.gguf", c);
    tiny_cfg r = c;
    r.arch = "mobilellm";
    r.n_block = 2;
    r.repeat = 2;
    r.tied = 0;
    r.wtype = MLLM_TYPE_F16;
    model_seed("mobilellm_f16_repeat.gguf", r);
    tiny_cfg q = c;
    q.n_embd = 32;
    q.n_ff = 32;
    q.wtype = MLLM_TYPE_Q8_0;
    model_seed("llama_q8_0.gguf", q);

    /* a file of metadata of every value type, nested arrays, and an f16 tensor: the reader
     * alone, no model */
    gw_file f;
    gwf_init(&f);
    gwf_str(&f, "general.architecture", "llama");
    gwf_u32(&f, "general.alignment", 32);
    gwf_bool(&f, "k.bool", 1);
    gwf_f32(&f, "k.f32", 0.5f);
    gwf_key(&f, "k.i64", GW_I64);
    gw_u64(&f.kv, (uint64_t)-5);
    gwf_key(&f, "k.f64", GW_F64);
    double d = 2.5;
    gw_put(&f.kv, &d, 8);
    gwf_key(&f, "k.u16", GW_U16);
    uint16_t u16 = 7;
    gw_put(&f.kv, &u16, 2);
    gwf_key(&f, "k.nested", GW_ARR);
    gw_u32(&f.kv, GW_ARR);
    gw_u64(&f.kv, 2);
    gw_u32(&f.kv, GW_U8);
    gw_u64(&f.kv, 1);
    gw_u8(&f.kv, 7);
    gw_u32(&f.kv, GW_STR);
    gw_u64(&f.kv, 1);
    gw_str(&f.kv, "x");
    const uint16_t half[8] = {0x3C00, 0x4000, 0xBC00, 0, 0x7C00, 0xFC00, 0x7E00, 1};
    gwf_tensor(&f, "t.f16", MLLM_TYPE_F16, 2, (const uint64_t[]){4, 2}, half, sizeof half);
    gw_buf b;
    gwf_finish(&f, &b);
    put("fuzz_model_load", "metadata_types.gguf", b.p, b.len);
    gw_free(&b);
    gwf_free(&f);
}

#define SP "\xE2\x96\x81"

/* vocabulary part + payload as one file */
static void vocab_seed(const char *target, const char *name, uint8_t flags, const char *const *pieces, const uint8_t *types,
                       const int8_t *scores, int32_t n, const void *payload, size_t payload_len) {
    static uint8_t buf[1 << 16];
    size_t len = fuzz_vocab_write(buf, flags, pieces, types, scores, n);
    memcpy(buf + len, payload, payload_len);
    put(target, name, buf, len + payload_len);
}

static void tokenizer_seeds(void) {
    /* lossless (type byte mod 3: 0 NORMAL, 1 USER_DEFINED, 2 UNUSED): merges, an unused piece, a
     * user-defined piece, byte fallback */
    static const char *const p1[] = {SP, "h", "e", "l", "o", "w", "r", "d", "c", "ll", "he", "hell", SP "he", "lo", "cd", "<cut>",
                                     SP "w", "or", "ld"};
    static const uint8_t t1[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0};
    static const int8_t s1[] = {-40, -40, -40, -40, -40, -40, -40, -40, -40, -4, -8, -12, -16, -6, 20, 0, -3, -5, -7};
    static const char text1[] = "hello world cd<cut> caf\xC3\xA9  \xE4\xB8\xAD";
    const uint8_t f1 = FV_SPACE_PREFIX | FV_BYTE_PIECES | FV_LOSSLESS;
    vocab_seed("fuzz_tokenizer", "lossless", f1, p1, t1, s1, 19, text1, sizeof text1 - 1);
    /* control pieces with parse_special (type byte mod 7), a user-defined piece inside U+2581 */
    static const char *const p2[] = {"<unk>", "<s>", "</s>", SP, "a", "b", "ab", "\xE2", "xy", "x", "y"};
    static const uint8_t t2[] = {2, 3, 3, 1, 1, 1, 1, 4, 5, 1, 1};
    static const int8_t s2[] = {0, 0, 0, -20, -20, -20, -4, 0, 10, -20, -20};
    static const char text2[] = "a<s>b ab  xy</s>\xFF\xE2\x96";
    vocab_seed("fuzz_tokenizer", "special", FV_SPACE_PREFIX | FV_PARSE_SPECIAL | FV_ADD_BOS, p2, t2, s2, 11, text2,
               sizeof text2 - 1);
    /* no dummy prefix, no scores, bytes only */
    static const char text3[] = "\x00\x01 plain bytes\n\t\r";
    vocab_seed("fuzz_tokenizer", "bytes_only", FV_BYTE_PIECES | FV_NO_SCORES, p1, t1, s1, 0, text3, sizeof text3 - 1);

    /* detokenizer: 16-bit ids + a buffer size byte each */
    uint8_t ids[3 * 24];
    static const uint16_t seq2[] = {1, 3, 4, 7, 3, 5, 6, 2, 0, 8, 11, 12, 11, 3};
    size_t k = 0;
    for (size_t i = 0; i < sizeof seq2 / sizeof seq2[0]; i++, k += 3) {
        ids[k] = (uint8_t)seq2[i];
        ids[k + 1] = (uint8_t)(seq2[i] >> 8);
        ids[k + 2] = (uint8_t)i;
    }
    vocab_seed("fuzz_detokenizer", "special", FV_SPACE_PREFIX, p2, t2, s2, 11, ids, k);
    /* byte tokens forming UTF-8 (the byte pieces follow the 19 entries: <0xAB> is 19 + 0xAB) */
    static const uint16_t seq1[] = {0, 11, 19 + 0xC3, 19 + 0xA9, 19 + 0xE4, 19 + 0xB8, 16, 19 + 0xF0, 19 + 0x9F, 19 + 0x98,
                                    19 + 0x80, 19 + 0xFF, 19 + 0xE2, 15, 14, 19 + 0xE2, 19 + 0x96};
    k = 0;
    for (size_t i = 0; i < sizeof seq1 / sizeof seq1[0]; i++, k += 3) {
        ids[k] = (uint8_t)seq1[i];
        ids[k + 1] = (uint8_t)(seq1[i] >> 8);
        ids[k + 2] = (uint8_t)(7 - i % 8);
    }
    vocab_seed("fuzz_detokenizer", "bytes", f1, p1, t1, s1, 19, ids, k);
}

static void sampler_seed(const char *name, int greedy, float temp, int32_t top_k, float top_p, float min_p, float pen,
                         int32_t last_n, uint32_t seed, const float *logits, int n, const uint8_t *accept, int n_accept) {
    uint8_t buf[32 + 4 * 64 + 8] = {0};
    buf[0] = (uint8_t)greedy;
    memcpy(buf + 4, &temp, 4);
    memcpy(buf + 8, &top_k, 4);
    memcpy(buf + 12, &top_p, 4);
    memcpy(buf + 16, &min_p, 4);
    memcpy(buf + 20, &pen, 4);
    memcpy(buf + 24, &last_n, 4);
    memcpy(buf + 28, &seed, 4);
    memcpy(buf + 32, logits, 4 * (size_t)n);
    memcpy(buf + 32 + 4 * n, accept, (size_t)n_accept);
    put("fuzz_sampler", name, buf, 32 + 4 * (size_t)n + (size_t)n_accept);
}

static void sampler_seeds(void) {
    float lg[16];
    for (int i = 0; i < 16; i++) lg[i] = (float)((i * 7) % 16) / 4.0f - 2.0f;
    const uint8_t acc[3] = {3, 3, 9};
    sampler_seed("defaults", 0, 0.8f, 40, 0.95f, 0.05f, 1.0f, 64, 1, lg, 16, acc, 0);
    sampler_seed("penalty_topk", 0, 1.5f, 4, 0.5f, 0.0f, 1.3f, 8, 42, lg, 16, acc, 3);
    sampler_seed("greedy", 1, 0.8f, 40, 0.95f, 0.05f, 1.0f, 64, 0, lg, 16, acc, 1);
    float odd[6] = {NAN, -INFINITY, INFINITY, 1.0f, NAN, -1e30f};
    sampler_seed("nan_inf", 0, 0.7f, 0, 1.0f, 0.1f, 1.1f, 4, 7, odd, 6, acc, 2);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds CORPUS_DIR\n");
        return 2;
    }
    g_root = argv[1];
    if (mkdir(g_root, 0755) != 0 && errno != EEXIST) {
        perror(g_root);
        return 1;
    }
    model_seeds();
    tokenizer_seeds();
    sampler_seeds();
    return 0;
}
