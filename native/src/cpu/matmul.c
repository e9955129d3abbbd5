/* Matmul driver: converts activations once (prepare), then walks weight rows in cache-sized
 * chunks, feeding each weight row to a dot kernel together with up to MLLM_DOT_MAX_NX
 * activation rows so prompt processing reuses every weight load. */
#include "cpu/matmul.h"

#include <stdlib.h>
#include <string.h>

#include "cpu/panel.h"
#include "cpu/unpack.h"
#include "platform/memory.h"
#include "platform/threads.h"
#include "quant/fp16_inline.h"
#include "quant/quant.h"

/* Weight rows per chunk: small enough that the chunk stays in L1/L2 while all activation rows
 * pass over it. */
#define ROW_CHUNK 16

/* Per-thread buffers: unpacked row chunks (cpu/unpack.h) and rows copied out of panels (the
 * fallback in mllm_matmul_compute_panel). Allocated on a thread's first use and freed when the
 * thread exits (a large static TLS array could break dlopen). */
enum { SCRATCH_UNPACK, SCRATCH_PANEL, N_SCRATCH };
static mllm_tls_key g_scratch_key[N_SCRATCH];
static int g_scratch_ok;
static mllm_once g_scratch_once = MLLM_ONCE_INIT;
static void scratch_key_init(void) {
    g_scratch_ok = 1;
    for (int i = 0; i < N_SCRATCH; i++)
        if (mllm_tls_create(&g_scratch_key[i], mllm_aligned_free) != 0) g_scratch_ok = 0;
}
typedef struct scratch_buf { size_t cap; _Alignas(64) uint8_t data[]; } scratch_buf;
static uint8_t *thread_scratch(int which, size_t bytes) {
    mllm_once_run(&g_scratch_once, scratch_key_init);
    if (!g_scratch_ok) return NULL;
    scratch_buf *b = mllm_tls_get(g_scratch_key[which]);
    if (b && b->cap >= bytes) return b->data;
    scratch_buf *nb = mllm_aligned_alloc(64, sizeof *nb + bytes);
    if (!nb || mllm_tls_set(g_scratch_key[which], nb) != 0) {
        mllm_aligned_free(nb);
        return NULL; /* callers fall back or report */
    }
    mllm_aligned_free(b);
    nb->cap = bytes;
    return nb->data;
}

int mllm_matmul_supported(int32_t wt, int64_t k) {
    const mllm_type_traits *t = mllm_type_traits_of(wt);
    return t && t->supported && mllm_kernel_slot(wt) >= 0 && k > 0 && k % t->block_size == 0 &&
           k % mllm_type_traits_of(t->vec_dot_type)->block_size == 0;
}

static int32_t act_type(int32_t wt) { return mllm_type_traits_of(wt)->vec_dot_type; }

/* wdata layout: m activation rows of the reference bytes, then (for q8_0/q8_1 activations) each
 * row's expanded block scales, MLLM_XD_LANES floats per block (q8_1: then the blocks' exact sums,
 * kernels.h), starting 64-byte aligned; then (q8_0) each row's negated block sums for the panel
 * kernels (int32 per block); then, for a single q8_0 row, the gemv layout (64-byte aligned). */
static int has_scales(int32_t at) { return at == MLLM_TYPE_Q8_0 || at == MLLM_TYPE_Q8_1; }
static size_t rows_bytes(int32_t at, int64_t k, int64_t m) {
    return ((size_t)m * mllm_type_row_bytes(at, k) + 63) & ~(size_t)63;
}
static int64_t scales_per_row(int32_t at, int64_t k) { return at == MLLM_TYPE_Q8_1 ? MLLM_XD_ROW_Q8_1(k) : MLLM_XD_ROW_Q8_0(k); }
static size_t nsum_offset(int32_t at, int64_t k, int64_t m) {
    return rows_bytes(at, k, m) + (has_scales(at) ? (size_t)m * (size_t)scales_per_row(at, k) * sizeof(float) : 0);
}
static size_t nsum_bytes(int32_t at, int64_t k, int64_t m) {
    return at == MLLM_TYPE_Q8_0 ? (size_t)m * (size_t)(k / 32) * sizeof(int32_t) : 0;
}

/* q8_0 rows of k a multiple of 64 are also stored interleaved in groups (mllm_xrows, kernels.h):
 * m * k quant bytes, then m * k/32 scales and m * k/32 negated sums. */
