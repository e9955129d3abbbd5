/* Per-level kernel table behind matmul.c's dispatch. Each SIMD file (kernels_<isa>.c, compiled
 * with that ISA's flags) fills in the entries it accelerates on top of the lower level's table,
 * so a level only ever calls code its CPU can run.
 *
 * Every ISA writes its kernels the same way. A kernel body is an always-inlined function whose
 * last parameters are compile-time constants: NX (activation rows) and T (the weight type,
 * mllm_type); small helpers switch on T (the weight's quants, scale d, min m of block b), which
 * the compiler folds away. One entry function per (kernel, type) calls the body with NX = 1..4
 * (MLLM_DOT_ENTRY, MLLM_PANEL_ENTRY below; MLLM_PANEL_ENTRY8: 1..8), so every row count gets its
 * own unrolled code. A body shared by two variants of one ISA (AVX-512 with or without VNNI, NEON
 * with or without dotprod) lives in kernels_<isa>_body.h, included by each variant's file after it
 * defines the variant's switch (MLLM_VNNI, MLLM_DOTPROD) and its fill function's name
 * (MLLM_FILL_FN). Names are the same in every ISA: dot_<type>, gemv_<type>, gemm4_<type>,
 * panel_<type>, and the body dot_<family>_n. */
#ifndef MLLM_KERNELS_H
#define MLLM_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu_features.h"

/* Max activation rows one dot kernel call handles (weights are loaded once for all of them). */
#define MLLM_DOT_MAX_NX 4

/* Floats per block in the expanded activation scales: each block's d repeated over 8 lanes so
 * SIMD kernels load ready-made scale vectors instead of converting halves in the inner loop. */
#define MLLM_XD_LANES 8

/* Floats of one activation row's expanded scales (xd). q8_1 rows append, after the lanes, one
 * float per block: d * sum(qs), with the exact integer sum (q8_1's own s is that rounded to half
 * precision, too coarse for the K-quants' min terms, whose reference uses this float). */
#define MLLM_XD_ROW_Q8_0(k) ((k) / 32 * MLLM_XD_LANES)
#define MLLM_XD_ROW_Q8_1(k) ((k) / 32 * (MLLM_XD_LANES + 1))
#define MLLM_XD_SUMS(k) ((k) / 32 * MLLM_XD_LANES) /* where a q8_1 row's block sums start */

/* out[j] = dot(w_row, x + j * x_stride bytes) for j < nx, k elements; x rows are in the weight
 * type's vec_dot_type. For quantized activations xd holds row j's expanded block scales at
 * xd + j * MLLM_XD_ROW_Q8_0(k) resp. MLLM_XD_ROW_Q8_1(k) (fp32 copies of the blocks' d, for q8_1
 * followed by the block sums); NULL for f32 activations. */
typedef void (*mllm_dot_fn)(int64_t k, const void *w_row, const void *x, size_t x_stride,
                            const float *xd, int nx, float *out);
/* Defines the mllm_dot_fn `name` over body(k, w, x, xs, xd, out, NX, T). */
#define MLLM_DOT_ENTRY(name, body, T)                                                                            \
    static void name(int64_t k, const void *w, const void *x, size_t xs, const float *xd, int nx, float *out) { \
        switch (nx) {                                                                                            \
        case 1: body(k, w, x, xs, xd, out, 1, T); break;                                                         \
        case 2: body(k, w, x, xs, xd, out, 2, T); break;                                                         \
        case 3: body(k, w, x, xs, xd, out, 3, T); break;                                                         \
        default: body(k, w, x, xs, xd, out, 4, T); break;                                                        \
        }                                                                                                        \
    }

/* Converts k floats to the activation type (q8_0 / q8_1), bytes identical to the reference. */
typedef void (*mllm_quantize_fn)(const float *x, void *y, int64_t k);

/* Single-row matmul (decode): y[r] = dot(row r of w, x) for r in [r0, r1); w points at row r0 and
 * rows are w_row_bytes apart; x is the q8_0 row and xd its expanded scales (as for dot).
 * aux is the activation row's kernel layout built by mllm_gemv_aux (matmul.c), per pair of
 * blocks b, b+1: 64 activation bytes ordered (b 0..15, b+1 0..15, b 16..31, b+1 16..31), then
 * 16 int32 holding -8 times each 4-byte group's sum (the q4_0 offset), then 16 floats with the
 * blocks' scales in the matching lane order (b x4, b+1 x4, b x4, b+1 x4); a missing last b+1 is
 * zeros. */
