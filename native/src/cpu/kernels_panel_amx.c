/* Matmul kernels over panels (cpu/panel.h) with AMX-INT8 tiles, for 8 and more activation rows
 * (prompts, decode steps of several sequences). The panel layout is already the tile layout AMX wants
 * for its second operand: a block's chunk t (4 bytes of each of 16 rows) is tile row t. Per block, a
 * tile product multiplies a group of up to 8 activation rows (the interleaved q8_0 rows,
 * mllm_xrows.iq) by the 16 weight rows into an 8x16 int32 tile: weights expanded to signed bytes
 * (tdpbssd), or for a decode step's q8_0 weights, straight from the panel as the unsigned bytes stored
 * there (tdpbsud, the offset taken off with the rows' block sums, as the row panels do). AVX-512 then
 * applies both scales, one register per activation row, lanes = weight rows. */
#include "cpu/kernels.h"

#if defined(__AMX_TILE__) && defined(__AMX_INT8__) && defined(__AVX512F__) && defined(__AVX512BW__)
#include <immintrin.h>
#include <string.h>

#include "cpu/panel.h"
#include "cpu/simd_x86_common.h"
#include "quant/quant.h"

typedef struct tile_config {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;
_Static_assert(sizeof(tile_config) == 64, "ldtilecfg reads 64 bytes");

/* Tiles: A0, A1 (blocks 2q and 2q + 1 of n activation rows, 32 bytes each), B0, B1 (the two blocks'
 * weights, 8 x 64 bytes), and two sets of int32 results, C0 C1 and C2 C3 (n x 16). */
#define A0 0
#define A1 1
#define B0 2
#define B1 3
#define C0 4
#define C1 5
#define C2 6
#define C3 7
static void configure(int n) {
    tile_config c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int t = A0; t <= A1; t++) c.rows[t] = (uint8_t)n, c.colsb[t] = 32;
    for (int t = B0; t <= B1; t++) c.rows[t] = 8, c.colsb[t] = 64;
    for (int t = C0; t <= C3; t++) c.rows[t] = (uint8_t)n, c.colsb[t] = 64;
    _tile_loadconfig(&c);
}

enum { GROUP = MLLM_PANEL_MAX_NX, /* activation rows per tile: one group of the interleaved rows */
       MAX_CHUNK = 12 };          /* block pairs whose expanded weights a prompt's groups share */

/* A block's weights as signed bytes, 8 tile rows of 64 (row t: elements 4t..4t+3 of the 16 weight
 * rows, the order of the activation bytes): q4_0 nibbles - 8 (low nibbles of chunk t are elements
 * 4t.., high ones 16+4t..), q8_0 bytes stored + 128 back to qs. Signed weights make each tile
 * product the block's exact integer sum, with no offset left to take off. */
MLLM_INLINE void expand_block(int q4, const uint8_t *q, uint8_t *out) {
    const __m512i m4 = _mm512_set1_epi8(0x0f), k8 = _mm512_set1_epi8(8), k80 = _mm512_set1_epi8((char)0x80);
    if (q4)
        for (int t = 0; t < 4; t++) {
            const __m512i v = _mm512_loadu_si512((const void *)(q + 64 * t));
            _mm512_store_si512((void *)(out + 64 * t), _mm512_sub_epi8(_mm512_and_si512(v, m4), k8));
            _mm512_store_si512((void *)(out + 64 * (4 + t)), _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(v, 4), m4), k8));
        }
    else
        for (int t = 0; t < 8; t++)
            _mm512_store_si512((void *)(out + 64 * t), _mm512_xor_si512(_mm512_loadu_si512((const void *)(q + 64 * t)), k80));
}

/* acc[j] += (block scales * row j's scale) * C[j] for both blocks of pair group g, rows j < n (the
 * row-panel kernels' integer sums and float operations in their order, so the same bits). direct: C[j]
 * holds sum(x * (w + 128)) of q8_0's stored bytes, and xn has the rows' negated block sums
 * (mllm_xrows.insum, 2 per row). */
