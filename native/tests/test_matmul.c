/* Matmul and vector kernels at every CPU level this machine supports, against the scalar
 * reference (mllm_matmul_ref, which uses only quant/'s reference quantizers and dot products). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_features.h"
#include "cpu/kernels.h"
#include "cpu/matmul.h"
#include "cpu/panel.h"
#include "cpu/threadpool.h"
#include "platform/memory.h"
#include "quant/kquant.h"
#include "quant/quant.h"
#include "util/test_check.h"


static uint32_t rng_state = 777;
static float frand(void) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 17; rng_state ^= rng_state << 5;
    return (float)(rng_state >> 8) / 8388608.0f - 1.0f;
}

static const int32_t WEIGHT_TYPES[] = {MLLM_TYPE_F32, MLLM_TYPE_F16, MLLM_TYPE_BF16, MLLM_TYPE_Q8_0, MLLM_TYPE_Q4_0,
                                       MLLM_TYPE_Q4_1, MLLM_TYPE_Q5_0, MLLM_TYPE_Q5_1, MLLM_TYPE_Q4_K, MLLM_TYPE_Q5_K,
                                       MLLM_TYPE_Q6_K};
enum { N_TYPES = sizeof(WEIGHT_TYPES) / sizeof(WEIGHT_TYPES[0]) };

static int is_float_type(int32_t t) { return t == MLLM_TYPE_F32 || t == MLLM_TYPE_F16 || t == MLLM_TYPE_BF16; }
static int is_k_type(int32_t t) { return t == MLLM_TYPE_Q4_K || t == MLLM_TYPE_Q5_K || t == MLLM_TYPE_Q6_K; }

/* Offset of the 32-element block b's "minimum" (q4_1/q5_1 m, q4_k/q5_k dmin * m_i) for the error
 * bound; 0 for symmetric types. */
static float block_min(int32_t wt, const void *row, int64_t b) {
    if (wt == MLLM_TYPE_Q4_1) return fabsf(mllm_fp16_to_fp32(((const block_q4_1 *)row)[b].m));
    if (wt == MLLM_TYPE_Q5_1) return fabsf(mllm_fp16_to_fp32(((const block_q5_1 *)row)[b].m));
    if (wt == MLLM_TYPE_Q4_K || wt == MLLM_TYPE_Q5_K) {
        /* d, dmin and the scales lead both layouts; m_i per the layout table */
        const uint8_t *sb = (const uint8_t *)row + (size_t)(b / 8) * mllm_type_block_bytes(wt);
        mllm_fp16 dmin;
        memcpy(&dmin, sb + 2, 2);
        const uint8_t *s = sb + 4;
        int i = (int)(b % 8), m = i < 4 ? s[i + 4] & 63 : (s[i + 4] >> 4) | ((s[i] >> 6) << 4);
        return fabsf(mllm_fp16_to_fp32(dmin)) * (float)m;
    }
    return 0.0f;
}

/* Allowed |kernel - reference| for one output.
 * S = sum_i (|w_i| + |m_block|) * |x_i| over dequantized values bounds the magnitude of every term
 * either side adds up. Integer paths: each block's integer sum is exact on both sides; what
 * differs is the float work: <= 3 roundings per block term (scale product, conversion, multiply)
 * and the order of summing nb block terms, so |diff| <= (nb + 3) eps S to first order (x2 margin).
 * Float paths: the reference sums in double; kernels use >= 8 float lanes, each summing <= k/8
 * products (<= 2 roundings each: multiply and add, or one fma), plus <= 16 roundings to reduce
 * lanes and add the tail: (2 k/8 + 16) eps S. */
static float tolerance(int32_t wt, const void *wrow, const float *wdeq, const float *xdeq, int64_t k) {
    double s = 0;
    for (int64_t i = 0; i < k; i++) s += (fabs(wdeq[i]) + block_min(wt, wrow, i / 32)) * fabs(xdeq[i]);
    /* K-quants: the reference adds two terms per block (scaled sum, then the min term) */
    double steps = is_float_type(wt) ? 2.0 * k / 8 + 16 : is_k_type(wt) ? 3.0 * k / 32 + 8 : 2.0 * ((double)k / 32 + 3);
    return (float)(steps * FLT_EPSILON * s) + 1e-30f;
}

/* The kernel table of the level under test (main sets it per level). */
static const mllm_kernels *g_kernels;

typedef struct {
    int32_t wt;
    const void *w;
    int64_t n_rows, k, m;
    const float *x;
    float *y;
    void *wdata;
    mllm_threadpool *pool;
    int packed; /* w is in panels (cpu/panel.h) */
} mm_task;

static void mm_run(void *p, int ith, int nth) {
    mm_task *t = p;
    mllm_matmul_prepare(g_kernels, t->wt, t->x, t->k, t->k, t->m, t->wdata, ith, nth);
    mllm_threadpool_barrier(t->pool);
    /* Uneven split: thread ith takes rows [n*ith^2/nth^2, n*(ith+1)^2/nth^2). */
    int64_t r0 = t->n_rows * ith * ith / (nth * nth), r1 = t->n_rows * (ith + 1) * (ith + 1) / (nth * nth);
    if (t->packed) mllm_matmul_compute_panel(g_kernels, t->wt, t->w, t->k, t->wdata, t->m, t->y, t->n_rows, r0, r1);
    else mllm_matmul_compute(g_kernels, t->wt, t->w, t->k, t->wdata, t->m, t->y, t->n_rows, r0, r1);
}

/* packed: the weights go through mllm_panel_pack and mllm_matmul_compute_panel (the thread
 * splits above then cover whole panels, partial ones and single threads). */