static int has_interleaved(int32_t at, int64_t k) { return at == MLLM_TYPE_Q8_0 && k % 64 == 0; }
static size_t interleaved_offset(int32_t at, int64_t k, int64_t m) {
    return (nsum_offset(at, k, m) + nsum_bytes(at, k, m) + 63) & ~(size_t)63;
}
static size_t interleaved_bytes(int32_t at, int64_t k, int64_t m) {
    return has_interleaved(at, k) ? (size_t)m * (size_t)k + 2 * (size_t)m * (size_t)(k / 32) * sizeof(int32_t) : 0;
}

/* Single-row conversions of q8_0 activations also get the gemv layout (kernels.h). */
static int has_aux(int32_t at, int64_t m) { return m == 1 && at == MLLM_TYPE_Q8_0; }
static size_t aux_offset(int32_t at, int64_t k, int64_t m) {
    return (interleaved_offset(at, k, m) + interleaved_bytes(at, k, m) + 63) & ~(size_t)63;
}
static size_t aux_bytes(int64_t k) { return (size_t)((k / 32 + 1) / 2) * MLLM_GEMV_PAIR_BYTES; }

size_t mllm_matmul_wsize(int32_t wt, int64_t k, int64_t m) {
    if (!mllm_matmul_supported(wt, k) || m < 0) return 0;
    int32_t at = act_type(wt);
    if (has_aux(at, m)) return aux_offset(at, k, m) + aux_bytes(k);
    return interleaved_offset(at, k, m) + interleaved_bytes(at, k, m);
}

/* The three parts of the interleaved layout in wdata (m rows of k): quants, scales, negated sums. */
typedef struct { int8_t *iq; float *id; int32_t *insum; } interleaved_parts;
static interleaved_parts interleaved_in(const void *wdata, int32_t at, int64_t k, int64_t m) {
    char *inter = (char *)wdata + interleaved_offset(at, k, m);
    const size_t quants = (size_t)m * (size_t)k, scales = (size_t)m * (size_t)(k / 32) * sizeof(float);
    return (interleaved_parts){(int8_t *)inter, (float *)(inter + quants), (int32_t *)(inter + quants + scales)};
}

/* What the kernels read beside row i (of m) of q8_0 blocks x, in one pass over its blocks: the
 * expanded scales xd, the negated block sums and, given p, the row's place in the
 * interleaved layout (kernels.h, mllm_xrows). */
static void finish_q8_0_row(const block_q8_0 *x, float *xd, int32_t *nsum, int64_t k, int64_t m, int64_t i,
                            const interleaved_parts *p /* NULL: no interleaved layout */) {
    const int64_t nb = k / 32, g0 = i / MLLM_PANEL_MAX_NX * MLLM_PANEL_MAX_NX, j = i - g0;
    const int64_t n = m - g0 < MLLM_PANEL_MAX_NX ? m - g0 : MLLM_PANEL_MAX_NX; /* rows of i's group */
    int8_t *iq = p ? p->iq + (size_t)g0 * (size_t)k : NULL;
    float *id = p ? p->id + g0 * nb : NULL;
    int32_t *insum = p ? p->insum + g0 * nb : NULL;
    for (int64_t b = 0; b < nb; b++) {
        const float d = mllm_fp16_to_fp32_inline(x[b].d);
        for (int l = 0; l < MLLM_XD_LANES; l++) xd[b * MLLM_XD_LANES + l] = d;
        int32_t sum = 0;
        for (int l = 0; l < QK8_0; l++) sum += x[b].qs[l];
        nsum[b] = -sum;
        if (!p) continue;
        const int64_t at = (b / 2 * n + j) * 2 + b % 2;
        memcpy(iq + at * 32, x[b].qs, 32);
        id[at] = d;
        insum[at] = -sum;
    }
}

/* Builds the gemv layout of one q8_0 row (portable code: the bytes do not depend on the level). */
static void build_gemv_aux(const block_q8_0 *x, int64_t k, uint8_t *aux) {
    const int64_t nb = k / 32;
    for (int64_t p = 0; p < (nb + 1) / 2; p++) {
        int8_t *xp = (int8_t *)(aux + (size_t)p * MLLM_GEMV_PAIR_BYTES);
        int32_t c[16];
        float d[16];
        for (int h = 0; h < 2; h++) {           /* element halves 0..15, 16..31 */
            for (int j = 0; j < 2; j++) {       /* blocks b, b+1 */
                int64_t b = 2 * p + j;
                int8_t *dst = xp + h * 32 + j * 16;
                float db = 0.0f;
                if (b < nb) {
                    memcpy(dst, x[b].qs + h * 16, 16);
                    db = mllm_fp16_to_fp32(x[b].d);
                } else {
                    memset(dst, 0, 16);
                }
                for (int l = 0; l < 4; l++) d[h * 8 + j * 4 + l] = db;
            }
        }
        for (int l = 0; l < 16; l++) c[l] = -8 * (xp[4 * l] + xp[4 * l + 1] + xp[4 * l + 2] + xp[4 * l + 3]);
        memcpy(xp + 64, c, sizeof c);
        memcpy(xp + 128, d, sizeof d);
    }
}