MLLM_INLINE void pair_epilogue(int direct, const int32_t c[2][16 * 16], const uint8_t *g, const float *xd, const int32_t *xn, int n,
                               __m512 *acc) {
    for (int h = 0; h < 2; h++) {
        const __m512 sc = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(g + 32 * h)));
        for (int j = 0; j < n; j++) {
            const __m512 d = _mm512_mul_ps(sc, _mm512_set1_ps(xd[2 * j + h]));
            __m512i dot = _mm512_load_si512((const void *)(c[h] + 16 * j));
            if (direct) dot = _mm512_add_epi32(dot, _mm512_set1_epi32(xn[2 * j + h] * 128));
            acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), d, acc[j]);
        }
    }
}

/* Stores result set e (0: C0 C1, 1: C2 C3) to buf; tile numbers must be literals for the assembler. */
static inline void store_set(int e, int32_t buf[2][16 * 16]) {
    if (e == 0) {
        _tile_stored(C0, buf[0], 64);
        _tile_stored(C1, buf[1], 64);
    } else {
        _tile_stored(C2, buf[0], 64);
        _tile_stored(C3, buf[1], 64);
    }
}

/* A pair's products into result set (CA, CB), the weights' two blocks 512 bytes apart from w:
 * signed (DOT tdpbssd) or unsigned (tdpbsud). */
#define PAIR_PRODUCTS(DOT, CA, CB, a, w) \
    do {                                 \
        _tile_loadd(B0, (w), 64);        \
        _tile_loadd(A0, (a), 64);        \
        _tile_zero(CA);                  \
        DOT(CA, A0, B0);                 \
        _tile_loadd(B1, (w) + 512, 64);  \
        _tile_loadd(A1, (a) + 32, 64);   \
        _tile_zero(CB);                  \
        DOT(CB, A1, B1);                 \
    } while (0)

/* Pair products into result set e while the other set, the pair before's, is stored to prev (none for
 * the first pair). w: the expanded weights, or direct, the q8_0 panel's first block. */
MLLM_INLINE void pair_step(int direct, int e, const int8_t *a, const uint8_t *w, int32_t (*prev)[16 * 16]) {
    if (!direct) {
        if (e == 0) PAIR_PRODUCTS(_tile_dpbssd, C0, C1, a, w);
        else PAIR_PRODUCTS(_tile_dpbssd, C2, C3, a, w);
    } else {
        if (e == 0) PAIR_PRODUCTS(_tile_dpbsud, C0, C1, a, w);
        else PAIR_PRODUCTS(_tile_dpbsud, C2, C3, a, w);
    }
    if (prev) store_set(!e, prev);
}

/* Readies pair group t of the panel(s) at w (t >= ng: the next panels', ng * gb bytes apart): fetches
 * ahead and, unless direct, expands it into slot. */
MLLM_INLINE void expand_pair(int q4, int direct, const uint8_t *w, size_t gb, int64_t t, uint8_t *slot) {
    /* the weights come from memory: fetch ahead into L2, as the row panels do for several rows
     * (panel.h; 1.1x at 8 rows with the weights streamed, bench_kernels --stream) */
    for (size_t c = 0; c < gb; c += 64)
        _mm_prefetch((const char *)w + (size_t)(t + MLLM_PANEL_PREFETCH_GROUPS_MANY) * gb + c, _MM_HINT_T1);
    if (!direct)
        for (int h = 0; h < 2; h++) expand_block(q4, w + (size_t)t * gb + 64 + (size_t)h * (q4 ? 256 : 512), slot + 512 * h);
}

/* The weights pair_step reads for pair group t: the expanded slot, or direct, the panel's bytes. */
MLLM_INLINE const uint8_t *pair_weights(int direct, const uint8_t *w, size_t gb, int64_t t, const uint8_t *slot) {
    return direct ? w + (size_t)t * gb + 64 : slot;
}

enum { AHEAD = 2, /* pairs expanded ahead of their products */
       RING = 4 };  /* slots cycled through by a walk through all panels (a power of 2 > AHEAD + 1:
                     * a slot is rewritten after its tile load) */

