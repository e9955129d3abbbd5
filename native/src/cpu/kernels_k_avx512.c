/* AVX-512 F/BW/VL/DQ K-quant dots (maddubs + madd); bodies in kernels_k_avx512_body.h. */
#include "cpu/kernels.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__)
#define MLLM_VNNI 0
#define MLLM_FILL_FN mllm_kernels_fill_k_avx512
#include "cpu/kernels_k_avx512_body.h"
#elif defined(__x86_64__) || defined(_M_X64)
void mllm_kernels_fill_k_avx512(mllm_kernels *k) { (void)k; }
#endif