static void check_matmul_as(int32_t wt, int64_t n_rows, int64_t k, int64_t m, mllm_threadpool *pool,
                            int exact, const char *level, int packed) {
    size_t wrb = mllm_type_row_bytes(wt, k);
    float *wf = malloc(n_rows * k * sizeof(float)), *wdeq = malloc(n_rows * k * sizeof(float));
    float *x = malloc(m * k * sizeof(float)), *xdeq = malloc(k * sizeof(float));
    float *y = malloc(m * n_rows * sizeof(float)), *yref = malloc(m * n_rows * sizeof(float));
    uint8_t *w = malloc(n_rows * wrb);
    const int offset = wt == MLLM_TYPE_Q4_1 || wt == MLLM_TYPE_Q4_K || wt == MLLM_TYPE_Q5_K;
    for (int64_t i = 0; i < n_rows * k; i++) wf[i] = frand() + (offset ? 0.3f : 0.0f);
    for (int64_t i = 0; i < m * k; i++) x[i] = frand() * 2.0f;
    /* Odd rows: blocks whose absmax is 127 (scale exactly 1) and other values at n + 0.5, so the
     * activation quantizer meets exact rounding ties (roundf rounds them away from zero). */
    for (int64_t i = 1; i < m; i += 2)
        for (int64_t e = 0; e < k; e++)
            x[i * k + e] = e % 32 == 0 ? 127.0f : (float)((int)(frand() * 120.0f)) + (e % 2 ? 0.5f : -0.5f);
    for (int64_t r = 0; r < n_rows; r++) {
        mllm_quantize_row_ref(wt, wf + r * k, w + r * wrb, k);
        mllm_dequantize_row_ref(wt, w + r * wrb, wdeq + r * k, k);
    }
    size_t ws = mllm_matmul_wsize(wt, k, m);
    void *wdata = malloc(ws);
    uint8_t *wp = NULL;
    if (packed) { /* packing must keep every row's bytes: copy each back out and compare */
        wp = mllm_aligned_alloc(64, n_rows * wrb);
        mllm_panel_pack(wt, w, k, n_rows, wp);
        uint8_t *row = malloc(wrb);
        for (int64_t r = 0; r < n_rows; r++) {
            mllm_panel_row(wt, wp, k, r, row);
            if (memcmp(row, w + r * wrb, wrb) != 0) {
                CHECK(0, "%s k=%lld: row %lld changed by packing", mllm_type_name(wt), (long long)k, (long long)r);
                break;
            }
        }
        free(row);
    }
    mm_task t = {wt, packed ? wp : w, n_rows, k, m, x, y, wdata, pool, packed};
    for (int64_t i = 0; i < m * n_rows; i++) y[i] = NAN; /* every output must be written */
    mllm_threadpool_run(pool, mm_run, &t, mllm_threadpool_size(pool));
    mllm_matmul_ref(wt, w, n_rows, k, x, k, m, yref, n_rows);

    /* The prepared activations must equal the reference conversion byte for byte. */
    int32_t at = mllm_type_traits_of(wt)->vec_dot_type;
    size_t xrb = mllm_type_row_bytes(at, k);
    CHECK(ws >= (size_t)m * xrb, "wsize"); /* activation rows first, then kernel-private scales */
    void *xq = malloc(xrb);
    int bad = 0;
    for (int64_t i = 0; i < m && !bad; i++) {
        mllm_quantize_row_ref(at, x + i * k, xq, k);
        if (memcmp(xq, (char *)wdata + i * xrb, xrb) != 0) {
            CHECK(0, "[%s] %s k=%lld m=%lld: prepared row %lld differs from reference", level,
                  mllm_type_name(wt), (long long)k, (long long)m, (long long)i);
            bad = 1;
        }
    }
    for (int64_t i = 0; i < m && !bad; i++) {
        mllm_dequantize_row_ref(at, (char *)wdata + i * xrb, xdeq, k);
        for (int64_t r = 0; r < n_rows && !bad; r++) {
            float got = y[i * n_rows + r], want = yref[i * n_rows + r];
            float tol = exact ? 0.0f : tolerance(wt, w + r * wrb, wdeq + r * k, xdeq, k);
            if (!(fabsf(got - want) <= tol)) {
                CHECK(0, "[%s] %s%s k=%lld m=%lld nth=%d y[%lld][%lld] = %.9g, ref %.9g, tol %g", level,
                      mllm_type_name(wt), packed ? " (panels)" : "", (long long)k, (long long)m, mllm_threadpool_size(pool),
                      (long long)i, (long long)r, got, want, tol);
                bad = 1;
            }
        }
    }
    free(xq); free(wdata); free(wf); free(wdeq); free(x); free(xdeq); free(y); free(yref); free(w); mllm_aligned_free(wp);
}

static void check_matmul(int32_t wt, int64_t n_rows, int64_t k, int64_t m, mllm_threadpool *pool, int exact,
                         const char *level) {
    check_matmul_as(wt, n_rows, k, m, pool, exact, level, 0);
}

static uint32_t next_rand(void) { return rng_state = rng_state * 1103515245u + 12345u; }

/* Panel kernels (q4_0, q5_0, q8_0) through the matmul driver on data where every float step is exact, so
 * kernel and scalar reference must agree bit for bit: weight scales 2^-7 or 2^-8, activation rows
 * whose blocks each hold +-127/32 (the quantizer's scale is then exactly 2^-5 and every quant the
 * chosen integer), so each term is an integer multiple of 2^-13 and, for k <= 512, the sum of all
 * terms' magnitudes stays below 2^24 of those units: every partial sum in any order is exact.
 * Rows and activation rows at the extremes (all 15 / 0 nibbles, q5_0's all 31 / 0 quants, all
 * 127 / -128 bytes against all +127 / -127 activations) reach the largest integer pair sums a
 * byte-multiply instruction forms, so a saturating, late-widened or mis-ordered lane shows as a
 * difference. Weight bytes span -128..127; activation quants stay within -127..127, the
 * quantizer's range. Thread counts 1..3 split the 48 rows unevenly (mm_run), so partial panels go
 * through the row fallback; 1..9 activation rows cover every kernel width and a remainder. */
static void check_panel_exact(const char *level, mllm_threadpool *const pools[3]) {
    static const int32_t types[] = {MLLM_TYPE_Q4_0, MLLM_TYPE_Q5_0, MLLM_TYPE_Q8_0};
    static const int64_t ks[] = {64, 192, 512}; /* one group, an odd count of groups, eight */
    enum { ROWS = 48, MAXK = 512, MAXM = 9 };
    static float x[MAXM * MAXK], y[MAXM * ROWS];
    static uint8_t w[ROWS * MAXK * 2], wp[ROWS * MAXK * 2], xq[MAXK * 2];
    for (int ti = 0; ti < 3; ti++) {
        const int32_t wt = types[ti], nibbles = wt != MLLM_TYPE_Q8_0;
        /* x86 levels from AVX2 up run the panels with their own kernels, not the row fallback */
        const int want_kernel = mllm_cpu_level_is_x86_simd(mllm_cpu_current());
        CHECK(!want_kernel || g_kernels->panel[mllm_kernel_slot(wt)] != NULL, "[%s] %s has no panel kernel", level,
              mllm_type_name(wt));
        for (int ki = 0; ki < 3; ki++) {
            const int64_t k = ks[ki];
            const size_t wrb = mllm_type_row_bytes(wt, k), bb = mllm_type_block_bytes(wt);
            for (int r = 0; r < ROWS; r++)
                for (int64_t b = 0; b < k / 32; b++) {
                    uint8_t *blk = w + (size_t)r * wrb + (size_t)b * bb;
                    const mllm_fp16 d = mllm_fp32_to_fp16(r % 3 ? 1.0f / 128 : 1.0f / 256);
                    memcpy(blk, &d, sizeof d);
                    for (size_t i = sizeof d; i < bb; i++)
                        blk[i] = r % 4 == 0 ? (nibbles ? 0xff : 127) : r % 4 == 1 ? (nibbles ? 0x00 : 0x80) : (uint8_t)(next_rand() >> 16);
                }
            mllm_panel_pack(wt, w, k, ROWS, wp);
            for (int64_t m = 1; m <= MAXM; m++) {
                for (int64_t i = 0; i < m; i++)
                    for (int64_t e = 0; e < k; e++) {
                        int q = i % 3 == 0 ? 127 : i % 3 == 1 ? -127 : e % 32 == 0 ? 127 : (int)(next_rand() >> 16) % 255 - 127;
                        x[i * k + e] = (float)q / 32.0f;
                    }
                void *wdata = malloc(mllm_matmul_wsize(wt, k, m));
                mllm_threadpool *pool = pools[m % 3];
                mm_task t = {wt, wp, ROWS, k, m, x, y, wdata, pool, 1};
                for (int64_t i = 0; i < m * ROWS; i++) y[i] = NAN; /* every output must be written */
                mllm_threadpool_run(pool, mm_run, &t, mllm_threadpool_size(pool));
                int bad = 0;
                for (int64_t i = 0; i < m && !bad; i++) {
                    mllm_quantize_row_ref(mllm_type_traits_of(wt)->vec_dot_type, x + i * k, xq, k);
                    for (int r = 0; r < ROWS && !bad; r++) {
                        const float want = mllm_vec_dot_ref(wt, w + (size_t)r * wrb, xq, k);
                        if (y[i * ROWS + r] != want) {
                            CHECK(0, "[%s] %s panels k=%lld m=%lld nth=%d y[%lld][%d] = %.9g, reference %.9g (exact data)",
                                  level, mllm_type_name(wt), (long long)k, (long long)m, mllm_threadpool_size(pool),
                                  (long long)i, r, y[i * ROWS + r], want);
                            bad = 1;
                        }
                    }
                }
                free(wdata);
            }
        }
    }
}