/* Pair groups [q0, q1) of one panel against one group of n <= 8 interleaved activation rows x, added
 * into acc. The weights of pair q are in slot q - q0 of `expanded`; with expand, this walk fills them,
 * AHEAD pairs in front of the products, so the vector units expand while the tile unit multiplies;
 * without, an earlier group's walk did. Pair q's products run while pair q - 1's results are stored
 * and pair q - 2's are scaled: results read back right after their tile store stall the loop (the
 * tile unit works in order). */
MLLM_INLINE void panel_pairs(int q4, const uint8_t *panel, size_t gb, uint8_t *expanded, int expand, int64_t q0, int64_t q1,
                             const mllm_xrows *x, int n, __m512 *acc) {
    _Alignas(64) int32_t c[3][2][16 * 16];
    if (expand)
        for (int64_t q = q0; q < q1 && q < q0 + AHEAD; q++) expand_pair(q4, 0, panel, gb, q, expanded + (size_t)(q - q0) * 1024);
    for (int64_t q = q0; q < q1; q++) {
        pair_step(0, (int)((q - q0) % 2), x->iq + (size_t)q * 64 * n, expanded + (size_t)(q - q0) * 1024, q > q0 ? c[(q - 1) % 3] : NULL);
        if (expand && q + AHEAD < q1) expand_pair(q4, 0, panel, gb, q + AHEAD, expanded + (size_t)(q + AHEAD - q0) * 1024);
        if (q - 2 >= q0)
            pair_epilogue(0, (const int32_t(*)[256])c[(q - 2) % 3], panel + (size_t)(q - 2) * gb, x->id + (size_t)(q - 2) * 2 * n, NULL,
                          n, acc);
    }
    store_set((int)((q1 - 1 - q0) % 2), c[(q1 - 1) % 3]);
    for (int64_t q = q1 - 2 > q0 ? q1 - 2 : q0; q < q1; q++)
        pair_epilogue(0, (const int32_t(*)[256])c[q % 3], panel + (size_t)q * gb, x->id + (size_t)q * 2 * n, NULL, n, acc);
}

/* All pairs of n_panels panels against one group of n <= 8 rows (a decode step of several sequences):
 * panel_pairs' pipeline without a break between panels (a decode step's row chunk of 4-8 panels of
 * 9 pairs would spend a fifth of its pairs filling and draining it), q4_0 weights expanded into a
 * ring of slots, q8_0 ones read where they are (1.1x the expanded ones at 8 rows, bench_kernels;
 * prompts expand them once for all their groups). Kept apart from panel_pairs: its per-pair panel
 * bookkeeping costs prompts 10-20%. */
MLLM_INLINE void group_stream(int q4, const uint8_t *w, int64_t n_panels, int64_t ng, size_t gb, const mllm_xrows *x, int n, float *y,
                              int64_t ldy) {
    _Alignas(64) int32_t c[3][2][16 * 16];
    _Alignas(64) uint8_t ring[RING * 1024];
    const int64_t total = n_panels * ng; /* pair t: panel t / ng, pair group t % ng (panels are ng * gb apart) */
    const int direct = !q4;
    int64_t qt = 0, ps = 0, qs = 0;     /* pair t's pair group; pair t - 2's panel and pair group */
    __m512 acc[GROUP];
    for (int j = 0; j < n; j++) acc[j] = _mm512_setzero_ps();
    for (int64_t t = 0; t < total && t < AHEAD; t++) expand_pair(q4, direct, w, gb, t, ring + (size_t)(t % RING) * 1024);
    for (int64_t t = 0; t <= total + 1; t++) {
        if (t < total) {
            pair_step(direct, (int)(t % 2), x->iq + (size_t)qt * 64 * n, pair_weights(direct, w, gb, t, ring + (size_t)(t % RING) * 1024),
                      t ? c[(t - 1) % 3] : NULL);
            if (t + AHEAD < total) expand_pair(q4, direct, w, gb, t + AHEAD, ring + (size_t)((t + AHEAD) % RING) * 1024);
            if (++qt == ng) qt = 0;
        } else if (t == total) {
            store_set((int)((t - 1) % 2), c[(t - 1) % 3]);
        }
        if (t < 2) continue;
        pair_epilogue(direct, (const int32_t(*)[256])c[(t - 2) % 3], w + (size_t)(t - 2) * gb, x->id + (size_t)qs * 2 * n,
                      x->insum + (size_t)qs * 2 * n, n, acc);
        if (++qs == ng) { /* the panel's last pair: its outputs are done */
            float *yp = y + (size_t)ps * MLLM_PANEL_ROWS;
            for (int j = 0; j < n; j++) _mm512_storeu_ps(yp + (size_t)j * ldy, acc[j]), acc[j] = _mm512_setzero_ps();
            qs = 0, ps++;
        }
    }
}

