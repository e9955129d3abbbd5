/* Table of every ggml type number we know: sizes for all (so files with other types can be
 * measured and rejected by name), kernels only for the `supported` ones. */
#include "core/types.h"

#define T(id, nm, bs, bb, sup, ref, vdt) [id] = { nm, bs, bb, sup, ref, vdt }

static const mllm_type_traits TRAITS[] = {
    /* F16/BF16 weights keep activations in f32 and widen weights on the fly (more accurate than
     * rounding activations to 16 bits, and just as fast since the loads dominate). */
    T(MLLM_TYPE_F32, "f32", 1, 4, 1, 1, MLLM_TYPE_F32),
    T(MLLM_TYPE_F16, "f16", 1, 2, 1, 1, MLLM_TYPE_F32),
    T(MLLM_TYPE_Q4_0, "q4_0", 32, 18, 1, 1, MLLM_TYPE_Q8_0),
    T(MLLM_TYPE_Q4_1, "q4_1", 32, 20, 1, 1, MLLM_TYPE_Q8_1),
    T(MLLM_TYPE_Q5_0, "q5_0", 32, 22, 1, 1, MLLM_TYPE_Q8_0),
    T(MLLM_TYPE_Q5_1, "q5_1", 32, 24, 1, 1, MLLM_TYPE_Q8_1),
    T(MLLM_TYPE_Q8_0, "q8_0", 32, 34, 1, 1, MLLM_TYPE_Q8_0),
    T(MLLM_TYPE_Q8_1, "q8_1", 32, 36, 0, 1, MLLM_TYPE_Q8_1),
    T(MLLM_TYPE_Q2_K, "q2_k", 256, 84, 0, 0, -1),
    T(MLLM_TYPE_Q3_K, "q3_k", 256, 110, 0, 0, -1),
    /* K-quants: q8_1 rows for Q4_K / Q5_K (their block sums carry the min term), q8_0 for the
     * symmetric Q6_K. */
    T(MLLM_TYPE_Q4_K, "q4_k", 256, 144, 1, 1, MLLM_TYPE_Q8_1),
    T(MLLM_TYPE_Q5_K, "q5_k", 256, 176, 1, 1, MLLM_TYPE_Q8_1),
    T(MLLM_TYPE_Q6_K, "q6_k", 256, 210, 1, 1, MLLM_TYPE_Q8_0),
    T(MLLM_TYPE_Q8_K, "q8_k", 256, 292, 0, 0, -1),
    T(MLLM_TYPE_BF16, "bf16", 1, 2, 1, 1, MLLM_TYPE_F32),
};

const mllm_type_traits *mllm_type_traits_of(int32_t type) {
    if (type < 0 || type >= (int32_t)(sizeof(TRAITS) / sizeof(TRAITS[0]))) return NULL;
    return TRAITS[type].name ? &TRAITS[type] : NULL;
}

size_t mllm_type_row_bytes(int32_t type, int64_t n) {
    const mllm_type_traits *t = mllm_type_traits_of(type);
    if (!t || n < 0 || n % t->block_size != 0) return 0;
    if ((uint64_t)(n / t->block_size) > SIZE_MAX / t->block_bytes) return 0;
    return (size_t)(n / t->block_size) * t->block_bytes;
}