/* The tile kernels (AMX) against the row panels of the same level, bit for bit: the same integer
 * block sums, the same float operations in the same order. Random data, rows of one chunk of
 * expanded weights (576) and of three (1600, the sums carried between chunks through y), activation
 * row counts of one full tile group, groups plus a remainder (row panels), several groups. */
static void check_tile_bits(const char *level) {
    const mllm_kernels *K = g_kernels;
    mllm_kernels rows_only = *K; /* the same level without its tile kernels */
    memset(rows_only.panel_tiles, 0, sizeof rows_only.panel_tiles);
    static const int32_t types[] = {MLLM_TYPE_Q4_0, MLLM_TYPE_Q8_0};
    static const int64_t ks[] = {64, 576, 1600}, ms[] = {8, 9, 15, 16, 17, 40};
    enum { ROWS = 48 };
    for (int ti = 0; ti < 2; ti++) {
        const int32_t wt = types[ti];
        if (!K->panel_tiles[mllm_kernel_slot(wt)]) continue;
        for (int ki = 0; ki < 3; ki++) {
            const int64_t k = ks[ki];
            const size_t wrb = mllm_type_row_bytes(wt, k);
            float *wf = malloc((size_t)ROWS * k * sizeof(float)), *x = malloc((size_t)40 * k * sizeof(float));
            float *y = malloc((size_t)40 * ROWS * sizeof(float)), *yr = malloc((size_t)40 * ROWS * sizeof(float));
            uint8_t *w = malloc(ROWS * wrb), *wp = mllm_aligned_alloc(64, ROWS * wrb);
            void *wdata = malloc(mllm_matmul_wsize(wt, k, 40));
            for (int64_t i = 0; i < ROWS * k; i++) wf[i] = frand();
            for (int64_t i = 0; i < 40 * k; i++) x[i] = frand() * 2.0f;
            mllm_quantize_row_ref(wt, wf, w, ROWS * k);
            mllm_panel_pack(wt, w, k, ROWS, wp);
            for (int mi = 0; mi < 6; mi++) {
                const int64_t m = ms[mi];
                mllm_matmul_prepare_rows(K, wt, x, k, k, m, wdata, 0, m);
                mllm_matmul_compute_panel(K, wt, wp, k, wdata, m, y, ROWS, 0, ROWS);
                mllm_matmul_compute_panel(&rows_only, wt, wp, k, wdata, m, yr, ROWS, 0, ROWS);
                int64_t bad = -1;
                for (int64_t i = 0; i < m * ROWS && bad < 0; i++)
                    if (memcmp(&y[i], &yr[i], sizeof(float)) != 0) bad = i;
                CHECK(bad < 0, "[%s] %s tiles k=%lld m=%lld: y[%lld][%lld] = %.9g, row panels %.9g", level, mllm_type_name(wt),
                      (long long)k, (long long)m, (long long)(bad / ROWS), (long long)(bad % ROWS), bad < 0 ? 0.0 : y[bad],
                      bad < 0 ? 0.0 : yr[bad]);
            }
            free(wf), free(x), free(y), free(yr), free(w), free(wdata);
            mllm_aligned_free(wp);
        }
    }
}

/* Sum of |terms| of 32-element block b of a K-quant row times activation quants qs, in units of
 * d_w d_x, for unit weight scales: sc |q qx| (and m |sum(qx)| for the min term); Q6_K sc |(q-32) qx|. */
static double k_block_terms(int32_t wt, const uint8_t *w, int64_t b, const int8_t *qs, int sum) {
    double t = 0;
    const int e0 = (int)(b % 8) * 32;
    if (wt == MLLM_TYPE_Q6_K) {
        const block_q6_K *blk = (const block_q6_K *)w + b / 8;
        for (int l = 0; l < 32; l++) t += fabs((double)blk->scales[(e0 + l) / 16] * (kq_q6(blk, e0 + l) - 32) * qs[l]);
        return t;
    }
    const uint8_t *sb = w + (size_t)(b / 8) * mllm_type_block_bytes(wt);
    uint8_t sc[8], m[8];
    kq_scales_unpack(sb + 4, sc, m);
    for (int l = 0; l < 32; l++) {
        int q = wt == MLLM_TYPE_Q4_K ? kq_q4(((const block_q4_K *)sb)->qs, e0 + l) : kq_q5((const block_q5_K *)sb, e0 + l);
        t += fabs((double)sc[b % 8] * q * qs[l]);
    }
    return t + m[b % 8] * abs(sum);
}

/* K-quant panels (Q4_K, Q5_K, Q6_K) through the matmul driver on exact data, like check_panel_exact:
 * super-block scales d (and Q4_K / Q5_K dmin) 2^-7, activation blocks led by 127 / 32 (scale exactly
 * 2^-5, every quant the chosen integer), so each term is an integer multiple of 2^-12; the other
 * activations' range is halved until every row's sum of |terms| is below 2^24 such units, so any
 * summing order is exact and kernel and reference must agree bit for bit. Rows at the extremes
 * (Q4_K, Q5_K: all quant and scale bytes 0xff, quants 15 / 31, scales and mins 63, or all quants
 * 0; Q6_K: quants 63 with scales 127, or quants 0 with scales -128) and activation rows of one
 * sign reach large sums; a second pass with small scales (|sc|, m <= 3, extreme rows 1) keeps the bound with
 * activations of full range (+-127 for whole rows), where a kernel's int16 sums would overflow if
 * it widened them too late. 48 rows = 3 panels, 1..9 activation rows (the kernel's 1..4 and the
 * driver's groups of 4 with a remainder), one and two super-blocks. */
