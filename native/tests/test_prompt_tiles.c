/* Prompt tiles over unpacked weight rows (matmul with 8+ activation rows).
 * 1. q4_0 unpacked (cpu/unpack.c + gemm4u_off) must give bit-identical tiles to the packed q4_0
 *    tile kernel (gemm4): same products in the same order, only where nibbles and scales come
 *    from differs; and the whole matmul must match the scalar reference dot products.
 * 2. The unpacked tiles (cpu/unpack.c + gemm4u_off/min) for q4_1, q5_0, q5_1, q4_k, q5_k
 *    and q6_k: the whole matmul against the scalar reference. The integer block sums are exact
 *    in both; what differs is float rounding: the unpacked scale is d * sc rounded once, each
 *    lane's product is rounded, and the k/32 (or k/16) terms are added in another order. Each
 *    such rounding is <= 2^-24 relative to a term of size <= sum |w||x|, with a handful per block:
 *    tolerance (k/16 + 16) * 2^-22 * sum_e |w_e| |x_e| (w dequantized), several times the
 *    worst case of those roundings and far below what a wrong quant, scale or min gives.
 * Skips (exit 0, says so) on CPUs without the tile kernels (no AVX-512 VNNI). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_features.h"
#include "cpu/kernels.h"
#include "cpu/matmul.h"
#include "cpu/unpack.h"
#include "platform/memory.h"
#include "quant/quant.h"
#include "util/test_check.h"


static unsigned long long g_rng = 88172645463325252ull;
static float frand(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (float)((g_rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

int main(void) {
    const mllm_kernels *K = mllm_kernels_for(mllm_cpu_current());
    if (!K->gemm4u_off || !K->gemm4[MLLM_KSLOT_Q4_0]) {
        printf("test_prompt_tiles: level %s has no q4_0 tile kernels, nothing to compare\n", mllm_cpu_level_name(mllm_cpu_current()));
        return 0;
    }
    const int64_t ks[] = {64, 576, 960, 1536, 3584};
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
        const int64_t k = ks[ki], rows = 24, m = 12;
        const size_t wrb = mllm_type_row_bytes(MLLM_TYPE_Q4_0, k);
        float *wf = malloc(sizeof(float) * (size_t)(rows * k)), *x = malloc(sizeof(float) * (size_t)(m * k));
        uint8_t *w = malloc(wrb * (size_t)rows), *u = malloc(mllm_unpack_row_bytes(MLLM_TYPE_Q4_0, k) * (size_t)rows);
        for (int64_t i = 0; i < rows * k; i++) wf[i] = frand() * (i % 7 == 0 ? 3.0f : 1.0f);
        for (int64_t i = 0; i < m * k; i++) x[i] = frand();
        for (int64_t r = 0; r < rows; r++) mllm_quantize_row_ref(MLLM_TYPE_Q4_0, wf + r * k, w + (size_t)r * wrb, k);

        /* the activations as the matmul driver prepares them */
        void *wdata = mllm_aligned_alloc(64, mllm_matmul_wsize(MLLM_TYPE_Q4_0, k, m));
        mllm_matmul_prepare(K, MLLM_TYPE_Q4_0, x, k, k, m, wdata, 0, 1);
        const size_t xrb = mllm_type_row_bytes(MLLM_TYPE_Q8_0, k);
        const float *xd = (const float *)((const char *)wdata + ((m * xrb + 63) & ~(size_t)63));
        const int64_t spr = k / 32 * MLLM_XD_LANES;

        const size_t urb = mllm_unpack_row_bytes(MLLM_TYPE_Q4_0, k);
        mllm_unpack_rows(MLLM_TYPE_Q4_0, w, wrb, rows, k, u);
        int same = 1;
        for (int64_t r = 0; r + 4 <= rows; r += 4) {
            for (int64_t j = 0; j + 4 <= m; j += 4) {
                float a[16], b[16];
                K->gemm4[MLLM_KSLOT_Q4_0](k, w + (size_t)r * wrb, wrb, (const char *)wdata + (size_t)j * xrb, xrb, xd + j * spr, spr, a);
                K->gemm4u_off(k, u + (size_t)r * urb, urb, 8, (const char *)wdata + (size_t)j * xrb, xrb, xd + j * spr, spr, b);
                same &= memcmp(a, b, sizeof a) == 0;
            }
        }
        CHECK(same, "k=%lld: unpacked q4_0 tiles differ from the packed ones", (long long)k);

        /* whole matmul (m >= 8 takes the unpacked path) against the scalar reference: the same
         * integer block sums, combined in another float order; each of the k/32 additions rounds
         * by <= 2^-24 of a partial sum of size ~|y| + 1, so ~2e-9 * k relative: 2e-8 * k allows 10x */
        float *y = malloc(sizeof(float) * (size_t)(m * rows)), *yr = malloc(sizeof(float) * (size_t)(m * rows));
        mllm_matmul_compute(K, MLLM_TYPE_Q4_0, w, k, wdata, m, y, rows, 0, rows);
        mllm_matmul_ref(MLLM_TYPE_Q4_0, w, rows, k, x, k, m, yr, rows);
        double worst = 0;
        for (int64_t i = 0; i < m * rows; i++) worst = fmax(worst, fabs((double)y[i] - yr[i]) / (1.0 + fabs((double)yr[i])));
        CHECK(worst < 2e-8 * (double)k, "k=%lld: matmul vs reference %.3g", (long long)k, worst);
        printf("k=%-5lld unpacked tiles %s packed; matmul vs reference %.2e\n", (long long)k, same ? "==" : "!=", worst);
        free(y);
        free(yr);
        mllm_aligned_free(wdata);
        free(wf);
        free(x);
        free(w);
        free(u);
    }
    const int32_t types[] = {MLLM_TYPE_Q4_1, MLLM_TYPE_Q5_0, MLLM_TYPE_Q5_1, MLLM_TYPE_Q4_K, MLLM_TYPE_Q5_K, MLLM_TYPE_Q6_K};
    const int64_t kks[] = {256, 1536, 4352};
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        for (size_t ki = 0; ki < sizeof kks / sizeof kks[0]; ki++) {
            const int32_t wt = types[ti];
            const int64_t k = kks[ki], rows = 20, m = 13; /* 13: three full 4-row tiles and a remainder */
            const size_t wrb = mllm_type_row_bytes(wt, k);
            float *wf = malloc(sizeof(float) * (size_t)(rows * k)), *x = malloc(sizeof(float) * (size_t)(m * k));
            float *wd = malloc(sizeof(float) * (size_t)k);
            uint8_t *w = malloc(wrb * (size_t)rows);
            for (int64_t i = 0; i < rows * k; i++) wf[i] = frand() * (i % 5 == 0 ? 2.0f : 0.5f) + (i % 64 < 8 ? 0.3f : 0.0f);
            for (int64_t i = 0; i < m * k; i++) x[i] = frand() + (i % 96 < 4 ? 1.5f : 0.0f);
            for (int64_t r = 0; r < rows; r++) mllm_quantize_row_ref(wt, wf + r * k, w + (size_t)r * wrb, k);
            void *wdata = mllm_aligned_alloc(64, mllm_matmul_wsize(wt, k, m));
            mllm_matmul_prepare(K, wt, x, k, k, m, wdata, 0, 1);
            float *y = malloc(sizeof(float) * (size_t)(m * rows)), *yr = malloc(sizeof(float) * (size_t)(m * rows));
            mllm_matmul_compute(K, wt, w, k, wdata, m, y, rows, 0, rows);
            mllm_matmul_ref(wt, w, rows, k, x, k, m, yr, rows);
            double worst = 0;
            for (int64_t r = 0; r < rows; r++) {
                mllm_dequantize_row_ref(wt, w + (size_t)r * wrb, wd, k);
                for (int64_t j = 0; j < m; j++) {
                    double bound = 0;
                    for (int64_t e = 0; e < k; e++) bound += fabs((double)wd[e]) * fabs((double)x[j * k + e]);
                    const double tol = ((double)k / 16 + 16) * ldexp(1.0, -22) * bound;
                    const double d = fabs((double)y[j * rows + r] - yr[j * rows + r]);
                    worst = fmax(worst, d / tol);
                }
            }
            CHECK(worst <= 1.0, "%s k=%lld: matmul vs reference at %.3g of the tolerance", mllm_type_traits_of(wt)->name,
                  (long long)k, worst);
            printf("%-5s k=%-5lld unpacked tiles vs reference: %.3f of the tolerance\n", mllm_type_traits_of(wt)->name,
                   (long long)k, worst);
            free(y);
            free(yr);
            mllm_aligned_free(wdata);
            free(wf);
            free(wd);
            free(x);
            free(w);
        }
    }
    return test_result("test_prompt_tiles");
}