void mllm_matmul_prepare_rows(const mllm_kernels *K, int32_t wt, const float *x, int64_t ldx, int64_t k, int64_t m, void *wdata,
                              int64_t i0, int64_t i1) {
    if (!mllm_matmul_supported(wt, k)) return; /* the engine validates types at load */
    int32_t at = act_type(wt);
    size_t xrb = mllm_type_row_bytes(at, k);
    float *scales = (float *)((char *)wdata + rows_bytes(at, k, m));
    for (int64_t i = i0; i < i1; i++) {
        char *dst = (char *)wdata + (size_t)i * xrb;
        const float *src = x + (i - i0) * ldx;
        if (at == MLLM_TYPE_Q8_0) K->quantize_q8_0(src, dst, k);
        else if (at == MLLM_TYPE_Q8_1) K->quantize_q8_1(src, dst, k);
        else memcpy(dst, src, (size_t)k * sizeof(float));
        if (!has_scales(at)) continue;
        float *xd = scales + i * scales_per_row(at, k);
        if (at == MLLM_TYPE_Q8_0) {
            const interleaved_parts p = K->panel_interleaved && has_interleaved(at, k) ? interleaved_in(wdata, at, k, m)
                                                                                        : (interleaved_parts){0};
            int32_t *nsum = (int32_t *)((char *)wdata + nsum_offset(at, k, m)) + i * (k / 32);
            finish_q8_0_row((const block_q8_0 *)dst, xd, nsum, k, m, i, p.iq ? &p : NULL);
        } else { /* q8_1: as the K-quant reference dots compute it */
            for (int64_t b = 0; b < k / 32; b++) {
                const block_q8_1 *blk = (const block_q8_1 *)dst + b;
                const float d = mllm_fp16_to_fp32_inline(blk->d);
                for (int l = 0; l < MLLM_XD_LANES; l++) xd[b * MLLM_XD_LANES + l] = d;
                int sum = 0;
                for (int l = 0; l < QK8_1; l++) sum += blk->qs[l];
                xd[MLLM_XD_SUMS(k) + b] = (float)sum * d;
            }
        }
        if (has_aux(at, m)) build_gemv_aux((const block_q8_0 *)dst, k, (uint8_t *)wdata + aux_offset(at, k, m));
    }
}

void mllm_matmul_prepare(const mllm_kernels *K, int32_t wt, const float *x, int64_t ldx, int64_t k, int64_t m,
                         void *wdata, int ith, int nth) {
    if (nth < 1) return;
    int64_t i0 = m * ith / nth, i1 = m * (ith + 1) / nth;
    mllm_matmul_prepare_rows(K, wt, x + i0 * ldx, ldx, k, m, wdata, i0, i1);
}

