/* Public type, (de)quantization and CPU-level entry points of mobilellm.h. */
#include "mobilellm.h"

#include "core/errors.h"
#include "cpu/cpu_features.h"
#include "quant/quant.h"

MLLM_API const char *mllm_type_name(int32_t type) {
    const mllm_type_traits *t = mllm_type_traits_of(type);
    return t ? t->name : NULL;
}

MLLM_API int32_t mllm_type_supported(int32_t type) {
    const mllm_type_traits *t = mllm_type_traits_of(type);
    return t && t->supported;
}

MLLM_API int64_t mllm_type_block_size(int32_t type) {
    const mllm_type_traits *t = mllm_type_traits_of(type);
    return t ? t->block_size : 0;
}

MLLM_API int64_t mllm_type_block_bytes(int32_t type) {
    const mllm_type_traits *t = mllm_type_traits_of(type);
    return t ? (int64_t)t->block_bytes : 0;
}

MLLM_API int64_t mllm_row_bytes(int32_t type, int64_t n) {
    const mllm_type_traits *t = mllm_type_traits_of(type);
    if (!t || n < 0 || n % t->block_size != 0) return -1;
    if (n / t->block_size > INT64_MAX / (int64_t)t->block_bytes) return -1; /* not representable */
    return (int64_t)mllm_type_row_bytes(type, n);
}

MLLM_API mllm_status mllm_quantize_row(int32_t type, const float *src, void *dst, int64_t n) {
    return mllm_quantize_row_checked(type, src, dst, n);
}

MLLM_API mllm_status mllm_dequantize_row(int32_t type, const void *src, float *dst, int64_t n) {
    return mllm_dequantize_row_checked(type, src, dst, n);
}

MLLM_API const char *mllm_cpu_features(void) { return mllm_cpu_feature_string(); }

MLLM_API const char *mllm_cpu_level(void) { return mllm_cpu_level_name(mllm_cpu_current()); }

MLLM_API mllm_status mllm_set_cpu_level(const char *level) {
    if (!level) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_set_cpu_level: level is NULL");
    if (mllm_cpu_set_level_by_name(level) != 0)
        return mllm_fail(MLLM_ERR_UNSUPPORTED,
                         "mllm_set_cpu_level: '%s' is not a known level or exceeds this CPU's %s "
                         "(known: scalar avx2 avxvnni avx512 avx512vnni amx neon neon-dotprod)",
                         level, mllm_cpu_level_name(mllm_cpu_detect()));
    return MLLM_OK;
}
