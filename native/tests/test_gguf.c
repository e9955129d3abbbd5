/* GGUF reader: a valid file round-trips through our test writer, and malformed files (written
 * here byte by byte) are rejected with the expected status and a message naming the problem. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/errors.h"
#include "gguf/gguf.h"
#include "platform/memory.h"
#include "util/gguf_writer.h"
#include "util/test_check.h"

/* Parses a private copy (the parser takes ownership). */
static mllm_status parse_copy(const gw_buf *b, size_t len, mllm_gguf **out) {
    uint8_t *p = mllm_aligned_alloc(64, len);
    memcpy(p, b->p, len);
    return mllm_gguf_parse(p, len, 0, out);
}

static mllm_status parse_buf(const gw_buf *b) {
    mllm_gguf *g = NULL;
    mllm_status s = parse_copy(b, b->len, &g);
    mllm_gguf_close(g);
    return s;
}

static void header(gw_buf *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    memset(b, 0, sizeof *b);
    gw_u32(b, 0x46554747u);
    gw_u32(b, version);
    gw_u64(b, n_tensors);
    gw_u64(b, n_kv);
}

static void pad32(gw_buf *b) {
    while (b->len % 32) gw_u8(b, 0);
}

/* One tensor descriptor. */
static void tensor_info(gw_buf *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type, uint64_t off) {
    gw_str(b, name);
    gw_u32(b, n_dims);
    for (uint32_t d = 0; d < n_dims; d++) gw_u64(b, ne[d]);
    gw_u32(b, type);
    gw_u64(b, off);
}

/* A file with no metadata and one tensor followed by data_bytes bytes of data. */
static mllm_status one_tensor(const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type, uint64_t off,
                              size_t data_bytes) {
    gw_buf b;
    header(&b, 3, 1, 0);
    tensor_info(&b, name, n_dims, ne, type, off);
    pad32(&b);
    for (size_t i = 0; i < data_bytes; i++) gw_u8(&b, 0);
    mllm_status s = parse_buf(&b);
    gw_free(&b);
    return s;
}

static void build_valid(gw_buf *out) {
    gw_file f;
    gwf_init(&f);
    gwf_str(&f, "general.architecture", "llama");
    gwf_u32(&f, "llama.block_count", 2);
    gwf_f32(&f, "llama.rope.freq_base", 10000.0f);
    gwf_bool(&f, "tokenizer.ggml.add_bos_token", 1);
    const char *toks[3] = {"<unk>", "<s>", "hello"};
    gwf_arr_str(&f, "tokenizer.ggml.tokens", toks, 3);
    const int32_t types[3] = {2, 3, 1};
    gwf_arr_i32(&f, "tokenizer.ggml.token_type", types, 3);
    gwf_key(&f, "test.nested", GW_ARR); /* array of 2 arrays of uint8 */
    gw_u32(&f.kv, GW_ARR);
    gw_u64(&f.kv, 2);
    gw_u32(&f.kv, GW_U8);
    gw_u64(&f.kv, 1);
    gw_u8(&f.kv, 7);
    gw_u32(&f.kv, GW_U8);
    gw_u64(&f.kv, 0);
    gwf_key(&f, "test.i8", GW_I8);
    gw_u8(&f.kv, 0xFE); /* -2 */
    gwf_key(&f, "test.u64", GW_U64);
    gw_u64(&f.kv, 1ull << 40);
    gwf_key(&f, "test.f64", GW_F64);
    double d = 0.25;
    gw_put(&f.kv, &d, 8);
    float a[16];
    for (int i = 0; i < 16; i++) a[i] = (float)i;
    uint16_t h[4] = {0x3C00, 0x4000, 0, 0};
    uint8_t q[34] = {0};
    gwf_tensor(&f, "a", MLLM_TYPE_F32, 2, (uint64_t[]){8, 2}, a, sizeof a);
    gwf_tensor(&f, "b", MLLM_TYPE_F16, 1, (uint64_t[]){4}, h, sizeof h);
    gwf_tensor(&f, "c", MLLM_TYPE_Q8_0, 2, (uint64_t[]){32, 1}, q, sizeof q);
    gwf_finish(&f, out);
    gwf_free(&f);
}