void mllm_matmul_compute(const mllm_kernels *K, int32_t wt, const void *w, int64_t k, const void *wdata, int64_t m, float *y,
                         int64_t ldy, int64_t row_begin, int64_t row_end) {
    if (!mllm_matmul_supported(wt, k)) return; /* never index the kernel table with slot -1 */
    mllm_dot_fn dot = K->dot[mllm_kernel_slot(wt)];
    int32_t at = act_type(wt);
    size_t wrb = mllm_type_row_bytes(wt, k), xrb = mllm_type_row_bytes(at, k);
    mllm_gemv_fn gemv = K->gemv[mllm_kernel_slot(wt)];
    if (gemv && has_aux(at, m)) {
        if (row_begin < row_end)
            gemv(k, (const char *)w + (size_t)row_begin * wrb, wrb, row_begin, row_end, wdata,
                 (const float *)((const char *)wdata + rows_bytes(at, k, m)),
                 (const char *)wdata + aux_offset(at, k, m), y);
        return;
    }
    const float *scales = has_scales(at) ? (const float *)((const char *)wdata + rows_bytes(at, k, m)) : NULL;
    float out[MLLM_DOT_MAX_NX];
    mllm_gemm4_fn gemm4 = k % 64 == 0 && MLLM_DOT_MAX_NX == 4 ? K->gemm4[mllm_kernel_slot(wt)] : NULL;
    const int64_t spr = scales_per_row(at, k);
    int unp_off = 0, unp_min = 0;
    const int unp_ok = k % 64 == 0 && MLLM_DOT_MAX_NX == 4 && mllm_unpack_info(wt, &unp_off, &unp_min);
    void (*unp_fn)(int64_t, const void *, size_t, int, const void *, size_t, const float *, int64_t, float *) =
        unp_ok ? (unp_min == 2 ? K->gemm4u_min_s : unp_min ? K->gemm4u_min : K->gemm4u_off) : NULL;
    const size_t unp_rb = unp_ok ? mllm_unpack_row_bytes(wt, k) : 0;
    for (int64_t r0 = row_begin; r0 < row_end; r0 += ROW_CHUNK) {
        int64_t r1 = r0 + ROW_CHUNK < row_end ? r0 + ROW_CHUNK : row_end;
        /* 8+ activation rows: unpack the chunk's quants and scales once, then tile over them */
        uint8_t *unpacked = NULL;
        if (unp_fn && m >= 8) {
            unpacked = thread_scratch(SCRATCH_UNPACK, ROW_CHUNK * unp_rb);
            if (unpacked) mllm_unpack_rows(wt, (const char *)w + (size_t)r0 * wrb, wrb, r1 - r0, k, unpacked);
        }
        for (int64_t i0 = 0; i0 < m; i0 += MLLM_DOT_MAX_NX) {
            int nx = m - i0 < MLLM_DOT_MAX_NX ? (int)(m - i0) : MLLM_DOT_MAX_NX;
            const char *xs = (const char *)wdata + (size_t)i0 * xrb;
            const float *xd = scales ? scales + i0 * spr : NULL;
            int64_t r = r0;
            if (unpacked && nx == 4) {
                float t[16];
                for (; r + 4 <= r1; r += 4) {
                    unp_fn(k, unpacked + (size_t)(r - r0) * unp_rb, unp_rb, unp_off, xs, xrb, xd, spr, t);
                    for (int i = 0; i < 4; i++)
                        for (int j = 0; j < 4; j++) y[(i0 + j) * ldy + r + i] = t[i * 4 + j];
                }
            } else if (gemm4 && nx == 4) {
                float t[16];
                for (; r + 4 <= r1; r += 4) {
                    gemm4(k, (const char *)w + (size_t)r * wrb, wrb, xs, xrb, xd, spr, t);
                    for (int i = 0; i < 4; i++)
                        for (int j = 0; j < 4; j++) y[(i0 + j) * ldy + r + i] = t[i * 4 + j];
                }
            }
            for (; r < r1; r++) {
                dot(k, (const char *)w + (size_t)r * wrb, xs, xrb, xd, nx, out);
                for (int j = 0; j < nx; j++) y[(i0 + j) * ldy + r] = out[j];
            }
        }
    }
}

/* Rows [lo, hi) of packed weights with the reference dot, one block at a time (no allocation). */
static void panel_ref(int32_t wt, const void *w, int64_t k, const void *xq, size_t xrb, int64_t m, float *y, int64_t ldy,
                      int64_t lo, int64_t hi) {
    const int64_t bs = mllm_type_traits_of(wt)->block_size; /* K-quants: one super-block */
    const size_t xb = mllm_type_traits_of(act_type(wt))->block_bytes * (size_t)(bs / 32);
    uint8_t blk[256];
    for (int64_t r = lo; r < hi; r++) {
        for (int64_t i = 0; i < m; i++) {
            float sum = 0.0f;
            for (int64_t b = 0; b < k / bs; b++) {
                mllm_panel_block(wt, w, k, r, b, blk);
                sum += mllm_vec_dot_ref(wt, blk, (const char *)xq + (size_t)i * xrb + (size_t)b * xb, bs);
            }
            y[i * ldy + r] = sum;
        }
    }
}

/* Fewest activation rows for the tile kernels (AMX): one full group of MLLM_PANEL_MAX_NX rows. A tile
 * product moves its weights and results through memory, which fewer rows do not repay (bench_kernels,
 * q4_0, against the row panels: 4 rows 0.75x, 8 rows 1.0-1.25x, 64 and more 1.3-1.5x; 2-core Xeon,
 * docs/performance.md). */
#define MLLM_TILES_MIN_ROWS MLLM_PANEL_MAX_NX

