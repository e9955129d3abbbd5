/* Model loading rejects broken or unsupported files with a clear status and message (missing
 * tensors and keys, wrong shapes and types, unknown architecture), checks API arguments, and
 * reports metadata and tensors of a good file as written. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#if defined(_WIN32)
#include <windows.h>
#else
#include <signal.h>
#include <sys/stat.h>
#endif

#include "core/errors.h"
#include "backends/vulkan/backend_vulkan.h"
#include "mobilellm.h"
#include "util/test_check.h"
#include "util/tiny_model.h"

static char g_path[64];

static mllm_status try_load(const tiny_cfg *c, mllm_model **out) {
    tiny_model tm;
    tiny_init(&tm, c);
    snprintf(g_path, sizeof g_path, "/tmp/mllm_err_%d.gguf", (int)getpid());
    tiny_write(&tm, g_path);
    tiny_free(&tm);
    mllm_model *m = NULL;
    mllm_status s = mllm_model_load(g_path, NULL, &m);
    if (out) *out = m;
    else mllm_model_free(m);
    return s;
}

static void test_broken_models(void) {
    tiny_cfg c = tiny_default();
    c.n_embd = 64;
    CHECK_OK(try_load(&c, NULL));

    tiny_cfg e = c;
    e.skip_tensor = "blk.1.ffn_up.weight";
    CHECK_ERR(try_load(&e, NULL), MLLM_ERR_FORMAT, "tensor 'blk.1.ffn_up.weight' is missing");
    e = c;
    e.skip_tensor = "output_norm.weight";
    CHECK_ERR(try_load(&e, NULL), MLLM_ERR_FORMAT, "'output_norm.weight' is missing");
    e = c;
    e.skip_tensor = "token_embd.weight";
    CHECK_ERR(try_load(&e, NULL), MLLM_ERR_FORMAT, "'token_embd.weight' is missing");
    e = c;
    e.reshape_tensor = "blk.0.attn_k.weight";
    CHECK_ERR(try_load(&e, NULL), MLLM_ERR_FORMAT, "'blk.0.attn_k.weight' has shape [64, 33], expected [64, 32]");
    e = c;
    e.reshape_tensor = "blk.1.attn_norm.weight";
    CHECK_ERR(try_load(&e, NULL), MLLM_ERR_FORMAT, "'blk.1.attn_norm.weight' has shape [64, 2], expected [64]");
    e = c;
    e.f16_tensor = "blk.0.ffn_norm.weight";
    CHECK_ERR(try_load(&e, NULL), MLLM_ERR_UNSUPPORTED, "'blk.0.ffn_norm.weight' has type f16, expected f32");
    e = c;
    e.force_type_name = "blk.0.attn_q.weight";
    e.n_embd = 256; /* a k-quant needs 256-wide rows */
    e.n_head = 16;
    e.n_kv = 8;
    e.force_type_of = MLLM_TYPE_Q2_K;
    mllm_status s = try_load(&e, NULL);
    if (mllm_type_supported(MLLM_TYPE_Q2_K)) CHECK(s == MLLM_OK);
    else CHECK_ERR(s, MLLM_ERR_UNSUPPORTED, "'blk.0.attn_q.weight' has type q2_k");
    e = c;
    e.force_type_name = "blk.0.attn_q.weight"; /* q4_k rows of 64 (not whole super-blocks) */
    e.force_type_of = MLLM_TYPE_Q4_K;
    CHECK_ERR(try_load(&e, NULL), MLLM_ERR_FORMAT, "row of 64 elements is not a multiple of the q4_k block size 256");
    e = c;
    e.skip_key = "llama.embedding_length";
    CHECK_ERR(try_load(&e, NULL), MLLM_ERR_FORMAT, "missing metadata key 'llama.embedding_length'");
    e = c;
    e.skip_key = "llama.block_count";
    CHECK_ERR(try_load(&e, NULL), MLLM_ERR_FORMAT, "'llama.block_count'");
    e = c;
    e.arch = "gpt2";
    CHECK_ERR(try_load(&e, NULL), MLLM_ERR_UNSUPPORTED, "architecture 'gpt2'");
    e = c;
    e.n_head = 4;
    e.n_kv = 3; /* 4 heads cannot share 3 KV heads */
    e.n_embd = 64;
    CHECK_ERR(try_load(&e, NULL), MLLM_ERR_FORMAT, "not a multiple of head_count_kv");
    e = c;
    e.arch = "mobilellm";
    e.repeat = 0;
    CHECK_ERR(try_load(&e, NULL), MLLM_ERR_FORMAT, "mobilellm.block_repeat");
    e = c;
    e.eos = 40; /* out of the 40-token vocabulary */
    CHECK_ERR(try_load(&e, NULL), MLLM_ERR_FORMAT, "eos_token_id");
    unlink(g_path);

    mllm_model *m = NULL;
    CHECK_ERR(mllm_model_load("/nonexistent/model.gguf", NULL, &m), MLLM_ERR_IO, "/nonexistent/model.gguf");
    CHECK_ERR(mllm_model_load(NULL, NULL, &m), MLLM_ERR_INVALID_ARGUMENT, "NULL");
    CHECK_ERR(mllm_model_load("x", NULL, NULL), MLLM_ERR_INVALID_ARGUMENT, "NULL");
    mllm_model_params mp;
    mllm_model_params_init(&mp);
    mp.backend = MLLM_BACKEND_VULKAN;
    if (!mllm_vulkan_built()) CHECK_ERR(mllm_model_load("x", &mp, &m), MLLM_ERR_BACKEND, "Vulkan backend not built");
    mp.backend = 9;
    CHECK_ERR(mllm_model_load("x", &mp, &m), MLLM_ERR_INVALID_ARGUMENT, "backend");
    mp.backend = MLLM_BACKEND_CPU;
    mp.n_threads = -1;
    CHECK_ERR(mllm_model_load("x", &mp, &m), MLLM_ERR_INVALID_ARGUMENT, "n_threads");
    CHECK(m == NULL);
}

