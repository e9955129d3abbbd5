/* Public type, (de)quantization and CPU-level entry points of mobilellm.h. */
#include "mobilellm.h"

#include <math.h>

#include "api/errors.h"
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

/* Shared argument checks of quantize/dequantize. */
static mllm_status check_row_args(const char *fn, int32_t type, const void *src, const void *dst, int64_t n) {
    const mllm_type_traits *t = mllm_type_traits_of(type);
    if (!t) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "%s: unknown tensor type %d", fn, (int)type);
    if (!t->has_ref)
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "%s: type %s is not supported for conversion", fn, t->name);
    if (!src || !dst) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn, src ? "dst" : "src");
    if (n < 0 || n % t->block_size != 0)
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT,
                         "%s: n = %lld is not a non-negative multiple of the %s block size %lld", fn,
                         (long long)n, t->name, (long long)t->block_size);
    return MLLM_OK;
}

MLLM_API mllm_status mllm_quantize_row(int32_t type, const float *src, void *dst, int64_t n) {
    mllm_status s = check_row_args("mllm_quantize_row", type, src, dst, n);
    if (s != MLLM_OK) return s;
    /* Block formats cannot represent inf/NaN (the scale would be inf/NaN and the rounding of
     * x / d undefined); the float formats can, so they pass them through. */
    if (mllm_type_block_size(type) > 1) {
        for (int64_t i = 0; i < n; i++)
            if (!isfinite(src[i]))
                return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_quantize_row: src[%lld] = %g cannot be stored as %s",
                                 (long long)i, (double)src[i], mllm_type_name(type));
    }
    mllm_quantize_row_ref(type, src, dst, n);
    return MLLM_OK;
}

MLLM_API mllm_status mllm_dequantize_row(int32_t type, const void *src, float *dst, int64_t n) {
    mllm_status s = check_row_args("mllm_dequantize_row", type, src, dst, n);
    if (s != MLLM_OK) return s;
    mllm_dequantize_row_ref(type, src, dst, n);
    return MLLM_OK;
}

MLLM_API const char *mllm_cpu_features(void) { return mllm_cpu_feature_string(); }

MLLM_API const char *mllm_cpu_level(void) { return mllm_cpu_level_name(mllm_cpu_current()); }

MLLM_API mllm_status mllm_set_cpu_level(const char *level) {
    if (!level) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_set_cpu_level: level is NULL");
    if (mllm_cpu_set_level_by_name(level) != 0)
        return mllm_fail(MLLM_ERR_UNSUPPORTED,
                         "mllm_set_cpu_level: '%s' is not a known level or exceeds this CPU's %s "
                         "(known: scalar avx2 avx512 avx512vnni amx neon neon-dotprod)",
                         level, mllm_cpu_level_name(mllm_cpu_detect()));
    return MLLM_OK;
}
