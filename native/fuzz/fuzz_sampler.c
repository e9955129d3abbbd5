/* libFuzzer target: the public sampler API with fuzzed parameters (any float, NaN and infinities
 * included) and fuzzed logits. Layout: 32 bytes of parameters (below), then float logits (the
 * vocabulary is as long as they are), then nothing or bytes choosing accepted tokens. Checks the
 * contract of mobilellm.h: invalid parameters are refused with a message; a sampled token is in
 * range and never one whose logit is NaN or -infinity; -1 only when no logit is a number above
 * -infinity; greedy sampling is the argmax. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mobilellm.h"

static float f32_at(const uint8_t *p) {
    float f;
    memcpy(&f, p, 4);
    return f;
}

static int32_t i32_at(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 36) return 0;
    mllm_sampler_params sp;
    mllm_sampler_params_init(&sp);
    sp.greedy = data[0] & 1;
    sp.temperature = f32_at(data + 4);
    sp.top_k = i32_at(data + 8);
    sp.top_p = f32_at(data + 12);
    sp.min_p = f32_at(data + 16);
    sp.repeat_penalty = f32_at(data + 20);
    sp.repeat_last_n = i32_at(data + 24) % 4096; /* larger histories only cost memory */
    memcpy(&sp.seed, data + 28, 4);
    const size_t n_logit_bytes = (size - 32) / 4 * 4;
    const int32_t n_vocab = (int32_t)(n_logit_bytes / 4);
    float *logits = malloc(n_logit_bytes);
    if (!logits) abort();
    memcpy(logits, data + 32, n_logit_bytes);
    const uint8_t *extra = data + 32 + n_logit_bytes;
    const size_t n_extra = size - 32 - n_logit_bytes;

    mllm_sampler *s = NULL;
    mllm_status st = mllm_sampler_create(&sp, n_vocab, &s);
    if (st != MLLM_OK) {
        if (s || mllm_last_error()[0] == '\0') abort();
        free(logits);
        return 0;
    }
    int any = 0; /* some logit is a number above -infinity */
    int32_t best = -1;
    for (int32_t i = 0; i < n_vocab; i++) {
        if (isnan(logits[i])) continue;
        any |= logits[i] != -INFINITY;
        if (best < 0 || logits[i] > logits[best]) best = i;
    }
    for (size_t round = 0; round <= n_extra; round++) {
        int32_t tok = mllm_sampler_sample(s, logits, n_vocab);
        if (tok == -1) {
            if (any) abort();
        } else {
            if (tok < 0 || tok >= n_vocab || isnan(logits[tok]) || logits[tok] == -INFINITY) abort();
            if ((sp.greedy || sp.temperature <= 0.0f) && tok != best) abort();
        }
        if (round < n_extra && mllm_sampler_accept(s, extra[round] % n_vocab) != MLLM_OK) abort();
    }
    if (mllm_sampler_sample(s, logits, n_vocab + 1) != -1) abort(); /* wrong length: refused */
    mllm_sampler_free(s);
    free(logits);
    return 0;
}