typedef void (*mllm_gemv_fn)(int64_t k, const void *w, size_t w_row_bytes, int64_t r0, int64_t r1,
                             const void *x, const float *xd, const void *aux, float *y);
#define MLLM_GEMV_PAIR_BYTES 192

/* 4x4 tile for prompts: out[i * 4 + j] = dot(row i of w, x row j) for i, j < 4; w rows are
 * w_row_bytes apart, x rows (the weight type's vec_dot_type) x_stride apart, xd as for dot with
 * xd_stride floats between rows. Only for k a multiple of 64 (pairs of blocks). */
typedef void (*mllm_gemm4_fn)(int64_t k, const void *w, size_t w_row_bytes, const void *x, size_t x_stride,
                              const float *xd, int64_t xd_stride, float *out);

/* Activation rows for the panel kernels (cpu/panel.h): q8_0 row j at q + j * q_stride bytes, its
 * expanded scales at d + j * d_stride floats (as xd above), the negated sums of its blocks' quants
 * at nsum + j * nsum_stride.
 *
 * q8_0 rows with k a multiple of 64 come interleaved as well, for kernels that take up to
 * MLLM_PANEL_MAX_NX rows per walk (tables with panel_interleaved set): the nx rows of a call
 * side by side per pair of blocks (b = 2g, 2g + 1), so one pointer walks them all and every row
 * sits at a fixed offset from it:
 *   iq    int8 [k/64][nx][64]  row j's quants of blocks 2g then 2g + 1 at iq + (g nx + j) 64,
 *   id    float [k/64][nx][2]  their d (as fp32) at id + (g nx + j) 2 + h (block 2g + h),
 *   insum int32 [k/64][nx][2]  their negated quant sums likewise.
 * Rows are grouped by MLLM_PANEL_MAX_NX from the first (nx is the group's row count, the last
 * group's may be smaller); NULL where k is not a multiple of 64 or the rows start inside a group. */
typedef struct mllm_xrows {
    const void *q;
    size_t q_stride;
    const float *d;
    int64_t d_stride;
    const int32_t *nsum;
    int64_t nsum_stride;
    const int8_t *iq;
    const float *id;
    const int32_t *insum;
} mllm_xrows;
/* Panels of 16 rows (cpu/panel.h), w at the first: y[j * ldy + 16 p + l] = dot(row l of panel p,
 * x row j) for p < n_panels, l < 16, j < nx <= MLLM_PANEL_MAX_NX. */
typedef void (*mllm_panel_fn)(int64_t k, const void *w, int64_t n_panels, const mllm_xrows *x, int nx, float *y,
                              int64_t ldy);
#define MLLM_PANEL_MAX_NX 8
/* The activation rows of x from row j0 on (k elements per row). */
static inline mllm_xrows mllm_xrows_from(const mllm_xrows *x, int64_t j0, int64_t k) {
    mllm_xrows r = *x;
    r.q = (const char *)x->q + (size_t)j0 * x->q_stride;
    r.d += j0 * x->d_stride;
    r.nsum += j0 * x->nsum_stride;
    if (r.iq && j0 % MLLM_PANEL_MAX_NX == 0) { /* earlier groups are full: j0 rows of k quants */
        r.iq += j0 * k;
        r.id += j0 * (k / 32);
        r.insum += j0 * (k / 32);
    } else {
        r.iq = NULL, r.id = NULL, r.insum = NULL;
    }
    return r;
}
/* Defines the mllm_panel_fn `name` over body(k, w, n_panels, x, y, ldy, NX, T) with NX up to 4 (16
 * registers hold no more accumulators): more rows go in groups of 4, each walking the panels again,
 * so callers with more than 4 rows pass one panel at a time (two where the table's panel_pairs is
 * set; cpu/matmul.c) and it stays cached. */