/* Paths that are not regular files are refused before anything could block on them: opening a
 * FIFO for reading waits for a writer, so without the check this test would hang (the alarm
 * turns a hang into a failure). On Windows: a named pipe (reading it would wait for its server to
 * write) and the NUL device. */
static void test_not_regular_files(void) {
    mllm_model *m = NULL;
#if defined(_WIN32)
    char pipe[64];
    snprintf(pipe, sizeof pipe, "\\\\.\\pipe\\mllm_pipe_%d", (int)getpid());
    HANDLE server = CreateNamedPipeA(pipe, PIPE_ACCESS_OUTBOUND, PIPE_TYPE_BYTE | PIPE_WAIT, 1, 0, 0, 0, NULL);
    CHECK(server != INVALID_HANDLE_VALUE);
    CHECK_ERR(mllm_model_load(pipe, NULL, &m), MLLM_ERR_IO, "is not a regular file (a pipe)");
    CloseHandle(server);
    CHECK_ERR(mllm_model_load("NUL", NULL, &m), MLLM_ERR_IO, "is not a regular file (a character device)");
#else
    char fifo[64];
    snprintf(fifo, sizeof fifo, "/tmp/mllm_fifo_%d", (int)getpid());
    unlink(fifo);
    CHECK(mkfifo(fifo, 0600) == 0);
    alarm(30);
    CHECK_ERR(mllm_model_load(fifo, NULL, &m), MLLM_ERR_IO, "is not a regular file (a FIFO)");
    alarm(0);
    unlink(fifo);
    CHECK_ERR(mllm_model_load("/dev/null", NULL, &m), MLLM_ERR_IO, "is not a regular file (a character device)");
#endif
    CHECK_ERR(mllm_model_load("/tmp", NULL, &m), MLLM_ERR_IO, "'/tmp' is not a regular file (a directory)");
    CHECK(m == NULL);
}

/* Counts in the metadata are checked against the tensors the file actually has before anything
 * is sized from them. */