/* One group of rows (a decode step): one walk through all panels. More groups (prompts): panel by
 * panel, a chunk of block pairs at a time, whose weights the first group expands and every group
 * reuses. */
MLLM_INLINE void panel_tiles(int64_t k, const void *w, int64_t n_panels, const mllm_xrows *x, int nx, float *y, int64_t ldy,
                             const int T) {
    const int q4 = T == MLLM_TYPE_Q4_0;
    const int64_t ng = k / 64;
    const size_t qb = q4 ? 256 : 512, gb = 64 + 2 * qb, pb = (size_t)ng * gb;
    if (nx <= GROUP) {
        configure(nx);
        /* a full group with n known to the compiler: the sums stay in registers */
        if (nx == GROUP) group_stream(q4, w, n_panels, ng, gb, x, GROUP, y, ldy);
        else group_stream(q4, w, n_panels, ng, gb, x, nx, y, ldy);
        _tile_release();
        return;
    }
    const int64_t n_chunks = (ng + MAX_CHUNK - 1) / MAX_CHUNK, per = (ng + n_chunks - 1) / n_chunks;
    _Alignas(64) uint8_t expanded[MAX_CHUNK * 1024];
    int configured = -1;
    for (int64_t p = 0; p < n_panels; p++) {
        const uint8_t *panel = (const uint8_t *)w + (size_t)p * pb;
        for (int64_t q0 = 0; q0 < ng; q0 += per) {
            const int64_t q1 = q0 + per < ng ? q0 + per : ng;
            for (int i0 = 0; i0 < nx; i0 += GROUP) {
                const int n = nx - i0 < GROUP ? nx - i0 : GROUP;
                if (n != configured) configure(configured = n);
                const mllm_xrows xi = mllm_xrows_from(x, i0, k);
                float *yp = y + (size_t)i0 * ldy + (size_t)p * MLLM_PANEL_ROWS;
                __m512 acc[GROUP]; /* the output rows carry the sums from one chunk to the next */
                for (int j = 0; j < n; j++) acc[j] = q0 ? _mm512_loadu_ps(yp + (size_t)j * ldy) : _mm512_setzero_ps();
                if (n == GROUP) panel_pairs(q4, panel, gb, expanded, i0 == 0, q0, q1, &xi, GROUP, acc);
                else panel_pairs(q4, panel, gb, expanded, i0 == 0, q0, q1, &xi, n, acc);
                for (int j = 0; j < n; j++) _mm512_storeu_ps(yp + (size_t)j * ldy, acc[j]);
            }
        }
    }
    _tile_release(); /* hands the tile state back (smaller context switches) */
}

static void tiles_q4_0(int64_t k, const void *w, int64_t n_panels, const mllm_xrows *x, int nx, float *y, int64_t ldy) {
    panel_tiles(k, w, n_panels, x, nx, y, ldy, MLLM_TYPE_Q4_0);
}
static void tiles_q8_0(int64_t k, const void *w, int64_t n_panels, const mllm_xrows *x, int nx, float *y, int64_t ldy) {
    panel_tiles(k, w, n_panels, x, nx, y, ldy, MLLM_TYPE_Q8_0);
}

void mllm_kernels_fill_panel_amx(mllm_kernels *k) {
    k->panel_tiles[MLLM_KSLOT_Q4_0] = tiles_q4_0;
    k->panel_tiles[MLLM_KSLOT_Q8_0] = tiles_q8_0;
}
#elif defined(__x86_64__) || defined(_M_X64)
void mllm_kernels_fill_panel_amx(mllm_kernels *k) { (void)k; }
#endif
