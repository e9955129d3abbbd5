/* Prompt kernels over panels (cpu/panel.h) with AMX-INT8 tiles. The panel layout is already the
 * tile layout AMX wants for its second operand: a block's chunk t (4 bytes of each of 16 rows) is
 * tile row t. Per block, tdpbsud multiplies up to 16 activation rows (signed bytes, loaded
 * straight from the q8_0 rows with their row stride) by the 16 weight rows (unsigned: q8_0 bytes
 * + 128, or q4_0 nibbles expanded to bytes) into a 16x16 int32 tile; AVX-512 then removes the
 * weight offset and applies both scales, one register per activation row, lanes = weight rows. */
#include "cpu/kernels.h"

#if defined(__AMX_TILE__) && defined(__AMX_INT8__) && defined(__AVX512F__) && defined(__AVX512BW__)
#include <immintrin.h>
#include <string.h>

#include "cpu/panel.h"
#include "quant/quant.h"

typedef struct tile_config {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;
_Static_assert(sizeof(tile_config) == 64, "ldtilecfg reads 64 bytes");

/* Two sets of tiles, for even and odd blocks, so one block's products run while the other's are
 * scaled: set e uses C = 3e, A = 3e + 1, B = 3e + 2. C: n x 16 int32; A: n activation rows x 32
 * bytes; B: 8 x 64 bytes. */
static void configure(int n) {
    tile_config c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int e = 0; e < 2; e++) {
        c.rows[3 * e] = (uint8_t)n, c.colsb[3 * e] = 64;
        c.rows[3 * e + 1] = (uint8_t)n, c.colsb[3 * e + 1] = 32;
        c.rows[3 * e + 2] = 8, c.colsb[3 * e + 2] = 64;
    }
    _tile_loadconfig(&c);
}

enum { GROUP = 16,   /* activation rows per tile */
       CHUNK = 16 }; /* blocks whose expanded q4_0 bytes are kept for all activation groups */

/* acc[j] += scales * (C[j] - offset * sum(x_j block b)) for the n rows of a tile. */
static inline void block_epilogue(const int32_t *c, const uint8_t *g, int64_t b, const mllm_xrows *x, int64_t i0, int n,
                                  int shift, __m512 *acc) {
    const __m512 sc = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(g + 32 * (b % 2))));
    for (int j = 0; j < n; j++) {
        const int64_t i = i0 + j;
        __m512i s = _mm512_add_epi32(_mm512_load_si512((const void *)(c + 16 * j)),
                                     _mm512_slli_epi32(_mm512_set1_epi32(x->nsum[i * x->nsum_stride + b]), shift));
        __m512 d = _mm512_mul_ps(sc, _mm512_set1_ps(x->d[i * x->d_stride + b * MLLM_XD_LANES]));
        acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), d, acc[j]);
    }
}

/* q4: expands a block's 4 nibble chunks into 8 byte rows (low nibbles: elements 4t..4t+3, high:
 * 16+4t..16+4t+3, the order of the activation bytes). */
static inline void expand_q4(const uint8_t *q, uint8_t *out) {
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    for (int t = 0; t < 4; t++) {
        __m512i v = _mm512_loadu_si512((const void *)(q + 64 * t));
        _mm512_store_si512((void *)(out + 64 * t), _mm512_and_si512(v, m4));
        _mm512_store_si512((void *)(out + 64 * (4 + t)), _mm512_and_si512(_mm512_srli_epi16(v, 4), m4));
    }
}

/* One block's products into tile set (C, A, B); tile numbers must be literals for the assembler. */
#define TILE_PRODUCT(C, A, B, a, bsrc, cbuf)              \
    do {                                                  \
        _tile_loadd(B, (bsrc), 64);                       \
        _tile_loadd(A, (a), (long)x->q_stride);           \
        _tile_zero(C);                                    \
        _tile_dpbsud(C, A, B);                            \
        _tile_stored(C, (cbuf), 64);                      \
    } while (0)

/* Blocks [b0, b1) of one panel for activation rows [i0, i0 + n), added into acc. */
static inline void panel_blocks(int q4, const uint8_t *panel, size_t gb, size_t qb, const uint8_t *expanded, int64_t b0,
                                int64_t b1, const mllm_xrows *x, int64_t i0, int n, __m512 *acc) {
    _Alignas(64) int32_t c[2][16 * 16];
    const int shift = q4 ? 3 : 7;
    const uint8_t *xa = (const uint8_t *)x->q + (size_t)i0 * x->q_stride + sizeof(mllm_fp16);
    for (int64_t b = b0; b < b1; b += 2) { /* b0 even; the panel has an even block count */
        const uint8_t *g = panel + (size_t)(b / 2) * gb;
        const uint8_t *w0 = q4 ? expanded + (size_t)(b - b0) * 512 : g + 64;
        const uint8_t *w1 = q4 ? w0 + 512 : g + 64 + qb;
        TILE_PRODUCT(0, 1, 2, xa + (size_t)b * sizeof(block_q8_0), w0, c[0]);
        TILE_PRODUCT(3, 4, 5, xa + (size_t)(b + 1) * sizeof(block_q8_0), w1, c[1]);
        block_epilogue(c[0], g, b, x, i0, n, shift, acc);
        block_epilogue(c[1], g, b + 1, x, i0, n, shift, acc);
    }
}

static inline void panel_tiles(int64_t k, const void *w, int64_t n_panels, const mllm_xrows *x, int nx, float *y, int64_t ldy,
                               const int T) {
    const int q4 = T == MLLM_TYPE_Q4_0;
    const int64_t nb = k / 32;
    const size_t qb = q4 ? 256 : 512, gb = 64 + 2 * qb, pb = (size_t)(k / 64) * gb;
    _Alignas(64) uint8_t expanded[CHUNK * 512];
    int configured = -1;
    for (int64_t p = 0; p < n_panels; p++) {
        const uint8_t *panel = (const uint8_t *)w + (size_t)p * pb;
        for (int64_t b0 = 0; b0 < nb; b0 += CHUNK) {
            const int64_t b1 = b0 + CHUNK < nb ? b0 + CHUNK : nb;
            if (q4)
                for (int64_t b = b0; b < b1; b++)
                    expand_q4(panel + (size_t)(b / 2) * gb + 64 + (size_t)(b % 2) * qb, expanded + (size_t)(b - b0) * 512);
            for (int i0 = 0; i0 < nx; i0 += GROUP) {
                const int n = nx - i0 < GROUP ? nx - i0 : GROUP;
                if (n != configured) configure(configured = n);
                float *yp = y + (size_t)i0 * ldy + (size_t)p * MLLM_PANEL_ROWS;
                __m512 acc[GROUP]; /* the output rows carry the sums from one chunk to the next */
                for (int j = 0; j < n; j++) acc[j] = b0 ? _mm512_loadu_ps(yp + (size_t)j * ldy) : _mm512_setzero_ps();
                panel_blocks(q4, panel, gb, qb, expanded, b0, b1, x, i0, n, acc);
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
