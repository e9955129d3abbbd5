/* GGUF files written by llama.cpp's own llama-quantize with its K-quant mixes (Q4_K_M, Q4_K_S,
 * Q5_K_M, Q6_K, with Q5_0 / Q5_1 / Q8_0 fallbacks for the 352-long ffn_down rows; testdata/llamacpp,
 * provenance in reference.json) load, and generate greedily the same 24 tokens as llama.cpp's
 * llama-simple did on them: a check of the K-quant layouts and kernels independent of our own
 * quantizer. ci/test-x86-levels.sh and ci/test-aarch64.sh run it at every kernel level. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mobilellm.h"
#include "util/test_check.h"

#define DIR MLLM_TEST_DATA "/llamacpp/"

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s) s[n] = '\0';
    fclose(f);
    return s;
}

/* Copies the "continuation" string of entry `name` in reference.json into out (escapes \n \" \\
 * only, which is all it holds); 0 on success. */
static int json_continuation(const char *json, const char *name, char *out, size_t cap) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\": {", name);
    const char *p = strstr(json, key);
    if (p) p = strstr(p, "\"continuation\": \"");
    if (!p) return -1;
    p += strlen("\"continuation\": \"");
    size_t n = 0;
    for (; *p && *p != '"' && n + 1 < cap; p++) {
        char c = *p;
        if (c == '\\') {
            c = *++p;
            if (c == 'n') c = '\n';
            else if (c != '"' && c != '\\') return -1;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return *p == '"' ? 0 : -1;
}

static void check_file(const char *json, const char *name) {
    char want[512], path[256];
    CHECK(json_continuation(json, name, want, sizeof want) == 0);
    snprintf(path, sizeof path, DIR "llamacpp-%s.gguf", name);
    mllm_model_params mp;
    mllm_model_params_init(&mp);
    mp.n_threads = 2;
    mllm_model *m = NULL;
    CHECK_OK(mllm_model_load(path, &mp, &m));
    if (!m) return;
    mllm_model_info in;
    CHECK_OK(mllm_model_get_info(m, &in));
    mllm_session *s = NULL;
    CHECK_OK(mllm_session_create(m, NULL, &s));
    mllm_sampler_params sp;
    mllm_sampler_params_init(&sp);
    sp.greedy = 1;
    mllm_sampler *smp = NULL;
    CHECK_OK(mllm_sampler_create(&sp, in.n_vocab, &smp));
    const char *prompt = "This program is free software";
    int32_t tok[128], n_out = 0;
    int32_t n = mllm_tokenize(m, prompt, (int32_t)strlen(prompt), tok, 64, 1, 0);
    CHECK(n > 1 && n < 64);
    if (s && smp && n > 1 && n < 64) {
        CHECK_OK(mllm_generate(s, smp, tok, n, 24, 1, tok + n, &n_out, NULL, NULL, NULL));
        /* the continuation: text of prompt + output minus the prompt's text (as llama-simple prints) */
        char all[1024], pre[256];
        int32_t la = mllm_detokenize(m, tok, n + n_out, all, sizeof all - 1), lp = mllm_detokenize(m, tok, n, pre, sizeof pre - 1);
        CHECK(la >= lp && lp >= 0);
        if (la >= lp && lp >= 0) {
            all[la] = '\0';
            printf("%-16s \"%s\"\n", name, all + lp);
            CHECK(strcmp(all + lp, want) == 0);
            if (strcmp(all + lp, want) != 0) fprintf(stderr, "%s: llama.cpp generated \"%s\"\n", name, want);
        }
    }
    mllm_sampler_free(smp);
    mllm_session_free(s);
    mllm_model_free(m);
}

int main(void) {
    char *json = read_all(DIR "reference.json");
    CHECK(json != NULL);
    if (!json) return test_result("test_llamacpp_k");
    static const char *names[] = {"wide256-q4_k_m", "wide256-q4_k_s", "wide256-q5_k_m", "wide256-q6_k"};
    for (int i = 0; i < 4; i++) check_file(json, names[i]);
    free(json);
    return test_result("test_llamacpp_k");
}
