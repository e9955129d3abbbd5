/* Public sampling API: defaults, argument checking and error messages around sampling/. */
#include "core/errors.h"
#include "sampling/sampler.h"

#include <stddef.h>

void mllm_sampler_params_init(mllm_sampler_params *params) {
    if (!params) return;
    params->greedy = 0;
    params->temperature = 0.8f;
    params->top_k = 40;
    params->top_p = 0.95f;
    params->min_p = 0.05f;
    params->repeat_penalty = 1.0f;
    params->repeat_last_n = 64;
    params->seed = 0; /* fixed: runs are reproducible unless the caller picks a seed */
}

mllm_status mllm_sampler_create(const mllm_sampler_params *params, int32_t n_vocab, mllm_sampler **out_sampler) {
    if (!out_sampler) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_sampler_create: out_sampler is NULL");
    *out_sampler = NULL;
    if (!params) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_sampler_create: params is NULL");
    if (n_vocab <= 0) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_sampler_create: n_vocab is %d (must be positive)", (int)n_vocab);
    const char *bad = mllm_sampling_check_params(params);
    if (bad) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_sampler_create: %s", bad);
    mllm_sampler *s = mllm_sampling_new(params, n_vocab);
    if (!s) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "mllm_sampler_create: out of memory for %d-token scratch buffers", (int)n_vocab);
    *out_sampler = s;
    return MLLM_OK;
}

void mllm_sampler_free(mllm_sampler *sampler) { mllm_sampling_free(sampler); }

int32_t mllm_sampler_sample(mllm_sampler *sampler, const float *logits, int32_t n_vocab) {
    if (!sampler || !logits) {
        mllm_set_error("mllm_sampler_sample: %s is NULL", sampler ? "logits" : "sampler");
        return -1;
    }
    if (n_vocab != mllm_sampling_n_vocab(sampler)) {
        mllm_set_error("mllm_sampler_sample: n_vocab %d differs from the sampler's %d", (int)n_vocab,
                       (int)mllm_sampling_n_vocab(sampler));
        return -1;
    }
    int32_t token = mllm_sampling_sample(sampler, logits);
    if (token < 0) mllm_set_error("mllm_sampler_sample: every logit is NaN or -infinity");
    return token;
}

mllm_status mllm_sampler_accept(mllm_sampler *sampler, int32_t token) {
    if (!sampler) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_sampler_accept: sampler is NULL");
    int32_t n = mllm_sampling_n_vocab(sampler);
    if (token < 0 || token >= n)
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_sampler_accept: token %d is out of range [0, %d)", (int)token, (int)n);
    mllm_sampling_accept(sampler, token);
    return MLLM_OK;
}

mllm_status mllm_sampler_reset(mllm_sampler *sampler, uint64_t seed) {
    if (!sampler) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_sampler_reset: sampler is NULL");
    mllm_sampling_reset(sampler, seed);
    return MLLM_OK;
}

/* 1 if sampler, the arrays and n_vocab are usable; else 0 with the error naming the bad argument. */
static int rows_ok(const char *fn, const mllm_sampler *sampler, const float *in, const float *out, int32_t n_vocab) {
    if (!sampler || !in || !out) {
        mllm_set_error("%s: %s is NULL", fn, !sampler ? "sampler" : "an array");
        return 0;
    }
    if (n_vocab != mllm_sampling_n_vocab(sampler)) {
        mllm_set_error("%s: n_vocab %d differs from the sampler's %d", fn, (int)n_vocab,
                       (int)mllm_sampling_n_vocab(sampler));
        return 0;
    }
    return 1;
}

mllm_status mllm_sampler_distribution(mllm_sampler *sampler, const float *logits, int32_t n_vocab, float *probs_out) {
    if (!rows_ok("mllm_sampler_distribution", sampler, logits, probs_out, n_vocab)) return MLLM_ERR_INVALID_ARGUMENT;
    if (mllm_sampling_distribution(sampler, logits, probs_out) < 0)
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_sampler_distribution: every logit is NaN or -infinity");
    return MLLM_OK;
}

int32_t mllm_sampler_draw(mllm_sampler *sampler, const float *weights, int32_t n_vocab) {
    if (!rows_ok("mllm_sampler_draw", sampler, weights, weights, n_vocab)) return -1;
    int32_t token = mllm_sampling_draw_weights(sampler, weights);
    if (token < 0) mllm_set_error("mllm_sampler_draw: the weights sum to 0");
    return token;
}

double mllm_sampler_uniform(mllm_sampler *sampler) {
    if (!sampler) {
        mllm_set_error("mllm_sampler_uniform: sampler is NULL");
        return -1.0;
    }
    return mllm_sampling_uniform(sampler);
}
