/* aarch64 kernels for CPUs with the dot product extension (Armv8.2-A FEAT_DotProd, HWCAP_ASIMDDP;
 * this file alone is compiled with +dotprod): the quantized dots with sdot, four byte products
 * per int32 lane per instruction; bodies in kernels_neon_body.h. */
#include "cpu/kernels.h"

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
#define MLLM_DOTPROD 1
#define MLLM_FILL_FN mllm_kernels_fill_neon_dotprod
#include "cpu/kernels_neon_body.h"
#elif defined(__aarch64__)
/* Built without +dotprod (non-CMake build): keep the baseline NEON kernels. */
void mllm_kernels_fill_neon_dotprod(mllm_kernels *k) { (void)k; }
#endif
