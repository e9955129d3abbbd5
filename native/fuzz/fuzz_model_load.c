/* libFuzzer target: the GGUF reader and the model loader through the public API, from a file
 * holding the input (an in-memory file, so each run costs no disk I/O). Odd-sized inputs are
 * read into memory, even-sized ones mapped. A file that loads is then used as a caller would:
 * its metadata and tensors listed, text tokenized and decoded, a few tokens evaluated in a small
 * session and sampled. A rejected file must come with a message. */
#define _GNU_SOURCE /* memfd_create */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mobilellm.h"

static int g_fd = -1;
static char g_path[64];

static void use_model(mllm_model *m) {
    mllm_model_info in;
    if (mllm_model_get_info(m, &in) != MLLM_OK) abort();
    char buf[256];
    for (int32_t i = 0; i < mllm_model_meta_count(m); i++) {
        if (mllm_model_meta_key(m, i, buf, sizeof buf) < 0 || mllm_model_meta_value(m, i, buf, sizeof buf) < 0) abort();
    }
    mllm_tensor_info ti;
    for (int32_t i = 0; i < mllm_model_tensor_count(m); i++)
        if (mllm_model_tensor_info(m, i, &ti) != MLLM_OK) abort();

    static const char text[] = "Hello world, <s> caf\xC3\xA9 \xF0\x9F\x98\x80!";
    int32_t ids[64];
    int32_t n = mllm_tokenize(m, text, (int32_t)sizeof text - 1, ids, 64, -1, 1);
    if (n == INT32_MIN || n > 64) abort();
    if (n < 0) n = 0;
    char out[512];
    if (mllm_detokenize(m, ids, n, out, sizeof out) == INT32_MIN) abort();

    mllm_session_params sp;
    mllm_session_params_init(&sp);
    sp.n_ctx = 8;
    sp.n_threads = 1;
    mllm_session *s = NULL;
    if (mllm_session_create(m, &sp, &s) != MLLM_OK) {
        if (mllm_last_error()[0] == '\0') abort();
        return;
    }
    int32_t t[3] = {0, in.n_vocab - 1, in.n_vocab / 2};
    if (mllm_session_eval(s, t, 3, MLLM_LOGITS_ALL) == MLLM_OK) {
        int32_t rows = 0;
        const float *lg = mllm_session_logits(s, &rows);
        if (!lg || rows != 3) abort();
        mllm_sampler_params p;
        mllm_sampler_params_init(&p);
        mllm_sampler *smp = NULL;
        if (mllm_sampler_create(&p, in.n_vocab, &smp) != MLLM_OK) abort();
        mllm_sampler_sample(smp, lg + 2 * (size_t)in.n_vocab, in.n_vocab); /* -1 when all NaN: allowed */
        mllm_sampler_free(smp);
    }
    mllm_session_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (g_fd < 0) {
        g_fd = memfd_create("fuzz-model", 0);
        if (g_fd < 0) abort();
        snprintf(g_path, sizeof g_path, "/proc/self/fd/%d", g_fd);
    }
    if (ftruncate(g_fd, 0) != 0 || pwrite(g_fd, data, size, 0) != (ssize_t)size) abort();
    mllm_model_params mp;
    mllm_model_params_init(&mp);
    mp.n_threads = 1;
    mp.use_mmap = size % 2 == 0;
    mllm_model *m = NULL;
    if (mllm_model_load(g_path, &mp, &m) != MLLM_OK) {
        if (m || mllm_last_error()[0] == '\0') abort();
        return 0;
    }
    use_model(m);
    mllm_model_free(m);
    return 0;
}
