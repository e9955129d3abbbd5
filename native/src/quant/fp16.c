/* IEEE half and bfloat16 conversions in portable C. Rounding matches F16C's vcvtps2ph with
 * round-to-nearest-even, so files we write equal those written with hardware conversion. */
#include <string.h>

#include "quant/fp16_inline.h"
#include "quant/quant.h"

static inline uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float mllm_fp16_to_fp32(mllm_fp16 h) { return mllm_fp16_to_fp32_inline(h); }

mllm_fp16 mllm_fp32_to_fp16(float f) {
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    x &= 0x7fffffffu;
    if (x > 0x7f800000u) /* nan: quiet it, keep the top payload bits like the hardware */
        return (mllm_fp16)(sign | 0x7e00 | ((x >> 13) & 0x3ff));
    if (x >= 0x477ff000u) return (mllm_fp16)(sign | 0x7c00); /* >= 65520 rounds to inf */
    if (x < 0x38800000u) {
        /* below 2^-14 the result is subnormal: adding 0.5 puts the binary point so that the float
         * adder itself rounds to the half's 2^-24 grid, nearest-even. */
        float t = bits_f32(x) + 0.5f;
        return (mllm_fp16)(sign | (f32_bits(t) - 0x3f000000u));
    }
    uint32_t odd = (x >> 13) & 1;
    x += 0xc8000fffu + odd; /* rebias exponent 127 -> 15 and round the 13 dropped bits to even */
    return (mllm_fp16)(sign | (x >> 13));
}

float mllm_bf16_to_fp32(mllm_bf16 h) { return bits_f32((uint32_t)h << 16); }

mllm_bf16 mllm_fp32_to_bf16(float f) {
    uint32_t x = f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (mllm_bf16)((x >> 16) | 0x40); /* quiet nan */
    x += 0x7fffu + ((x >> 16) & 1);
    return (mllm_bf16)(x >> 16);
}
