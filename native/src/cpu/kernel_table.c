/* Builds one kernel table per level, once, by layering each ISA's kernels over the lower ones. */
#include "cpu/kernels.h"
#include "mobilellm.h"
#include "platform/threads.h"

enum { N_LEVELS = MLLM_CPU_NEON_DOTPROD + 1 };
static mllm_kernels g_tables[N_LEVELS];
static mllm_once g_once = MLLM_ONCE_INIT;

static void build_tables(void) {
    for (int lv = 0; lv < N_LEVELS; lv++) {
        mllm_kernels *k = &g_tables[lv];
        mllm_kernels_fill_scalar(k);
        /* A fill function is compiled for its ISA and may itself use it (GCC stores the table with
         * AVX-512 instructions in kernels_avx512.c): call only those of levels this CPU has. The
         * tables of the others stay scalar; mllm_cpu_set_level_by_name never selects them anyway. */
        if (!mllm_cpu_level_supported((mllm_cpu_level_t)lv)) continue;
#if defined(__x86_64__) || defined(_M_X64)
        if (mllm_cpu_level_is_x86_simd((mllm_cpu_level_t)lv)) {
            mllm_kernels_fill_avx2(k);
            mllm_kernels_fill_k_avx2(k);
            mllm_kernels_fill_panel_avx2(k);
        }
        if (lv == MLLM_CPU_AVXVNNI) mllm_kernels_fill_panel_avxvnni(k);
        if (lv >= MLLM_CPU_AVX512 && lv <= MLLM_CPU_AMX) {
            mllm_kernels_fill_avx512(k);
            mllm_kernels_fill_k_avx512(k);
        }
        if (lv >= MLLM_CPU_AVX512VNNI && lv <= MLLM_CPU_AMX) {
            mllm_kernels_fill_vnni(k);
            mllm_kernels_fill_k_vnni(k);
            mllm_kernels_fill_panel_vnni(k);
        }
        if (lv == MLLM_CPU_AMX) mllm_kernels_fill_panel_amx(k);
#endif
#if defined(__aarch64__)
        if (lv >= MLLM_CPU_NEON) mllm_kernels_fill_neon(k);
        if (lv >= MLLM_CPU_NEON_DOTPROD) mllm_kernels_fill_neon_dotprod(k);
#endif
    }
}

const mllm_kernels *mllm_kernels_for(mllm_cpu_level_t level) {
    mllm_once_run(&g_once, build_tables);
    int lv = (int)level;
    if (lv < 0 || lv >= N_LEVELS) lv = 0;
    return &g_tables[lv];
}

int mllm_kernel_slot(int32_t wt) {
    switch (wt) {
    case MLLM_TYPE_F32: return MLLM_KSLOT_F32;
    case MLLM_TYPE_F16: return MLLM_KSLOT_F16;
    case MLLM_TYPE_BF16: return MLLM_KSLOT_BF16;
    case MLLM_TYPE_Q8_0: return MLLM_KSLOT_Q8_0;
    case MLLM_TYPE_Q4_0: return MLLM_KSLOT_Q4_0;
    case MLLM_TYPE_Q4_1: return MLLM_KSLOT_Q4_1;
    case MLLM_TYPE_Q5_0: return MLLM_KSLOT_Q5_0;
    case MLLM_TYPE_Q5_1: return MLLM_KSLOT_Q5_1;
    case MLLM_TYPE_Q4_K: return MLLM_KSLOT_Q4_K;
    case MLLM_TYPE_Q5_K: return MLLM_KSLOT_Q5_K;
    case MLLM_TYPE_Q6_K: return MLLM_KSLOT_Q6_K;
    default: return -1;
    }
}
