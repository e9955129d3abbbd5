/* Runtime CPU feature detection and the kernel level used for dispatch.
 * The typedef is mllm_cpu_level_t because mobilellm.h's public function mllm_cpu_level() takes the
 * plain name (typedefs and functions share C's ordinary identifier namespace). */
#ifndef MLLM_CPU_FEATURES_H
#define MLLM_CPU_FEATURES_H

typedef enum mllm_cpu_level {
    MLLM_CPU_SCALAR = 0,
    MLLM_CPU_AVX2 = 1,       /* AVX2 + FMA + F16C */
    MLLM_CPU_AVX512 = 2,     /* AVX-512 F/BW/VL/DQ */
    MLLM_CPU_AVX512VNNI = 3, /* + VNNI */
    MLLM_CPU_AMX = 4,        /* + AMX-INT8 tiles (prompt processing) */
    MLLM_CPU_AVXVNNI = 5,    /* AVX2 + AVX-VNNI (256-bit vpdpbusd): beside the ordered levels above, the
                                detected level of CPUs without AVX-512 that have it (Intel client CPUs
                                since 2021); selectable wherever the CPU has AVX-VNNI */
    MLLM_CPU_NEON = 10,      /* aarch64 NEON */
    MLLM_CPU_NEON_DOTPROD = 11
} mllm_cpu_level_t;

/* Highest level the CPU supports. */
mllm_cpu_level_t mllm_cpu_detect(void);
/* Level in use: detected, lowered by MOBILELLM_CPU or mllm_cpu_set_level. */
mllm_cpu_level_t mllm_cpu_current(void);
/* 1 if the CPU can run the level's kernels. */
int mllm_cpu_level_supported(mllm_cpu_level_t level);
/* 1 for the x86 levels with AVX2 kernels (avx2 and above, avxvnni). */
int mllm_cpu_level_is_x86_simd(mllm_cpu_level_t level);
/* 0 on success, -1 if the name is unknown or above what the CPU supports. */
int mllm_cpu_set_level_by_name(const char *name);
const char *mllm_cpu_level_name(mllm_cpu_level_t level);
const char *mllm_cpu_feature_string(void);

#endif
