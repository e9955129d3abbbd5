/* aarch64 kernels for CPUs with the dot product extension (Armv8.2-A FEAT_DotProd, HWCAP_ASIMDDP;
 * this file alone is compiled with +dotprod): the quantized dots with sdot, four byte products
 * per int32 lane per instruction. Everything else comes from kernels_neon.c. */
#include "cpu/kernels.h"

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
#include <arm_neon.h>

static inline __attribute__((always_inline)) int32x4_t dot_s8x16(int32x4_t acc, int8x16_t a, int8x16_t b) {
    return vdotq_s32(acc, a, b);
}
#include "cpu/kernels_neon_body.h"

void mllm_kernels_fill_neon_dotprod(mllm_kernels *k) { neon_fill_quant_dots(k); }

#elif defined(__aarch64__)
/* Built without +dotprod (non-CMake build): keep the baseline NEON kernels. */
void mllm_kernels_fill_neon_dotprod(mllm_kernels *k) { (void)k; }
#endif
