/* AVX2 panel kernels (int8 products via vpmaddubsw + vpmaddwd); bodies in kernels_panel_avx2_body.h. */
#include "cpu/kernels.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define MLLM_AVXVNNI 0
#define MLLM_FILL_FN mllm_kernels_fill_panel_avx2
#include "cpu/kernels_panel_avx2_body.h"
#elif defined(__x86_64__) || defined(_M_X64)
void mllm_kernels_fill_panel_avx2(mllm_kernels *k) { (void)k; }
#endif
