/* Parity with Hugging Face transformers: the checkpoints in testdata/checkpoints, turned into GGUF
 * (util/checkpoints.h), give the engine's logits and greedy tokens, compared with the
 * testdata/reference JSON and logits files that transformers computed in float64 from the same
 * (rounded) weights, within util/checkpoints.h's TOL_F32 / TOL_F16. Greedy tokens are compared up
 * to the first position whose reference top-2 margin is below 1e-2 (F32 cache) or 5e-2 (F16 cache). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mobilellm.h"
#include "util/checkpoints.h"
#include "util/test_check.h"

static void check_model(const spec *sp, int kv_type) {
    char gguf[64], path[512];
    snprintf(gguf, sizeof gguf, "/tmp/mllm_parity_%d.gguf", (int)getpid());
    CHECK(convert(sp, gguf) == 0);
    mllm_model *m = NULL;
    CHECK_OK(mllm_model_load(gguf, NULL, &m));
    unlink(gguf);
    snprintf(path, sizeof path, "%s/reference/%s.json", MLLM_TEST_DATA, sp->name);
    char *json = read_all(path, NULL);
    snprintf(path, sizeof path, "%s/reference/%s.logits.f32", MLLM_TEST_DATA, sp->name);
    size_t ref_len = 0;
    float *ref = (float *)read_all(path, &ref_len);
    CHECK(json && ref && m);
    if (!json || !ref || !m) {
        free(json);
        free(ref);
        mllm_model_free(m);
        return;
    }
    mllm_session_params spp;
    mllm_session_params_init(&spp);
    spp.kv_type = kv_type;
    const double tol = kv_type == MLLM_KV_F32 ? TOL_F32 : TOL_F16, min_margin = kv_type == MLLM_KV_F32 ? 1e-2 : 5e-2;
    mllm_session *s = NULL;
    CHECK_OK(mllm_session_create(m, &spp, &s));
    double ids_d[64], greedy_d[64], margin[64];
    int32_t ids[64];
    for (int p = 0; p < 3; p++) {
        int n = json_array(json, "\"ids\": [", p, ids_d, 64);
        int ng = json_array(json, "\"greedy_ids\": [", p, greedy_d, 64);
        int nm = json_array(json, "\"greedy_top2_margins\": [", p, margin, 64);
        CHECK(n > 1 && ng == nm && ng > 0);
        for (int i = 0; i < n; i++) ids[i] = (int32_t)ids_d[i];
        CHECK_OK(mllm_session_reset(s));
        CHECK_OK(mllm_session_eval(s, ids, n, MLLM_LOGITS_ALL));
        int32_t rows = 0;
        const float *lg = mllm_session_logits(s, &rows);
        CHECK(lg && rows == n);
        if (!lg) continue;
        if (p == 0) { /* the logits file holds every position of prompt 0 */
            CHECK(ref_len == sizeof(float) * (size_t)n * sp->vocab);
            double d = 0;
            for (size_t i = 0; i < ref_len / sizeof(float); i++) d = fmax(d, fabs((double)lg[i] - ref[i]));
            printf("%-28s %s kv: max |logit diff| %.2e\n", sp->name, kv_type == MLLM_KV_F32 ? "f32" : "f16", d);
            CHECK(d <= tol);
        }
        /* greedy continuation, compared while the reference's choice is clear */
        int agree = 0, compared = 0;
        const float *last = lg + (size_t)(n - 1) * sp->vocab;
        for (int g = 0; g < ng; g++) {
            int32_t best = 0;
            for (int v = 1; v < sp->vocab; v++) if (last[v] > last[best]) best = v;
            if (margin[g] < min_margin) break;
            compared++;
            agree += best == (int32_t)greedy_d[g];
            if (best != (int32_t)greedy_d[g]) break;
            CHECK_OK(mllm_session_eval(s, &best, 1, MLLM_LOGITS_LAST));
            last = mllm_session_logits(s, &rows);
        }
        CHECK(compared > 0 && agree == compared);
    }
    mllm_session_free(s);
    mllm_model_free(m);
    free(json);
    free(ref);
}

int main(void) {
    for (size_t i = 0; i < N_CHECKPOINTS; i++) {
        check_model(&k_checkpoints[i], MLLM_KV_F32);
        check_model(&k_checkpoints[i], MLLM_KV_F16);
    }
    return test_result("test_model_parity");
}
