/* Token sampling over a logits row. The public API (mllm_sampler_*, api/api_sampling.c) checks
 * arguments and reports errors; the functions here trust their inputs. */
#ifndef MLLM_SAMPLER_H
#define MLLM_SAMPLER_H

#include "mobilellm.h"

/* Index of the largest logit (lowest index on ties; NaN never wins). -1 if all are NaN or n <= 0. */
int32_t mllm_argmax(const float *logits, int32_t n);

/* NULL if the parameters are usable, else a message naming the bad field. */
const char *mllm_sampling_check_params(const mllm_sampler_params *p);

/* struct mllm_sampler of mobilellm.h. Allocates all scratch memory up front; NULL when out of
 * memory. Parameters must have passed mllm_sampling_check_params. */
mllm_sampler *mllm_sampling_new(const mllm_sampler_params *p, int32_t n_vocab);
void mllm_sampling_free(mllm_sampler *s);
int32_t mllm_sampling_n_vocab(const mllm_sampler *s);
/* Samples from logits[0..n_vocab) (read only) and records the pick in the history.
 * -1 if no logit is a number above -infinity. */
int32_t mllm_sampling_sample(mllm_sampler *s, const float *logits);
/* Writes the distribution sample() draws from (normalised; removed tokens 0) to probs[0..n_vocab);
 * draws and records nothing. -1 (probs all 0) if no logit is a number above -infinity. */
int mllm_sampling_distribution(mllm_sampler *s, const float *logits, float *probs);
/* Draws i with probability weights[i] / sum (weights >= 0) from the sampler's generator; records
 * nothing. -1 if the weights sum to 0 (or are not numbers). */
int32_t mllm_sampling_draw_weights(mllm_sampler *s, const float *weights);
/* The next uniform number in [0, 1) of the sampler's generator. */
double mllm_sampling_uniform(mllm_sampler *s);
/* Records token (0 <= token < n_vocab) in the repetition-penalty history. */
void mllm_sampling_accept(mllm_sampler *s, int32_t token);
/* Clears the history and reseeds the generator. */
void mllm_sampling_reset(mllm_sampler *s, uint64_t seed);

#endif