static void fill_k_exact_block(int32_t wt, uint8_t *blk, int r, int small) {
    if (wt != MLLM_TYPE_Q6_K) { /* Q4_K, Q5_K: d, dmin, 12 scale bytes, then (qh and) qs */
        for (size_t i = 4; i < (size_t)mllm_type_block_bytes(wt); i++) {
            blk[i] = r % 4 == 0 ? 0xff : r % 4 == 1 && i >= 16 ? 0x00 : (uint8_t)(next_rand() >> 16);
            if (small && i < 16) blk[i] = r % 4 == 0 ? 0x01 : blk[i] & 0x03; /* scales, mins 0..3 */
        }
        blk[0] = 0x00, blk[1] = 0x20, blk[2] = 0x00, blk[3] = 0x20; /* d = dmin = 2^-7 */
        return;
    }
    block_q6_K *b = (block_q6_K *)blk;
    for (size_t i = 0; i < sizeof b->ql + sizeof b->qh; i++) blk[i] = r % 4 == 0 ? 0xff : r % 4 == 1 ? 0x00 : (uint8_t)(next_rand() >> 16);
    const int top = small ? 1 : 127, bottom = small ? -1 : -128;
    for (int i = 0; i < 16; i++)
        b->scales[i] = (int8_t)(r % 4 == 0 ? top : r % 4 == 1 ? bottom : small ? (int)(next_rand() >> 16) % 7 - 3 : (int)(next_rand() >> 24) - 128);
    b->d = 0x2000; /* 2^-7 */
}

static void check_panel_k_exact(const char *level, mllm_threadpool *pool) {
    enum { ROWS = 48, MAXK = 512, MAXM = 9 };
    static const int32_t types[] = {MLLM_TYPE_Q4_K, MLLM_TYPE_Q5_K, MLLM_TYPE_Q6_K};
    static float x[MAXM * MAXK], y[MAXM * ROWS];
    static uint8_t w[ROWS * MAXK], wp[ROWS * MAXK], xq[MAXM][MAXK * 2];
    for (int ti = 0; ti < 3; ti++) {
        const int32_t wt = types[ti], at = mllm_type_traits_of(wt)->vec_dot_type;
        const size_t xbb = mllm_type_block_bytes(at), qs_at = at == MLLM_TYPE_Q8_1 ? 4 : 2;
        CHECK(mllm_cpu_current() != MLLM_CPU_AVX2 || g_kernels->panel[mllm_kernel_slot(wt)] != NULL,
              "[%s] %s has no panel kernel", level, mllm_type_name(wt));
        for (int pass = 0; pass < 4; pass++) {
            const int64_t k = 256 * (1 + pass % 2);
            const int small = pass >= 2;
            const size_t wrb = mllm_type_row_bytes(wt, k), bb = mllm_type_block_bytes(wt);
            for (int r = 0; r < ROWS; r++)
                for (int64_t sb = 0; sb < k / 256; sb++) fill_k_exact_block(wt, w + (size_t)r * wrb + (size_t)sb * bb, r, small);
            mllm_panel_pack(wt, w, k, ROWS, wp);
            for (int64_t m = 1; m <= MAXM; m++) {
                double bound = 0;
                int bound_range = 0;
                for (int range = 127; range >= 1; range /= 2) {
                    bound = 0;
                    bound_range = range;
                    for (int64_t i = 0; i < m; i++) {
                        for (int64_t e = 0; e < k; e++) {
                            int q = e % 32 == 0 ? 127 : i % 3 == 0 ? range : i % 3 == 1 ? -range
                                                                                      : (int)(next_rand() >> 16) % (2 * range + 1) - range;
                            x[i * k + e] = (float)q / 32.0f;
                        }
                        mllm_quantize_row_ref(at, x + i * k, xq[i], k);
                        for (int r = 0; r < ROWS; r++) {
                            double row = 0;
                            for (int64_t b = 0; b < k / 32; b++) {
                                const int8_t *qs = (const int8_t *)(xq[i] + (size_t)b * xbb + qs_at);
                                int sum = 0;
                                for (int l = 0; l < 32; l++) sum += qs[l];
                                row += k_block_terms(wt, w + (size_t)r * wrb, b, qs, sum);
                            }
                            bound = fmax(bound, row);
                        }
                    }
                    if (bound < 16777216.0) break;
                }
                CHECK(bound < 16777216.0, "exactness precondition");
                CHECK(!small || bound_range == 127, "full-range activations with small scales");
                void *wdata = malloc(mllm_matmul_wsize(wt, k, m));
                mm_task t = {wt, wp, ROWS, k, m, x, y, wdata, pool, 1};
                mllm_threadpool_run(pool, mm_run, &t, mllm_threadpool_size(pool));
                int bad = 0;
                for (int64_t i = 0; i < m && !bad; i++)
                    for (int r = 0; r < ROWS && !bad; r++) {
                        const float want = mllm_vec_dot_ref(wt, w + (size_t)r * wrb, xq[i], k);
                        if (y[i * ROWS + r] != want) {
                            CHECK(0, "[%s] %s panels k=%lld m=%lld y[%lld][%d] = %.9g, reference %.9g (exact data)", level,
                                  mllm_type_name(wt), (long long)k, (long long)m, (long long)i, r, y[i * ROWS + r], want);
                            bad = 1;
                        }
                    }
                free(wdata);
            }
        }
    }
}

/* K-quant dot kernels called directly (nx 1..4) on data where every float step is exact: weight
 * scales d = dmin = 2^-7, activation scales 2^-5, so every term is an integer multiple of 2^-12;
 * the activation range is halved until the sum of all terms' magnitudes is below 2^24 units, so
 * every partial sum in any order is exact too. Kernel and reference must then agree bit for bit:
 * this checks the integer paths (lanes, nibble and bit extraction, saturation) exactly, with
 * full-range int8 activations including -128. */