#define MLLM_PANEL_ENTRY(name, body, T)                                                                                \
    static void name(int64_t k, const void *w, int64_t n_panels, const mllm_xrows *x, int nx, float *y, int64_t ldy) { \
        for (int j0 = 0; j0 < nx; j0 += 4) {                                                                           \
            const mllm_xrows xj = mllm_xrows_from(x, j0, k);                                                           \
            float *yj = y + (size_t)j0 * (size_t)ldy;                                                                  \
            switch (nx - j0) {                                                                                         \
            case 1: body(k, w, n_panels, &xj, yj, ldy, 1, T); break;                                                   \
            case 2: body(k, w, n_panels, &xj, yj, ldy, 2, T); break;                                                   \
            case 3: body(k, w, n_panels, &xj, yj, ldy, 3, T); break;                                                   \
            default: body(k, w, n_panels, &xj, yj, ldy, 4, T); break;                                                  \
            }                                                                                                          \
        }                                                                                                              \
    }
/* The same with NX up to MLLM_PANEL_MAX_NX in one walk (32 registers: AVX-512). */
#define MLLM_PANEL_ENTRY8(name, body, T)                                                                               \
    static void name(int64_t k, const void *w, int64_t n_panels, const mllm_xrows *x, int nx, float *y, int64_t ldy) { \
        switch (nx) {                                                                                                  \
        case 1: body(k, w, n_panels, x, y, ldy, 1, T); break;                                                          \
        case 2: body(k, w, n_panels, x, y, ldy, 2, T); break;                                                          \
        case 3: body(k, w, n_panels, x, y, ldy, 3, T); break;                                                          \
        case 4: body(k, w, n_panels, x, y, ldy, 4, T); break;                                                          \
        case 5: body(k, w, n_panels, x, y, ldy, 5, T); break;                                                          \
        case 6: body(k, w, n_panels, x, y, ldy, 6, T); break;                                                          \
        case 7: body(k, w, n_panels, x, y, ldy, 7, T); break;                                                          \
        default: body(k, w, n_panels, x, y, ldy, 8, T); break;                                                         \
        }                                                                                                              \
    }

/* Attention for one KV head (grouped-query): the blocked kernels take nq <= MLLM_ATT_GQA_MAX query
 * heads of up to MLLM_ATT_MAX_HD elements, a multiple of LANES. MLLM_ATTN_ENTRIES defines the
 * table's attn_f16_gqa and attn_f32_gqa (0 for shapes they do not take) and attn_f16 (one head: the
 * blocked kernel, else softmax row by row with the file's vec_dot_f16_f32 and axpy_f16) over
 * body(q, k, v, stride, n, hd, scale, out, ml, NQ, F32); the file includes <math.h>. */
#define MLLM_ATT_GQA_MAX 4
#define MLLM_ATT_MAX_HD 128
#define MLLM_ATTN_GQA_ENTRY(name, body, LANES, T, F32)                                                                      \
    static int name(const float *q, int nq, const T *k, const T *v, size_t stride, int32_t n, int32_t hd, float scale,     \
                    float *out, float *ml) {                                                                               \
        if (hd % (LANES) != 0 || hd > MLLM_ATT_MAX_HD || nq < 1 || nq > MLLM_ATT_GQA_MAX || n < 1) return 0;              \
        switch (nq) {                                                                                                      \
        case 1: body(q, k, v, stride, n, hd, scale, out, ml, 1, F32); break;                                               \
        case 2: body(q, k, v, stride, n, hd, scale, out, ml, 2, F32); break;                                               \
        case 3: body(q, k, v, stride, n, hd, scale, out, ml, 3, F32); break;                                               \
        default: body(q, k, v, stride, n, hd, scale, out, ml, 4, F32); break;                                              \
        }                                                                                                                  \
        return 1;                                                                                                          \
    }