static void test_metadata_bounds(void) {
    tiny_cfg c = tiny_default();
    c.claim_block_count = 1000;
    CHECK_ERR(try_load(&c, NULL), MLLM_ERR_FORMAT, "tensor 'blk.999.attn_norm.weight' is missing");
    c = tiny_default();
    c.claim_vocab_size = 2000000000u;
    CHECK_ERR(try_load(&c, NULL), MLLM_ERR_FORMAT, "'llama.vocab_size' = 2000000000 is outside 1..");
    unlink(g_path);
}

static void test_info_and_meta(void) {
    tiny_cfg c = tiny_default();
    c.arch = "mobilellm";
    c.repeat = 2;
    mllm_model *m = NULL;
    CHECK_OK(try_load(&c, &m));
    unlink(g_path);
    if (!m) return;
    mllm_model_info in;
    CHECK_OK(mllm_model_get_info(m, &in));
    CHECK(strcmp(in.architecture, "mobilellm") == 0 && strcmp(in.name, "tiny-test") == 0);
    CHECK(in.n_block == 2 && in.block_repeat == 2 && in.n_layer == 4 && in.n_embd == 64 && in.n_ff == 96);
    CHECK(in.n_head == 4 && in.n_head_kv == 2 && in.head_dim == 16 && in.n_ctx_train == 64);
    CHECK(in.rms_norm_eps == 1e-5f && in.rope_freq_base == 10000.0f && in.file_type == 0 && in.tied_embeddings == 1);
    CHECK(in.bos_token == 1 && in.eos_token == 2 && in.unk_token == 0 && in.pad_token == -1 && in.add_bos == 1);
    CHECK(in.backend == MLLM_BACKEND_CPU && in.n_threads >= 1);
    /* parameters: embeddings + output norm + per block (2 norms, q,k,v,o, gate/up/down) */
    int64_t per_block = 2 * 64 + 64 * 64 + 2 * 64 * 32 + 64 * 64 + 3 * 64 * 96;
    CHECK(in.n_params == 40 * 64 + 64 + 2 * per_block && in.size_bytes == in.n_params * 4);

    int32_t n = mllm_model_meta_count(m);
    CHECK(n > 10);
    int found = 0;
    for (int32_t i = 0; i < n; i++) {
        char k[64], v[64];
        CHECK(mllm_model_meta_key(m, i, k, sizeof k) > 0);
        CHECK(mllm_model_meta_value(m, i, v, sizeof v) >= 0);
        if (strcmp(k, "tokenizer.ggml.tokens") == 0) found += strcmp(v, "[40 strings]") == 0;
        if (strcmp(k, "mobilellm.block_repeat") == 0) found += strcmp(v, "2") == 0;
        if (strcmp(k, "general.name") == 0) {
            found += strcmp(v, "tiny-test") == 0;
            char small[5];
            CHECK(mllm_model_meta_value(m, i, small, sizeof small) == 9 && strcmp(small, "tiny") == 0);
        }
    }
    CHECK(found == 3);
    char k[8];
    CHECK(mllm_model_meta_key(m, n, k, sizeof k) == -1 && mllm_model_meta_key(m, -1, k, sizeof k) == -1);
    CHECK(mllm_model_meta_value(NULL, 0, k, sizeof k) == -1);

    CHECK(mllm_model_tensor_count(m) == 3 + 2 * 9 - 1);
    mllm_tensor_info ti;
    int seen = 0;
    for (int32_t i = 0; i < mllm_model_tensor_count(m); i++) {
        CHECK_OK(mllm_model_tensor_info(m, i, &ti));
        if (strcmp(ti.name, "blk.1.ffn_down.weight") == 0) {
            seen = 1;
            CHECK(ti.type == MLLM_TYPE_F32 && ti.n_dims == 2 && ti.ne[0] == 96 && ti.ne[1] == 64 && ti.n_bytes == 96 * 64 * 4);
            CHECK(ti.offset % 32 == 0);
        }
    }
    CHECK(seen);
    CHECK_ERR(mllm_model_tensor_info(m, 99, &ti), MLLM_ERR_INVALID_ARGUMENT, "index 99");
    CHECK_ERR(mllm_model_get_info(NULL, &in), MLLM_ERR_INVALID_ARGUMENT, "NULL");

    /* session argument checks */
    mllm_session_params sp;
    mllm_session_params_init(&sp);
    mllm_session *s = NULL;
    sp.kv_type = 5;
    CHECK_ERR(mllm_session_create(m, &sp, &s), MLLM_ERR_INVALID_ARGUMENT, "kv_type");
    mllm_session_params_init(&sp);
    sp.n_keep = 64; /* with context shift, n_keep must leave room in the 64-token context */
    sp.context_shift = 1;
    CHECK_ERR(mllm_session_create(m, &sp, &s), MLLM_ERR_INVALID_ARGUMENT, "n_keep");
    mllm_session_params_init(&sp);
    sp.n_ctx = -3;
    CHECK_ERR(mllm_session_create(m, &sp, &s), MLLM_ERR_INVALID_ARGUMENT, "n_ctx");
    CHECK_ERR(mllm_session_create(NULL, NULL, &s), MLLM_ERR_INVALID_ARGUMENT, "NULL");
    CHECK(s == NULL);
    CHECK_OK(mllm_session_create(m, NULL, &s)); /* defaults: the training context (64 < MLLM_DEFAULT_N_CTX) */
    CHECK(mllm_session_n_ctx(s) == 64 && mllm_session_n_past(s) == 0);
    mllm_session_free(s);
    mllm_session_free(NULL);
    mllm_model_free(m);
    mllm_model_free(NULL);

    CHECK(strcmp(mllm_status_name(MLLM_ERR_CONTEXT_FULL), "MLLM_ERR_CONTEXT_FULL") == 0);
    CHECK(mllm_abi_version() == MLLM_ABI_VERSION && strlen(mllm_version()) > 0);
}

