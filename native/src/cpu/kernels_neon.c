/* Baseline aarch64 kernels (Armv8-A Advanced SIMD, present on every aarch64 CPU); bodies in
 * kernels_neon_body.h. kernels_neon_dotprod.c replaces them on CPUs with the dot product extension. */
#include "cpu/kernels.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#define MLLM_DOTPROD 0
#define MLLM_FILL_FN mllm_kernels_fill_neon
#include "cpu/kernels_neon_body.h"
#elif defined(__aarch64__)
/* Built without NEON (not a normal aarch64 toolchain): keep the scalar kernels. */
void mllm_kernels_fill_neon(mllm_kernels *k) { (void)k; }
#endif