#define MLLM_ATTN_ENTRIES(body, LANES)                                                                                      \
    MLLM_ATTN_GQA_ENTRY(attn_f16_gqa, body, LANES, uint16_t, 0)                                                            \
    MLLM_ATTN_GQA_ENTRY(attn_f32_gqa, body, LANES, float, 1)                                                               \
    static void attn_f16_any(const float *q, const uint16_t *k, const uint16_t *v, size_t stride, int32_t n, int32_t hd,  \
                             float scale, float *s, float *out, float *ml) {                                              \
        if (attn_f16_gqa(q, 1, k, v, stride, n, hd, scale, out, ml)) return;                                               \
        float mx = -INFINITY, sum = 0.0f;                                                                                  \
        for (int32_t j = 0; j < n; j++) {                                                                                  \
            s[j] = vec_dot_f16_f32(k + (size_t)j * stride, q, hd) * scale;                                                 \
            mx = s[j] > mx ? s[j] : mx;                                                                                    \
        }                                                                                                                  \
        for (int32_t j = 0; j < n; j++) {                                                                                  \
            s[j] = expf(s[j] - mx);                                                                                        \
            sum += s[j];                                                                                                   \
        }                                                                                                                  \
        for (int32_t i = 0; i < hd; i++) out[i] = 0.0f;                                                                    \
        for (int32_t j = 0; j < n; j++) axpy_f16(out, v + (size_t)j * stride, s[j], hd);                                  \
        for (int32_t i = 0; i < hd; i++) out[i] *= 1.0f / sum;                                                             \
        if (ml) ml[0] = mx, ml[1] = sum;                                                                                   \
    }

enum { MLLM_KSLOT_F32, MLLM_KSLOT_F16, MLLM_KSLOT_BF16, MLLM_KSLOT_Q8_0, MLLM_KSLOT_Q4_0,
       MLLM_KSLOT_Q4_1, MLLM_KSLOT_Q5_0, MLLM_KSLOT_Q5_1, MLLM_KSLOT_Q4_K, MLLM_KSLOT_Q5_K,
       MLLM_KSLOT_Q6_K, MLLM_KSLOT_COUNT };

typedef struct mllm_kernels {
    mllm_dot_fn dot[MLLM_KSLOT_COUNT];
    mllm_gemv_fn gemv[MLLM_KSLOT_COUNT]; /* optional (NULL: dot is used); q8_0 activations only */
    mllm_gemm4_fn gemm4[MLLM_KSLOT_COUNT]; /* optional (NULL: dot is used) */
    mllm_panel_fn panel[MLLM_KSLOT_COUNT]; /* packed weights; NULL: not packed at this level */
    mllm_panel_fn panel_tiles[MLLM_KSLOT_COUNT]; /* optional (AMX): whole groups of 8 rows, interleaved (mllm_xrows.iq) */
    int panel_interleaved; /* 1: the q4_0/q8_0 panels read the interleaved rows (mllm_xrows.iq) */
    int panel_pairs;       /* 1: the q4_0/q8_0 panels run faster given two panels per call (from 4 rows) */
    /* Tiles over rows unpacked by mllm_unpack_rows (cpu/unpack.h), once per row chunk:
     * value = scale * (q - off) (gemm4u_off) or scale * q + min (gemm4u_min, off 0). */
    void (*gemm4u_off)(int64_t k, const void *w, size_t w_row_bytes, int off, const void *x, size_t x_stride,
                       const float *xd, int64_t xd_stride, float *out);
    void (*gemm4u_min)(int64_t k, const void *w, size_t w_row_bytes, int off, const void *x, size_t x_stride,
                       const float *xd, int64_t xd_stride, float *out);
    void (*gemm4u_min_s)(int64_t k, const void *w, size_t w_row_bytes, int off, const void *x, size_t x_stride,
                         const float *xd, int64_t xd_stride, float *out);
    mllm_quantize_fn quantize_q8_0;
    mllm_quantize_fn quantize_q8_1;
    float (*vec_dot_f32)(const float *a, const float *b, int64_t n);
    float (*vec_dot_f16_f32)(const uint16_t *a, const float *b, int64_t n);
    void (*axpy_f16)(float *y, const uint16_t *x, float a, int64_t n);
    void (*axpy_f32)(float *y, const float *x, float a, int64_t n);
    /* sum of x[i]^2 in double, added in the order of mllm_sum_sq_finish at every level (so RMS norms
     * give the same bits at every level) */
    double (*sum_sq_f32)(const float *x, int64_t n);
    /* q8_0 rows (n a multiple of 32; the KV cache's q8_0 type): dot with f32 values, and y += a * x */
    float (*vec_dot_q8_0_f32)(const void *x, const float *y, int64_t n);
    void (*axpy_q8_0)(float *y, const void *x, float a, int64_t n);
    void (*f32_to_f16)(uint16_t *dst, const float *src, int64_t n);
    /* g[i] = silu(g[i]) * u[i] */
    void (*swiglu)(float *g, const float *u, int64_t n);
    /* RoPE: rotates the pairs (x[2i], x[2i+1]), i < n, by the angles whose cos and sin are cs[i] and
     * sn[i]: (x0 cs - x1 sn, x0 sn + x1 cs), each product rounded (no fused multiply-add), so every
     * level gives the same bits */
    void (*rope_pairs)(float *x, const float *cs, const float *sn, int64_t n);
    /* One head of causal attention over an f16 cache: s[j] = scale * dot(q, k_j) for j < n
     * (k_j = k + j * stride elements), softmax, out = sum_j p_j v_j (v_j likewise); s holds n
     * floats of scratch. Unless ml is NULL, ml[0] = max_j s[j] and ml[1] = sum_j exp(s[j] - ml[0]):
     * what merging the results of several key ranges needs. */
    void (*attn_f16)(const float *q, const uint16_t *k, const uint16_t *v, size_t stride, int32_t n, int32_t hd,
                     float scale, float *s, float *out, float *ml);
    /* Optional: nq query heads (q and out hd floats apart) over the same KV head, as attn_f16 for
     * each (ml: 2 per head, or NULL); returns 0 (nothing done) for shapes it does not take. */
    int (*attn_f16_gqa)(const float *q, int nq, const uint16_t *k, const uint16_t *v, size_t stride, int32_t n, int32_t hd,
                        float scale, float *out, float *ml);
    /* Optional: the same over an f32 cache (k, v and stride in floats). */
    int (*attn_f32_gqa)(const float *q, int nq, const float *k, const float *v, size_t stride, int32_t n, int32_t hd,
                        float scale, float *out, float *ml);
} mllm_kernels;