/* Random mutations of the metadata and tensor directory of a good model file: loading either
 * fails with a message or yields a model that evaluates; never a crash (see build-asan). */
static void test_mutated_models(void) {
    tiny_cfg c = tiny_default();
    tiny_model tm;
    tiny_init(&tm, &c);
    char good[64];
    snprintf(good, sizeof good, "/tmp/mllm_fuzz_src_%d.gguf", (int)getpid());
    snprintf(g_path, sizeof g_path, "/tmp/mllm_fuzz_%d.gguf", (int)getpid());
    tiny_write(&tm, good);
    tiny_free(&tm);
    FILE *fp = fopen(good, "rb");
    static uint8_t buf[1 << 19];
    size_t len = fp ? fread(buf, 1, sizeof buf, fp) : 0;
    if (fp) fclose(fp);
    unlink(good);
    CHECK(len > 4096 && len < sizeof buf);
    const size_t dir_end = 3000; /* metadata and tensor descriptors live in the first ~3 KB */
    uint64_t seed = 77;
    int loaded = 0, failed = 0, silent = 0;
    static uint8_t mut[1 << 19];
    for (int it = 0; it < 300; it++) {
        memcpy(mut, buf, len);
        for (int k = 0; k < 1 + it % 3; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            mut[(seed >> 33) % dir_end] = (uint8_t)(seed >> 13);
        }
        gw_write(g_path, mut, len);
        mllm_model *m = NULL;
        mllm_clear_error();
        mllm_status s = mllm_model_load(g_path, NULL, &m);
        if (s) {
            failed++;
            silent += mllm_last_error()[0] == '\0';
            continue;
        }
        loaded++;
        mllm_session_params sp;
        mllm_session_params_init(&sp);
        sp.n_ctx = 8;
        mllm_session *ss = NULL;
        if (mllm_session_create(m, &sp, &ss) == MLLM_OK) {
            int32_t t[3] = {1, 5, 9};
            mllm_session_eval(ss, t, 3, MLLM_LOGITS_LAST);
            mllm_session_free(ss);
        }
        mllm_model_free(m);
    }
    unlink(g_path);
    printf("mutated models: %d loaded, %d rejected\n", loaded, failed);
    CHECK(failed > 0 && silent == 0);
}

int main(void) {
    test_not_regular_files();
    test_metadata_bounds();
    test_broken_models();
    test_info_and_meta();
    test_mutated_models();
    return test_result("test_model_errors");
}