static void check_k_dots_exact(const char *level) {
    static const int32_t kt[] = {MLLM_TYPE_Q4_K, MLLM_TYPE_Q5_K, MLLM_TYPE_Q6_K};
    static const int64_t lens[] = {256, 512, 1280, 4352};
    const mllm_kernels *K = mllm_kernels_for(mllm_cpu_current());
    for (int t = 0; t < 3; t++) {
        const int32_t wt = kt[t], q81 = wt != MLLM_TYPE_Q6_K;
        for (int li = 0; li < 4; li++) {
            const int64_t k = lens[li], nsb = k / 256, nb = k / 32;
            const size_t wbb = (size_t)mllm_type_block_bytes(wt), xbb = q81 ? 36 : 34, xrow = (size_t)nb * xbb;
            const int64_t xdrow = q81 ? MLLM_XD_ROW_Q8_1(k) : MLLM_XD_ROW_Q8_0(k);
            uint8_t *w = malloc(nsb * wbb), *x = malloc(MLLM_DOT_MAX_NX * xrow);
            float *xd = malloc(sizeof(float) * MLLM_DOT_MAX_NX * xdrow);
            double bound = 0; /* largest over the rows of the sum of |terms| in units of 2^-12 */
            for (int range = 128; range >= 1; range /= 2) {
                for (size_t i = 0; i < nsb * wbb; i++) w[i] = (uint8_t)(next_rand() >> 24);
                for (int64_t b = 0; b < nsb; b++) {
                    uint8_t *blk = w + b * wbb;
                    if (q81) blk[0] = 0x00, blk[1] = 0x20, blk[2] = 0x00, blk[3] = 0x20; /* d = dmin = 2^-7 */
                    else blk[208] = 0x00, blk[209] = 0x20;
                }
                bound = 0;
                for (int j = 0; j < MLLM_DOT_MAX_NX; j++) {
                    double row = 0;
                    for (int64_t b = 0; b < nb; b++) {
                        uint8_t *p = x + j * xrow + b * xbb;
                        int8_t *qs = (int8_t *)(p + (q81 ? 4 : 2));
                        int sum = 0;
                        for (int l = 0; l < 32; l++) {
                            qs[l] = (int8_t)((int)(next_rand() % (uint32_t)(2 * range)) - range);
                            sum += qs[l];
                        }
                        mllm_fp16 d = 0x2800, sh = mllm_fp32_to_fp16((float)sum / 32.0f); /* 2^-5, d * sum */
                        memcpy(p, &d, 2);
                        if (q81) memcpy(p + 2, &sh, 2);
                        for (int l = 0; l < MLLM_XD_LANES; l++) xd[j * xdrow + b * MLLM_XD_LANES + l] = 1.0f / 32;
                        if (q81) xd[j * xdrow + MLLM_XD_SUMS(k) + b] = (float)sum / 32; /* the exact sums (kernels.h) */
                        row += k_block_terms(wt, w, b, qs, sum);
                    }
                    bound = fmax(bound, row);
                }
                if (bound < 16777216.0) break;
            }
            CHECK(bound < 16777216.0, "exactness precondition");
            for (int nx = 1; nx <= MLLM_DOT_MAX_NX; nx++) {
                float out[MLLM_DOT_MAX_NX];
                K->dot[mllm_kernel_slot(wt)](k, w, x, xrow, xd, nx, out);
                for (int j = 0; j < nx; j++) {
                    float want = mllm_vec_dot_ref(wt, w, x + j * xrow, k);
                    if (out[j] != want) {
                        CHECK(0, "[%s] %s k=%lld nx=%d row %d: %.9g, reference %.9g (exact data)", level, mllm_type_name(wt),
                              (long long)k, nx, j, out[j], want);
                        nx = MLLM_DOT_MAX_NX + 1;
                        break;
                    }
                }
            }
            free(w); free(x); free(xd);
        }
    }
}

/* The K-quant kernels promise the same bits for a row whatever the call shape: decode (m = 1,
 * through gemv where a level has one) and prompt tiles (dot with nx = 1..4) must agree exactly,
 * so evaluating token by token equals batched evaluation. Random data, 5 weight rows (gemv's
 * pairs and its odd last row). */
static void check_k_tile_bits(const char *level) {
    static const int32_t kt[] = {MLLM_TYPE_Q4_K, MLLM_TYPE_Q5_K, MLLM_TYPE_Q6_K};
    enum { R = 5, K = 512, M = 4 };
    const mllm_kernels *KT = mllm_kernels_for(mllm_cpu_current());
    for (int t = 0; t < 3; t++) {
        const int32_t wt = kt[t];
        const size_t wrb = mllm_type_row_bytes(wt, K);
        const int32_t at = mllm_type_traits_of(wt)->vec_dot_type;
        static float wf[R * K], x[M * K];
        uint8_t *w = malloc(R * wrb);
        for (int i = 0; i < R * K; i++) wf[i] = frand() + 0.2f;
        for (int i = 0; i < M * K; i++) x[i] = frand();
        for (int r = 0; r < R; r++) mllm_quantize_row_ref(wt, wf + r * K, w + r * wrb, K);
        void *w1 = malloc(mllm_matmul_wsize(wt, K, 1)), *wm = malloc(mllm_matmul_wsize(wt, K, M));
        float y1[R], ym[M * R], yd[M];
        for (int j = 0; j < M; j++) { /* decode, one activation row at a time */
            mllm_matmul_prepare(g_kernels, wt, x + j * K, K, K, 1, w1, 0, 1);
            mllm_matmul_compute(g_kernels, wt, w, K, w1, 1, y1, R, 0, R);
            for (int r = 0; r < R; r++) ym[j * R + r] = y1[r];
        }
        mllm_matmul_prepare(g_kernels, wt, x, K, K, M, wm, 0, 1);
        const size_t xrb = mllm_type_row_bytes(at, K);
        const float *xd = (const float *)((const char *)wm + (((size_t)M * xrb + 63) & ~(size_t)63));
        const int64_t xdr = at == MLLM_TYPE_Q8_1 ? MLLM_XD_ROW_Q8_1(K) : MLLM_XD_ROW_Q8_0(K);
        for (int nx = 1; nx <= M; nx++)
            for (int r = 0; r < R; r++)
                for (int j0 = 0; j0 + nx <= M; j0++) {
                    KT->dot[mllm_kernel_slot(wt)](K, w + r * wrb, (const char *)wm + j0 * xrb, xrb, xd + j0 * xdr, nx, yd);
                    for (int j = 0; j < nx; j++)
                        if (yd[j] != ym[(j0 + j) * R + r]) {
                            CHECK(0, "[%s] %s row %d act %d: tile nx=%d gives %.9g, decode %.9g", level, mllm_type_name(wt), r,
                                  j0 + j, nx, yd[j], ym[(j0 + j) * R + r]);
                            nx = M + 1, r = R, j0 = M;
                            break;
                        }
                }
        free(w); free(w1); free(wm);
    }
}

/* The same promise for packed K-quant weights: decode (one activation row per call) and a prompt
 * batch of 7 rows (panel calls of 4 and 3 rows) give the same bits for every row. Random data,
 * 48 rows = 3 panels, two super-blocks. */
static void check_k_panel_bits(const char *level) {
    static const int32_t kt[] = {MLLM_TYPE_Q4_K, MLLM_TYPE_Q5_K, MLLM_TYPE_Q6_K};
    enum { R = 48, K = 512, M = 7 };
    static float wf[R * K], x[M * K], y1[R], ym[M * R];
    for (int t = 0; t < 3; t++) {
        const int32_t wt = kt[t];
        const size_t wrb = mllm_type_row_bytes(wt, K);
        uint8_t *w = malloc(R * wrb), *wp = mllm_aligned_alloc(64, R * wrb);
        for (int i = 0; i < R * K; i++) wf[i] = frand() + 0.2f;
        for (int i = 0; i < M * K; i++) x[i] = frand();
        for (int r = 0; r < R; r++) mllm_quantize_row_ref(wt, wf + r * K, w + r * wrb, K);
        mllm_panel_pack(wt, w, K, R, wp);
        void *w1 = malloc(mllm_matmul_wsize(wt, K, 1)), *wm = malloc(mllm_matmul_wsize(wt, K, M));
        mllm_matmul_prepare(g_kernels, wt, x, K, K, M, wm, 0, 1);
        mllm_matmul_compute_panel(g_kernels, wt, wp, K, wm, M, ym, R, 0, R);
        int bad = 0;
        for (int j = 0; j < M && !bad; j++) {
            mllm_matmul_prepare(g_kernels, wt, x + j * K, K, K, 1, w1, 0, 1);
            mllm_matmul_compute_panel(g_kernels, wt, wp, K, w1, 1, y1, R, 0, R);
            for (int r = 0; r < R && !bad; r++)
                if (y1[r] != ym[j * R + r]) {
                    CHECK(0, "[%s] %s panels row %d act %d: batch gives %.9g, decode %.9g", level, mllm_type_name(wt), r, j,
                          ym[j * R + r], y1[r]);
                    bad = 1;
                }
        }
        free(w); mllm_aligned_free(wp); free(w1); free(wm);
    }
}

