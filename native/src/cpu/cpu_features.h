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
    MLLM_CPU_NEON = 10,      /* aarch64 NEON */
    MLLM_CPU_NEON_DOTPROD = 11
} mllm_cpu_level_t;

/* Highest level the CPU supports. */
mllm_cpu_level_t mllm_cpu_detect(void);
/* Level in use: detected, lowered by MOBILELLM_CPU or mllm_cpu_set_level. */
mllm_cpu_level_t mllm_cpu_current(void);
/* 0 on success, -1 if the name is unknown or above what the CPU supports. */
int mllm_cpu_set_level_by_name(const char *name);
const char *mllm_cpu_level_name(mllm_cpu_level_t level);
const char *mllm_cpu_feature_string(void);

#endif