static void test_valid(void) {
    gw_buf b;
    build_valid(&b);
    mllm_gguf *g = NULL;
    CHECK_OK(parse_copy(&b, b.len, &g));
    if (!g) return;
    CHECK(g->n_kv == 10 && g->n_tensors == 3 && g->alignment == 32);
    uint32_t u;
    CHECK(mllm_gguf_get_u32(g, "llama.block_count", &u) == MLLM_OK && u == 2);
    CHECK(mllm_gguf_get_u32(g, "missing.key", &u) == MLLM_ERR_STATE);
    CHECK_ERR(mllm_gguf_get_u32(g, "general.architecture", &u), MLLM_ERR_FORMAT, "general.architecture");
    CHECK_ERR(mllm_gguf_get_u32(g, "test.u64", &u), MLLM_ERR_FORMAT, "out of range");
    int64_t i64;
    CHECK(mllm_gguf_get_i64(g, "test.i8", &i64) == MLLM_OK && i64 == -2);
    float f;
    CHECK(mllm_gguf_get_f32(g, "llama.rope.freq_base", &f) == MLLM_OK && f == 10000.0f);
    const mllm_gguf_tensor *ta = mllm_gguf_find_tensor(g, "a");
    CHECK(ta && ta->ne[0] == 8 && ta->ne[1] == 2 && ta->n_bytes == 64 && ((const float *)ta->data)[9] == 9.0f);
    const mllm_gguf_tensor *tc = mllm_gguf_find_tensor(g, "c");
    CHECK(tc && tc->n_bytes == 34 && tc->offset % 32 == 0);
    CHECK(mllm_gguf_find_tensor(g, "zz") == NULL);
    /* rendering: expected strings written by hand from the values above */
    const char *want[][2] = {{"general.architecture", "llama"}, {"llama.block_count", "2"},
                             {"llama.rope.freq_base", "10000"}, {"tokenizer.ggml.add_bos_token", "true"},
                             {"tokenizer.ggml.tokens", "[3 strings]"}, {"tokenizer.ggml.token_type", "[2, 3, 1]"},
                             {"test.nested", "[2 arrays]"}, {"test.i8", "-2"}, {"test.u64", "1099511627776"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char buf[64];
        int64_t k = mllm_gguf_find_key(g, want[i][0]);
        CHECK(k >= 0);
        int n = mllm_gguf_render_value(g, k, buf, sizeof buf);
        CHECK(n == (int)strlen(want[i][1]) && strcmp(buf, want[i][1]) == 0);
        if (strcmp(buf, want[i][1])) fprintf(stderr, "  %s rendered '%s'\n", want[i][0], buf);
    }
    char tiny[4];
    CHECK(mllm_gguf_render_value(g, mllm_gguf_find_key(g, "tokenizer.ggml.tokens"), tiny, sizeof tiny) == 11 &&
          strcmp(tiny, "[3 ") == 0);
    mllm_gguf_close(g);

    /* Every strict prefix of the file is rejected as a format error. */
    int bad = 0;
    for (size_t len = 0; len < b.len; len++) {
        mllm_gguf *t = NULL;
        mllm_status s = parse_copy(&b, len, &t);
        const char *e = mllm_last_error();
        if (s != MLLM_ERR_FORMAT || t || !(strstr(e, "truncated") || strstr(e, "exceeds"))) {
            if (bad++ < 5) fprintf(stderr, "prefix %zu: %s '%s'\n", len, mllm_status_name(s), e);
        }
        mllm_gguf_close(t);
    }
    CHECK(bad == 0);

    /* The same file through the file API, mapped and read. */
    char path[] = "/tmp/mllm_test_gguf_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK(gw_write(path, b.p, b.len) == 0);
    for (int mm = 0; mm < 2; mm++) {
        mllm_gguf *t = NULL;
        CHECK_OK(mllm_gguf_open(path, mm, &t));
        CHECK(t && t->mapped == mm && mllm_gguf_find_tensor(t, "b") != NULL);
        mllm_gguf_close(t);
    }
    gw_write(path, b.p, 10);
    mllm_gguf *t = NULL;
    CHECK_ERR(mllm_gguf_open(path, 1, &t), MLLM_ERR_FORMAT, "smaller than a GGUF header");
    unlink(path);
    CHECK_ERR(mllm_gguf_open(path, 1, &t), MLLM_ERR_IO, "cannot open");
    CHECK_ERR(mllm_gguf_open("/tmp", 1, &t), MLLM_ERR_IO, "not a regular file");
    gw_free(&b);
}

static void test_header_errors(void) {
    gw_buf b;
    header(&b, 3, 0, 0);
    CHECK_OK(parse_buf(&b)); /* an empty but well-formed file */
    b.p[0] = 'X';
    CHECK_ERR(parse_buf(&b), MLLM_ERR_FORMAT, "magic");
    gw_free(&b);
    for (uint32_t v = 1; v <= 4; v += (v == 2 ? 2 : 1)) {
        header(&b, v, 0, 0);
        CHECK_ERR(parse_buf(&b), MLLM_ERR_UNSUPPORTED, "version");
        gw_free(&b);
    }
    header(&b, 3, 1ull << 60, 0);
    CHECK_ERR(parse_buf(&b), MLLM_ERR_FORMAT, "tensor count");
    gw_free(&b);
    header(&b, 3, 0, UINT64_MAX);
    CHECK_ERR(parse_buf(&b), MLLM_ERR_FORMAT, "kv count");
    gw_free(&b);
    /* key with a huge string length */
    header(&b, 3, 0, 1);
    gw_u64(&b, 1ull << 62);
    gw_put(&b, "abcdefgh", 8);
    CHECK_ERR(parse_buf(&b), MLLM_ERR_FORMAT, "string length");
    gw_free(&b);
    /* string value with a huge length */
    header(&b, 3, 0, 1);
    gw_str(&b, "k.s");
    gw_u32(&b, GW_STR);
    gw_u64(&b, 1000);
    gw_put(&b, "abc", 3);
    CHECK_ERR(parse_buf(&b), MLLM_ERR_FORMAT, "k.s");
    gw_free(&b);
    /* array with a huge count */
    header(&b, 3, 0, 1);
    gw_str(&b, "k.arr");
    gw_u32(&b, GW_ARR);
    gw_u32(&b, GW_U32);
    gw_u64(&b, 1ull << 61);
    gw_u32(&b, 0);
    CHECK_ERR(parse_buf(&b), MLLM_ERR_FORMAT, "array count");
    gw_free(&b);
    /* unknown value type / array element type */
    header(&b, 3, 0, 1);
    gw_str(&b, "k.t");
    gw_u32(&b, 13);
    gw_u64(&b, 0);
    CHECK_ERR(parse_buf(&b), MLLM_ERR_FORMAT, "unknown value type 13");
    gw_free(&b);
    header(&b, 3, 0, 1);
    gw_str(&b, "k.t");
    gw_u32(&b, GW_ARR);
    gw_u32(&b, 77);
    gw_u64(&b, 0);
    CHECK_ERR(parse_buf(&b), MLLM_ERR_FORMAT, "unknown array element type 77");
    gw_free(&b);
    /* arrays nested 9 deep */
    header(&b, 3, 0, 1);
    gw_str(&b, "k.deep");
    gw_u32(&b, GW_ARR);
    for (int i = 0; i < 9; i++) {
        gw_u32(&b, GW_ARR);
        gw_u64(&b, 1);
    }
    gw_u32(&b, GW_U8);
    gw_u64(&b, 0);
    CHECK_ERR(parse_buf(&b), MLLM_ERR_FORMAT, "nested");
    gw_free(&b);
    /* bool that is neither 0 nor 1 */
    header(&b, 3, 0, 1);
    gw_str(&b, "k.b");
    gw_u32(&b, GW_BOOL);
    gw_u8(&b, 2);
    CHECK_ERR(parse_buf(&b), MLLM_ERR_FORMAT, "bool");
    gw_free(&b);
    /* duplicate key */
    header(&b, 3, 0, 2);
    for (int i = 0; i < 2; i++) {
        gw_str(&b, "k.dup");
        gw_u32(&b, GW_U8);
        gw_u8(&b, 1);
    }
    CHECK_ERR(parse_buf(&b), MLLM_ERR_FORMAT, "duplicate metadata key 'k.dup'");
    gw_free(&b);
    /* bad general.alignment */
    header(&b, 3, 0, 1);
    gw_str(&b, "general.alignment");
    gw_u32(&b, GW_U32);
    gw_u32(&b, 24);
    CHECK_ERR(parse_buf(&b), MLLM_ERR_FORMAT, "power of two");
    gw_free(&b);
}

/* One f32 tensor at data offset `off` in a file declaring general.alignment = align. */
static mllm_status aligned_file(uint32_t align, uint64_t off) {
    gw_buf b;
    header(&b, 3, 1, 1);
    gw_str(&b, "general.alignment");
    gw_u32(&b, GW_U32);
    gw_u32(&b, align);
    tensor_info(&b, "t", 1, (uint64_t[]){4}, MLLM_TYPE_F32, off);
    while (b.len % (align > 8 ? align : 8)) gw_u8(&b, 0);
    for (int i = 0; i < 64; i++) gw_u8(&b, 0);
    mllm_status s = parse_buf(&b);
    gw_free(&b);
    return s;
}

/* The GGUF specification requires general.alignment to be a multiple of 8 (and a power of two):
 * smaller ones would let tensor data start at addresses its type cannot be read from. */
static void test_alignment_values(void) {
    CHECK_ERR(aligned_file(1, 1), MLLM_ERR_FORMAT, "general.alignment' = 1 is not a power of two >= 8");
    CHECK_ERR(aligned_file(2, 2), MLLM_ERR_FORMAT, "= 2 is not");
    CHECK_ERR(aligned_file(4, 4), MLLM_ERR_FORMAT, "= 4 is not");
    CHECK_OK(aligned_file(8, 8));
    CHECK_OK(aligned_file(8, 16));
    CHECK_OK(aligned_file(64, 0));
    CHECK_ERR(aligned_file(8, 12), MLLM_ERR_FORMAT, "not a multiple of the alignment 8");
}

static void test_tensor_errors(void) {
    const uint64_t ne4[] = {4}, ne8x2[] = {8, 2};
    CHECK_OK(one_tensor("t", 1, ne4, MLLM_TYPE_F32, 0, 16));
    CHECK_ERR(one_tensor("t.big", 1, ne4, MLLM_TYPE_F32, 0, 15), MLLM_ERR_FORMAT, "tensor 't.big': data [offset");
    CHECK_ERR(one_tensor("t.off", 1, ne4, MLLM_TYPE_F32, 1ull << 62, 16), MLLM_ERR_FORMAT, "exceeds file size");
    CHECK_ERR(one_tensor("t.off2", 1, ne4, MLLM_TYPE_F32, UINT64_MAX - 31, 16), MLLM_ERR_FORMAT, "t.off2");
    CHECK_ERR(one_tensor("t.mis", 1, ne4, MLLM_TYPE_F32, 4, 64), MLLM_ERR_FORMAT, "alignment");
    CHECK_ERR(one_tensor("t.type", 1, ne4, 99, 0, 64), MLLM_ERR_FORMAT, "unknown tensor type 99");
    CHECK_ERR(one_tensor("t.type4", 1, ne4, 4, 0, 64), MLLM_ERR_FORMAT, "unknown tensor type 4"); /* removed Q4_2 */
    CHECK_ERR(one_tensor("t.dims", 5, (uint64_t[]){1, 1, 1, 1, 1}, MLLM_TYPE_F32, 0, 64), MLLM_ERR_FORMAT, "n_dims 5");
    CHECK_ERR(one_tensor("t.dims0", 0, ne4, MLLM_TYPE_F32, 0, 64), MLLM_ERR_FORMAT, "n_dims 0");
    CHECK_ERR(one_tensor("t.zero", 2, (uint64_t[]){4, 0}, MLLM_TYPE_F32, 0, 64), MLLM_ERR_FORMAT, "dimension 1 is 0");
    CHECK_ERR(one_tensor("t.ovf", 3, (uint64_t[]){1ull << 32, 1ull << 32, 1ull << 32}, MLLM_TYPE_F32, 0, 64),
              MLLM_ERR_FORMAT, "overflows");
    CHECK_ERR(one_tensor("t.bytes", 2, (uint64_t[]){1ull << 31, 1ull << 30}, MLLM_TYPE_F32, 0, 64), MLLM_ERR_FORMAT,
              "exceeds file size");
    CHECK_ERR(one_tensor("t.blk", 1, (uint64_t[]){33}, MLLM_TYPE_Q8_0, 0, 64), MLLM_ERR_FORMAT, "block size");
    CHECK_ERR(one_tensor("", 1, ne4, MLLM_TYPE_F32, 0, 64), MLLM_ERR_FORMAT, "empty name");
    char longname[80];
    memset(longname, 'n', 70);
    longname[70] = '\0';
    CHECK_ERR(one_tensor(longname, 1, ne4, MLLM_TYPE_F32, 0, 64), MLLM_ERR_FORMAT, "name of 70 bytes");

    /* two tensors: overlapping data, duplicate names */
    gw_buf b;
    header(&b, 3, 2, 0);
    tensor_info(&b, "x", 2, ne8x2, MLLM_TYPE_F32, 0);
    tensor_info(&b, "y", 1, ne4, MLLM_TYPE_F32, 32);
    pad32(&b);
    for (int i = 0; i < 128; i++) gw_u8(&b, 0);
    CHECK_ERR(parse_buf(&b), MLLM_ERR_FORMAT, "overlap");
    gw_free(&b);
    header(&b, 3, 2, 0);
    tensor_info(&b, "x", 1, ne4, MLLM_TYPE_F32, 0);
    tensor_info(&b, "x", 1, ne4, MLLM_TYPE_F32, 32);
    pad32(&b);
    for (int i = 0; i < 64; i++) gw_u8(&b, 0);
    CHECK_ERR(parse_buf(&b), MLLM_ERR_FORMAT, "duplicate tensor 'x'");
    gw_free(&b);
    /* alignment 64 from the metadata: offset 32 is now misaligned */
    header(&b, 3, 1, 1);
    gw_str(&b, "general.alignment");
    gw_u32(&b, GW_U32);
    gw_u32(&b, 64);
    tensor_info(&b, "z", 1, ne4, MLLM_TYPE_F32, 32);
    while (b.len % 64) gw_u8(&b, 0);
    for (int i = 0; i < 64; i++) gw_u8(&b, 0);
    CHECK_ERR(parse_buf(&b), MLLM_ERR_FORMAT, "alignment 64");
    gw_free(&b);
}

/* Random byte mutations of a valid file never crash the reader (run under the sanitizers in
 * build-asan); every rejection comes with a message. */
static void test_mutations(void) {
    gw_buf b;
    build_valid(&b);
    uint64_t seed = 2024;
    int rejected = 0, silent = 0;
    for (int it = 0; it < 3000; it++) {
        uint8_t *p = mllm_aligned_alloc(64, b.len);
        memcpy(p, b.p, b.len);
        int n_mut = 1 + it % 4;
        for (int k = 0; k < n_mut; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (size_t)(seed >> 33) % b.len;
            p[at] = (uint8_t)(seed >> 17);
        }
        mllm_gguf *g = NULL;
        mllm_clear_error();
        mllm_status s = mllm_gguf_parse(p, b.len, 0, &g);
        if (s != MLLM_OK) {
            rejected++;
            silent += mllm_last_error()[0] == '\0';
        } else {
            /* accepted files must be fully usable */
            for (int64_t i = 0; i < g->n_kv; i++) {
                char buf[32];
                mllm_gguf_render_value(g, i, buf, sizeof buf);
            }
        }
        mllm_gguf_close(g);
    }
    printf("mutations: %d of 3000 rejected\n", rejected);
    CHECK(rejected > 100 && silent == 0);
    gw_free(&b);
}

int main(void) {
    test_alignment_values();
    test_valid();
    test_header_errors();
    test_tensor_errors();
    test_mutations();
    return test_result("test_gguf");
}