/* f32 helpers vs double-precision / reference-conversion oracles, odd lengths for the tails. */
/* One attention head over an f16 cache against a double-precision softmax. Scores reach about +-10
 * (q scaled by 4), so the softmax spans e^-20..1. Tolerance: each score carries <= (hd + 8) eps
 * relative error of sum |q_i k_i| scale (< 1e-4 absolute here) and the exponential a few ulp, so
 * each weight is off by < 2e-4 relative and the output by < 2e-4 max|v|. */
/* One head's attention output against a double-precision softmax over the same f16 rows (the f32
 * kernels get these rows widened, so the same reference and tolerance hold). */
static void check_head(const char *level, const float *q, const uint16_t *k, const uint16_t *v, int stride, int32_t n,
                       int32_t hd, float scale, const float *out, const float *ml, int nq, int h) {
    double w[700], mx = -1e300, sum = 0;
    for (int j = 0; j < n; j++) {
        double d = 0;
        for (int i = 0; i < hd; i++) d += (double)q[i] * mllm_fp16_to_fp32(k[j * stride + i]);
        w[j] = d * scale;
        if (w[j] > mx) mx = w[j];
    }
    for (int j = 0; j < n; j++) sum += (w[j] = exp(w[j] - mx));
    /* the softmax statistics that merge key ranges: scores |s| < 8 computed in float (1e-5), the sum of
     * n <= 700 terms <= 1 with float adds and a few-ulp exponential (n * 2^-24 relative and the scores' error) */
    CHECK(fabs(ml[0] - mx) <= 1e-4 && fabs(ml[1] - sum) <= 2e-4 * sum,
          "[%s] attention hd=%d nq=%d n=%d head %d: max %.7g sum %.7g, reference %.7g %.7g", level, hd, nq, n, h, ml[0], ml[1],
          mx, sum);
    for (int i = 0; i < hd; i++) {
        double o = 0;
        for (int j = 0; j < n; j++) o += w[j] / sum * mllm_fp16_to_fp32(v[j * stride + i]);
        if (!(fabs(out[i] - o) <= 2e-4)) { /* |v| <= 1 */
            CHECK(0, "[%s] attention hd=%d nq=%d n=%d head %d out[%d] = %.7g, reference %.7g", level, hd, nq, n, h, i, out[i], o);
            return;
        }
    }
}

/* SwiGLU against double precision: the exponential (libm's or the SIMD polynomial, a few ulp), the
 * add, divide and multiply keep the result within 8 float roundings: 1e-6 relative. Inputs span
 * the ranges where exp(-g) overflows or vanishes (clamped kernels must still give g * u or 0). */
static void check_swiglu(const char *level) {
    enum { N = 77 };
    float g[N], u[N], y[N];
    for (int i = 0; i < N; i++) { g[i] = 20.0f * frand(); u[i] = 3.0f * frand(); }
    g[0] = -100.0f, g[1] = 100.0f, g[2] = 0.0f, g[3] = -88.0f, g[4] = 89.0f;
    memcpy(y, g, sizeof g);
    g_kernels->swiglu(y, u, N);
    for (int i = 0; i < N; i++) {
        double want = (double)g[i] / (1.0 + exp(-(double)g[i])) * u[i];
        if (!(fabs(y[i] - want) <= 1e-6 * fabs(want) + 1e-37)) {
            CHECK(0, "[%s] swiglu(%.7g, %.7g) = %.9g, reference %.9g", level, g[i], u[i], y[i], want);
            break;
        }
    }
}

/* RoPE pairs: every level gives the scalar level's bits (tails included), and the scalar level is the
 * rotation in double within its three float roundings (two products and a sum: 2^-23 of the
 * terms' magnitudes, with room). */
static void check_rope(const char *level) {
    enum { MAXN = 41 };
    const mllm_kernels *S = mllm_kernels_for(MLLM_CPU_SCALAR);
    float x[2 * MAXN], cs[MAXN], sn[MAXN], got[2 * MAXN], want[2 * MAXN];
    for (int n = 0; n <= MAXN; n++) {
        for (int i = 0; i < MAXN; i++) {
            const double a = 7.0 * frand();
            cs[i] = (float)cos(a), sn[i] = (float)sin(a);
            x[2 * i] = 4.0f * frand(), x[2 * i + 1] = 4.0f * frand();
        }
        memcpy(got, x, sizeof x);
        memcpy(want, x, sizeof x);
        g_kernels->rope_pairs(got, cs, sn, n);
        S->rope_pairs(want, cs, sn, n);
        CHECK(memcmp(got, want, sizeof got) == 0, "[%s] rope_pairs n=%d differs from the scalar level (or wrote past n)", level, n);
        for (int i = 0; i < n; i++) {
            const double x0 = x[2 * i], x1 = x[2 * i + 1];
            const double r0 = x0 * cs[i] - x1 * sn[i], r1 = x0 * sn[i] + x1 * cs[i];
            const double tol = 4.0 * FLT_EPSILON * (fabs(x0) + fabs(x1));
            CHECK(fabs(want[2 * i] - r0) <= tol && fabs(want[2 * i + 1] - r1) <= tol, "[%s] rope_pairs pair %d: (%.9g, %.9g), double gives (%.9g, %.9g)",
                  level, i, want[2 * i], want[2 * i + 1], r0, r1);
        }
    }
}

