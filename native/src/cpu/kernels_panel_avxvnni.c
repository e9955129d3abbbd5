/* AVX2 panel kernels with AVX-VNNI (256-bit vpdpbusd without AVX-512: Intel client CPUs since 2021);
 * bodies in kernels_panel_avx2_body.h. */
#include "cpu/kernels.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__) && defined(__AVXVNNI__)
#define MLLM_AVXVNNI 1
#define MLLM_FILL_FN mllm_kernels_fill_panel_avxvnni
#include "cpu/kernels_panel_avx2_body.h"
#elif defined(__x86_64__) || defined(_M_X64)
void mllm_kernels_fill_panel_avxvnni(mllm_kernels *k) { (void)k; }
#endif
