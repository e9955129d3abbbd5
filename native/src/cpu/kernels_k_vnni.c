/* AVX-512 VNNI K-quant dots (vpdpbusd); bodies in kernels_k_avx512_body.h. */
#include "cpu/kernels.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__) && \
    defined(__AVX512VNNI__)
#define MLLM_VNNI 1
#define MLLM_FILL_FN mllm_kernels_fill_k_vnni
#include "cpu/kernels_k_avx512_body.h"
#elif defined(__x86_64__) || defined(_M_X64)
void mllm_kernels_fill_k_vnni(mllm_kernels *k) { (void)k; }
#endif