void mllm_matmul_compute_panel(const mllm_kernels *K, int32_t wt, const void *w, int64_t k, const void *wdata, int64_t m,
                               float *y, int64_t ldy, int64_t row_begin, int64_t row_end) {
    if (!mllm_matmul_supported(wt, k) || !mllm_panel_supported(wt, k, MLLM_PANEL_ROWS)) return;
    const mllm_panel_fn fn = K->panel[mllm_kernel_slot(wt)];
    const mllm_panel_fn tiles = m >= MLLM_TILES_MIN_ROWS && m <= INT32_MAX ? K->panel_tiles[mllm_kernel_slot(wt)] : NULL;
    const int32_t at = act_type(wt);
    const size_t pb = MLLM_PANEL_ROWS * mllm_type_row_bytes(wt, k);
    mllm_xrows x = {.q = wdata,
                    .q_stride = mllm_type_row_bytes(at, k),
                    .d = (const float *)((const char *)wdata + rows_bytes(at, k, m)),
                    .d_stride = scales_per_row(at, k),
                    .nsum = (const int32_t *)((const char *)wdata + nsum_offset(at, k, m)),
                    .nsum_stride = k / 32};
    if (K->panel_interleaved && has_interleaved(at, k)) {
        const interleaved_parts p = interleaved_in(wdata, at, k, m);
        x.iq = p.iq, x.id = p.id, x.insum = p.insum;
    }
    for (int64_t p = row_begin / MLLM_PANEL_ROWS; p * MLLM_PANEL_ROWS < row_end; p++) {
        const int64_t r0 = p * MLLM_PANEL_ROWS, lo = row_begin > r0 ? row_begin : r0;
        const int64_t hi = row_end < r0 + MLLM_PANEL_ROWS ? row_end : r0 + MLLM_PANEL_ROWS;
        const char *wp = (const char *)w + (size_t)p * pb;
        if (fn && lo == r0 && hi == r0 + MLLM_PANEL_ROWS) {
            if (m == 1) { /* decode: every whole panel of the range in one call */
                int64_t n = (row_end - r0) / MLLM_PANEL_ROWS;
                fn(k, wp, n, &x, 1, y + r0, ldy);
                p += n - 1;
                continue;
            }
            if (tiles && x.iq) { /* whole groups of rows with tiles, the range's whole panels in one call */
                const int64_t n = (row_end - r0) / MLLM_PANEL_ROWS, mt = m / MLLM_PANEL_MAX_NX * MLLM_PANEL_MAX_NX;
                tiles(k, wp, n, &x, (int)mt, y + r0, ldy);
                if (mt < m) { /* the last few rows: row panels */
                    const mllm_xrows xi = mllm_xrows_from(&x, mt, k);
                    fn(k, wp, n, &xi, (int)(m - mt), y + mt * ldy + r0, ldy);
                }
                p += n - 1;
                continue;
            }
            /* two whole panels where the kernels share activation loads between them */
            const int64_t np = K->panel_pairs && row_end >= r0 + 2 * MLLM_PANEL_ROWS ? 2 : 1;
            for (int64_t i0 = 0; i0 < m; i0 += MLLM_PANEL_MAX_NX) {
                const mllm_xrows xi = mllm_xrows_from(&x, i0, k);
                int nx = m - i0 < MLLM_PANEL_MAX_NX ? (int)(m - i0) : MLLM_PANEL_MAX_NX;
                fn(k, wp, np, &xi, nx, y + i0 * ldy + r0, ldy);
            }
            p += np - 1;
            continue;
        }
        /* no panel kernel at this level (or a partial panel): copy the rows out, use the row kernels */
        uint8_t *rows = thread_scratch(SCRATCH_PANEL, pb);
        if (!rows) { /* no memory for the copy: block by block through the reference dot */
            panel_ref(wt, w, k, x.q, x.q_stride, m, y, ldy, lo, hi);
            continue;
        }
        for (int64_t r = lo; r < hi; r++) mllm_panel_row(wt, w, k, r, rows + (size_t)(r - r0) * (pb / MLLM_PANEL_ROWS));
        mllm_matmul_compute(K, wt, rows, k, wdata, m, y + r0, ldy, lo - r0, hi - r0);
    }
}

void mllm_matmul_ref(int32_t wt, const void *w, int64_t n_rows, int64_t k, const float *x, int64_t ldx,
                     int64_t m, float *y, int64_t ldy) {
    if (!mllm_matmul_supported(wt, k)) return;
    int32_t at = act_type(wt);
    size_t wrb = mllm_type_row_bytes(wt, k);
    void *xq = malloc(mllm_type_row_bytes(at, k));
    if (!xq) return; /* test-only oracle: callers size k sensibly */
    for (int64_t i = 0; i < m; i++) {
        mllm_quantize_row_ref(at, x + i * ldx, xq, k);
        for (int64_t r = 0; r < n_rows; r++)
            y[i * ldy + r] = mllm_vec_dot_ref(wt, (const char *)w + (size_t)r * wrb, xq, k);
    }
    free(xq);
}
