/* Inline half -> float for hot scalar loops (fp16.c exports the same function as
 * mllm_fp16_to_fp32). Exact; NaNs come out quiet with their payload, as vcvtph2ps does. */
#ifndef MLLM_FP16_INLINE_H
#define MLLM_FP16_INLINE_H

#include <stdint.h>
#include <string.h>

static inline float mllm_fp16_to_fp32_inline(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        /* zero or subnormal: mant * 2^-24 is exact in float */
        float v = (float)mant * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    if (exp == 31) bits = sign | 0x7f800000u | (mant ? 0x400000u : 0) | (mant << 13);
    else bits = sign | ((exp + 112) << 23) | (mant << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline float mllm_bf16_to_fp32_inline(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

#endif
