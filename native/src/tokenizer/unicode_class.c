#include "tokenizer/unicode_class.h"

mllm_ucat mllm_ucat_of(uint32_t cp) {
    int32_t lo = 0, hi = mllm_ucat_n_ranges - 1;
    while (lo <= hi) {
        int32_t mid = (lo + hi) / 2;
        if (cp < mllm_ucat_ranges[mid].lo) hi = mid - 1;
        else if (cp > mllm_ucat_ranges[mid].hi) lo = mid + 1;
        else return (mllm_ucat)mllm_ucat_ranges[mid].cat;
    }
    return MLLM_UCAT_OTHER;
}
