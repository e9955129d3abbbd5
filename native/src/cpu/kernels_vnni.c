/* AVX-512 VNNI kernels: int8 products via vpdpbusd; bodies in kernels_avx512_body.h. */
#include "cpu/kernels.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__) && \
    defined(__AVX512VNNI__)
#define MLLM_VNNI 1
#define MLLM_FILL_FN mllm_kernels_fill_vnni
#include "cpu/kernels_avx512_body.h"
#elif defined(__x86_64__) || defined(_M_X64)
void mllm_kernels_fill_vnni(mllm_kernels *k) { (void)k; }
#endif
