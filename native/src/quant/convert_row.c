/* Row conversions with their arguments checked: what mllm_quantize_row and mllm_dequantize_row
 * (mobilellm.h) do. Engine code that has validated its types calls the _ref functions directly. */
#include <math.h>

#include "core/errors.h"
#include "quant/quant.h"

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

mllm_status mllm_quantize_row_checked(int32_t type, const float *src, void *dst, int64_t n) {
    mllm_status s = check_row_args("mllm_quantize_row", type, src, dst, n);
    if (s != MLLM_OK) return s;
    /* Block formats cannot represent inf/NaN (the scale would be inf/NaN and the rounding of
     * x / d undefined); the float formats can, so they pass them through. */
    const mllm_type_traits *t = mllm_type_traits_of(type);
    if (t->block_size > 1) {
        for (int64_t i = 0; i < n; i++)
            if (!isfinite(src[i]))
                return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_quantize_row: src[%lld] = %g cannot be stored as %s",
                                 (long long)i, (double)src[i], t->name);
    }
    mllm_quantize_row_ref(type, src, dst, n);
    return MLLM_OK;
}

mllm_status mllm_dequantize_row_checked(int32_t type, const void *src, float *dst, int64_t n) {
    mllm_status s = check_row_args("mllm_dequantize_row", type, src, dst, n);
    if (s != MLLM_OK) return s;
    mllm_dequantize_row_ref(type, src, dst, n);
    return MLLM_OK;
}