/* The order of every sum_sq_f32: element i is added to lane i % 8 (eight double lanes, kept by the
 * vector levels in registers up to the last full 8 elements, i0 here); then the tail, then the
 * lanes in one fixed tree. */
static inline double mllm_sum_sq_finish(double lane[8], const float *x, int64_t i0, int64_t n) {
    for (int64_t i = i0; i < n; i++) lane[(i - i0) & 7] += (double)x[i] * x[i];
    return ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
}

/* Kernel slot of a weight type, -1 if no matmul exists for it. */
int mllm_kernel_slot(int32_t wt);
/* Table for a level (levels without own kernels use the nearest lower one). Never NULL. */
const mllm_kernels *mllm_kernels_for(mllm_cpu_level_t level);

void mllm_kernels_fill_scalar(mllm_kernels *k);
#if defined(__x86_64__) || defined(_M_X64)
void mllm_kernels_fill_avx2(mllm_kernels *k);
void mllm_kernels_fill_avx512(mllm_kernels *k);
void mllm_kernels_fill_vnni(mllm_kernels *k);
void mllm_kernels_fill_k_avx2(mllm_kernels *k);   /* K-quant dots: kernels_k_avx2.c */
void mllm_kernels_fill_k_avx512(mllm_kernels *k); /* kernels_k_avx512.c */
void mllm_kernels_fill_k_vnni(mllm_kernels *k);   /* kernels_k_vnni.c */
void mllm_kernels_fill_panel_avx2(mllm_kernels *k); /* kernels_panel_avx2.c */
void mllm_kernels_fill_panel_avxvnni(mllm_kernels *k); /* kernels_panel_avxvnni.c */
void mllm_kernels_fill_panel_vnni(mllm_kernels *k); /* kernels_panel_vnni.c */
void mllm_kernels_fill_panel_amx(mllm_kernels *k);  /* kernels_panel_amx.c */
#endif
#if defined(__aarch64__)
void mllm_kernels_fill_neon(mllm_kernels *k);         /* kernels_neon.c */
void mllm_kernels_fill_neon_dotprod(mllm_kernels *k); /* kernels_neon_dotprod.c (+dotprod) */
#endif

#endif