static void check_attention(const char *level) {
    enum { MAXN = 700, STRIDE = 136 };
    static const int32_t hds[] = {64, 48, 40}, ns[] = {1, 3, 4, 5, 17, 100, MAXN};
    static uint16_t k[MAXN * STRIDE], v[MAXN * STRIDE];
    static float kf[MAXN * STRIDE], vf[MAXN * STRIDE], s[MAXN];
    float q[4 * 128], out[4 * 128], ml[8];
    for (int i = 0; i < MAXN * STRIDE; i++) {
        k[i] = mllm_fp32_to_fp16(frand()), v[i] = mllm_fp32_to_fp16(frand());
        kf[i] = mllm_fp16_to_fp32(k[i]), vf[i] = mllm_fp16_to_fp32(v[i]);
    }
    for (size_t hi = 0; hi < sizeof hds / sizeof hds[0]; hi++) {
        const int32_t hd = hds[hi];
        const float scale = 1.0f / sqrtf((float)hd);
        for (int i = 0; i < 4 * hd; i++) q[i] = 4.0f * frand();
        for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
            const int32_t n = ns[ni];
            g_kernels->attn_f16(q, k, v, STRIDE, n, hd, scale, s, out, ml);
            check_head(level, q, k, v, STRIDE, n, hd, scale, out, ml, 0, 0);
            /* 1..4 query heads over one KV head (levels with that kernel must take them) */
            for (int nq = 1; nq <= 4; nq++) {
                if (!g_kernels->attn_f16_gqa || !g_kernels->attn_f16_gqa(q, nq, k, v, STRIDE, n, hd, scale, out, ml)) {
                    const mllm_cpu_level_t lv = mllm_cpu_current(); /* x86: AVX2 takes hd % 8 == 0, AVX-512 hd % 16 == 0 */
                    CHECK(!mllm_cpu_level_is_x86_simd(lv) || hd % (lv >= MLLM_CPU_AVX512 && lv <= MLLM_CPU_AMX ? 16 : 8) != 0,
                          "[%s] grouped attention kernel refused hd=%d nq=%d", level, hd, nq);
                    continue;
                }
                for (int h = 0; h < nq; h++) check_head(level, q + h * hd, k, v, STRIDE, n, hd, scale, out + h * hd, ml + 2 * h, nq, h);
                /* the same over an f32 cache: levels with the f16 kernel have this one too */
                for (int i = 0; i < nq * hd; i++) out[i] = NAN;
                for (int i = 0; i < 8; i++) ml[i] = NAN;
                CHECK(g_kernels->attn_f32_gqa && g_kernels->attn_f32_gqa(q, nq, kf, vf, STRIDE, n, hd, scale, out, ml),
                      "[%s] grouped f32 attention kernel refused hd=%d nq=%d", level, hd, nq);
                for (int h = 0; h < nq; h++) check_head(level, q + h * hd, k, v, STRIDE, n, hd, scale, out + h * hd, ml + 2 * h, nq, h);
            }
        }
    }
}

static void check_vec_helpers(const char *level) {
    enum { N = 203 };
    float a[N], b[N], y1[N], y2[N];
    uint16_t h[N], h2[N];
    for (int i = 0; i < N; i++) { a[i] = frand(); b[i] = frand() * 3; h[i] = mllm_fp32_to_fp16(frand()); }
    for (int n = 0; n <= N; n += (n < 40 ? 1 : 27)) {
        double d1 = 0, d2 = 0, s1 = 0, s2 = 0;
        for (int i = 0; i < n; i++) {
            d1 += (double)a[i] * b[i]; s1 += fabs((double)a[i] * b[i]);
            float hf = mllm_fp16_to_fp32(h[i]);
            d2 += (double)hf * b[i]; s2 += fabs((double)hf * b[i]);
        }
        /* Float accumulation of n products in >= 1 lane: at most n roundings, each <= eps * S. */
        float t1 = (float)((n + 16) * FLT_EPSILON * s1), t2 = (float)((n + 16) * FLT_EPSILON * s2);
        float g1 = g_kernels->vec_dot_f32(a, b, n), g2 = g_kernels->vec_dot_f16_f32(h, b, n);
        CHECK(fabs(g1 - d1) <= t1, "[%s] vec_dot_f32 n=%d: %.9g vs %.9g", level, n, g1, d1);
        CHECK(fabs(g2 - d2) <= t2, "[%s] vec_dot_f16_f32 n=%d: %.9g vs %.9g", level, n, g2, d2);

        /* axpy: one fma or a multiply and an add per element: <= 2 roundings. */
        memcpy(y1, b, sizeof(b)); memcpy(y2, b, sizeof(b));
        g_kernels->axpy_f32(y1, a, 0.37f, n);
        g_kernels->axpy_f16(y2, h, -1.5f, n);
        for (int i = 0; i < N; i++) {
            double e1 = i < n ? b[i] + 0.37 * a[i] : b[i];
            double e2 = i < n ? b[i] - 1.5 * mllm_fp16_to_fp32(h[i]) : b[i];
            double m1 = fabs(b[i]) + fabs(0.37 * a[i]), m2 = fabs(b[i]) + fabs(1.5 * mllm_fp16_to_fp32(h[i]));
            if (fabs(y1[i] - e1) > 2 * FLT_EPSILON * m1 || fabs(y2[i] - e2) > 2 * FLT_EPSILON * m2) {
                CHECK(0, "[%s] axpy n=%d i=%d", level, n, i);
                break;
            }
        }
        /* sum of squares: every level adds in the documented lane order (element i to lane i % 8,
         * then ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7))), so the bits equal that order's
         * sum written out here; and within n double roundings of the plain sum. */
        double lane[8] = {0}, plain = 0;
        for (int i = 0; i < n; i++) { lane[i % 8] += (double)b[i] * b[i]; plain += (double)b[i] * b[i]; }
        const double order = ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
        const double ss = g_kernels->sum_sq_f32(b, n);
        CHECK(ss == order, "[%s] sum_sq_f32 n=%d: %.17g, lane order gives %.17g", level, n, ss, order);
        CHECK(fabs(ss - plain) <= (n + 1) * DBL_EPSILON * plain, "[%s] sum_sq_f32 n=%d: %.17g vs %.17g", level, n, ss, plain);

        /* f32 -> f16 must be bit-identical to the reference conversion; nothing past n written. */
        memset(h2, 0xAB, sizeof(h2));
        g_kernels->f32_to_f16(h2, b, n);
        for (int i = 0; i < N; i++) {
            uint16_t want = i < n ? mllm_fp32_to_fp16(b[i]) : 0xABAB;
            if (h2[i] != want) { CHECK(0, "[%s] f32_to_f16 n=%d i=%d", level, n, i); break; }
        }
    }
}

/* The level's activation quantizers against the reference bytes on data that random values seldom
 * give: products x * (1/d) halfway between integers (rounded away from zero), the block maximum at
 * either sign, all-zero blocks (d = 0) and values whose scale is an fp16 subnormal. */
