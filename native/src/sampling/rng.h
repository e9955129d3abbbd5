/* Portable seeded PRNG: xoshiro256** seeded through splitmix64 (both public-domain algorithms by
 * Blackman and Vigna), written out here so results are identical on every platform. */
#ifndef MLLM_RNG_H
#define MLLM_RNG_H

#include <stdint.h>

typedef struct mllm_rng {
    uint64_t s[4];
} mllm_rng;

void mllm_rng_seed(mllm_rng *r, uint64_t seed);
uint64_t mllm_rng_next(mllm_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double mllm_rng_uniform(mllm_rng *r);

#endif