static void check_quantizers(const char *level) {
    enum { K = 288 }; /* 9 blocks: quantizers that take several blocks at a time get a tail */
    float x[K];
    block_q8_0 got[K / 32], want[K / 32];
    block_q8_1 got1[K / 32], want1[K / 32];
    /* d = 1 (block max 127): the products are the values, among them the float just below 0.5,
     * which rounds to 0 though adding 0.5 to it in the default rounding gives 1.0 */
    const float edge[] = {127.0f, nextafterf(0.5f, 0.0f), -nextafterf(0.5f, 0.0f), 0.5f, -0.5f, 2.5f, -2.5f,
                          nextafterf(1.5f, 0.0f), nextafterf(0.25f, 0.0f), 126.5f, -126.5f, nextafterf(126.5f, 0.0f)};
    const int n_edge = (int)(sizeof edge / sizeof edge[0]);
    for (int i = 0; i < K; i++) x[i] = i % 32 < n_edge ? edge[i % 32] : (float)(i % 7) - 3.0f;
    g_kernels->quantize_q8_0(x, got, K);
    mllm_quantize_row_ref(MLLM_TYPE_Q8_0, x, want, K);
    CHECK(memcmp(got, want, sizeof got) == 0 && want[0].qs[1] == 0 && want[0].qs[3] == 1 && want[0].qs[4] == -1,
          "[%s] q8_0 quantizer on halfway products", level);
    for (int it = 0; it < 4000; it++) {
        const int mode = it % 4;
        const float amax = (float)(next_rand() % 1000 + 1) / 37.0f, d = amax / 127.0f;
        for (int i = 0; i < K; i++) {
            const int q = (int)(next_rand() % 254) - 127;
            x[i] = mode == 0 ? ((float)q + 0.5f) * d
                 : mode == 1 ? (i % 32 == 0 ? (i % 64 ? -amax : amax) : (float)q * d)
                 : mode == 2 ? (i / 32 % 2 ? 0.0f : frand() * amax)
                             : frand() * 1e-9f;
        }
        g_kernels->quantize_q8_0(x, got, K);
        mllm_quantize_row_ref(MLLM_TYPE_Q8_0, x, want, K);
        g_kernels->quantize_q8_1(x, got1, K);
        mllm_quantize_row_ref(MLLM_TYPE_Q8_1, x, want1, K);
        if (memcmp(got, want, sizeof got) != 0 || memcmp(got1, want1, sizeof got1) != 0) {
            CHECK(0, "[%s] quantizers differ from the reference (data kind %d)", level, mode);
            return;
        }
    }
}

int main(void) {
    mllm_cpu_level_t top = mllm_cpu_detect();
    mllm_cpu_level_t levels[8];
    int n_levels = 0;
    levels[n_levels++] = MLLM_CPU_SCALAR;
    if (top >= MLLM_CPU_NEON) {
        for (int l = MLLM_CPU_NEON; l <= (int)top; l++) levels[n_levels++] = (mllm_cpu_level_t)l;
    } else { /* the ordered x86 levels the CPU has, then avxvnni where it has AVX-VNNI */
        for (int l = MLLM_CPU_AVX2; l <= MLLM_CPU_AMX; l++)
            if (mllm_cpu_level_supported((mllm_cpu_level_t)l)) levels[n_levels++] = (mllm_cpu_level_t)l;
        if (mllm_cpu_level_supported(MLLM_CPU_AVXVNNI)) levels[n_levels++] = MLLM_CPU_AVXVNNI;
    }
    mllm_threadpool *pools[3] = {mllm_threadpool_create(1), mllm_threadpool_create(2), mllm_threadpool_create(3)};
    static const int64_t ks[] = {32, 96, 576, 128}; /* 576, 128: the 4x4 tiles (k % 64 == 0) */
    static const int64_t ks_k[] = {256, 768, 2304, 4352};
    for (int li = 0; li < n_levels; li++) {
        const char *name = mllm_cpu_level_name(levels[li]);
        CHECK(mllm_cpu_set_level_by_name(name) == 0, "set level %s", name);
        g_kernels = mllm_kernels_for(mllm_cpu_current());
        printf("level %s\n", name);
        check_vec_helpers(name);
        check_quantizers(name);
        check_attention(name);
        check_swiglu(name);
        check_rope(name);
        check_k_dots_exact(name);
        check_k_tile_bits(name);
        check_k_panel_bits(name);
        check_panel_exact(name, pools);
        check_tile_bits(name);
        check_panel_k_exact(name, pools[1]);
        for (int ti = 0; ti < N_TYPES; ti++) {
            /* The scalar level's quantized dots are the reference ones: results must match exactly. */
            int exact = levels[li] == MLLM_CPU_SCALAR && !is_float_type(WEIGHT_TYPES[ti]);
            /* K-quants need rows of multiples of 256: from one super-block to 17 */
            const int64_t *kk = is_k_type(WEIGHT_TYPES[ti]) ? ks_k : ks;
            for (int ki = 0; ki < 4; ki++) {
                for (int64_t m = 1; m <= 7; m++)
                    check_matmul(WEIGHT_TYPES[ti], 37, kk[ki], m, pools[m % 3], exact, name);
                check_matmul(WEIGHT_TYPES[ti], 19, kk[ki], 13, pools[2], exact, name);
            }
            /* Panels (q4_0, q5_0, q8_0: k a multiple of 64; K-quants: of 256; whole panels of 16
             * rows): every level runs them, through the panel kernels where the level has them, else
             * by copying rows out. */
            for (int ki = 0; ki < 4; ki++) {
                if (!mllm_panel_supported(WEIGHT_TYPES[ti], kk[ki], 48)) continue;
                for (int64_t m = 1; m <= 9; m++)
                    check_matmul_as(WEIGHT_TYPES[ti], 48, kk[ki], m, pools[m % 3], exact, name, 1);
                /* row panels; AMX tiles for whole groups of 8 rows, the rest on row panels */
                for (int64_t m = 16; m <= 52; m += 12)
                    check_matmul_as(WEIGHT_TYPES[ti], 48, kk[ki], m, pools[m % 3], exact, name, 1);
            }
            /* Float weights take any k: odd lengths exercise the kernels' tails. */
            if (is_float_type(WEIGHT_TYPES[ti]))
                for (int64_t k = 1; k <= 53; k += 13)
                    for (int64_t m = 1; m <= 5; m += 2)
                        check_matmul(WEIGHT_TYPES[ti], 11, k, m, pools[m % 3], 0, name);
        }
    }
    CHECK(mllm_cpu_set_level_by_name(mllm_cpu_level_name(top)) == 0, "restore level");
    for (int i = 0; i < 3; i++) mllm_threadpool_free(pools[i]);
    CHECK(!mllm_matmul_supported(MLLM_TYPE_Q4_0, 48) && mllm_matmul_supported(MLLM_TYPE_F16, 64), "supported checks");
    /* K-quants: rows of whole super-blocks only (576, the MobileLLM-125M width, is not) */
    static const int32_t kt[] = {MLLM_TYPE_Q4_K, MLLM_TYPE_Q5_K, MLLM_TYPE_Q6_K};
    for (int i = 0; i < 3; i++)
        CHECK(mllm_matmul_supported(kt[i], 256) && mllm_matmul_supported(kt[i], 4352) && !mllm_matmul_supported(kt[i], 576) &&
              !mllm_matmul_supported(kt[i], 128) && !mllm_matmul_supported(kt[i], 0) && mllm_matmul_wsize(kt[i], 576, 1) == 0,
              "%s supported lengths", mllm_type_name(kt[i]));
    CHECK(!mllm_matmul_supported(MLLM_TYPE_Q2_K, 256) && !mllm_matmul_supported(MLLM_TYPE_Q8_K, 256), "other k-quants");
    return test_result("test_matmul");
}
