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

/* tile 0: C, n x 16 int32; tile 1: A, n activation rows x 32 bytes; tile 2: B, 8 x 64 bytes */
static void configure(int n) {
    tile_config c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    c.rows[0] = (uint8_t)n, c.colsb[0] = 64;
    c.rows[1] = (uint8_t)n, c.colsb[1] = 32;
    c.rows[2] = 8, c.colsb[2] = 64;
    _tile_loadconfig(&c);
}

enum { GROUP = 16 }; /* activation rows per tile */

/* acc[j] += scales * (C[j] - offset * sum(x_j block b)) for the n rows of the tile. */
static inline void block_epilogue(const int32_t *c, __m512 sc, int64_t b, const mllm_xrows *x, int i0, int n, int shift,
                                  __m512 *acc) {
    for (int j = 0; j < n; j++) {
        const int64_t i = i0 + j;
        __m512i s = _mm512_add_epi32(_mm512_load_si512((const void *)(c + 16 * j)),
                                     _mm512_slli_epi32(_mm512_set1_epi32(x->nsum[i * x->nsum_stride + b]), shift));
        __m512 d = _mm512_mul_ps(sc, _mm512_set1_ps(x->d[i * x->d_stride + b * MLLM_XD_LANES]));
        acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), d, acc[j]);
    }
}

/* q4: expand a block's 4 nibble chunks into 8 byte rows (low nibbles: elements 4t..4t+3, high:
 * 16+4t..16+4t+3, the order of the activation bytes). */
static inline void expand_q4(const uint8_t *q, uint8_t *out) {
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    for (int t = 0; t < 4; t++) {
        __m512i v = _mm512_loadu_si512((const void *)(q + 64 * t));
        _mm512_store_si512((void *)(out + 64 * t), _mm512_and_si512(v, m4));
        _mm512_store_si512((void *)(out + 64 * (4 + t)), _mm512_and_si512(_mm512_srli_epi16(v, 4), m4));
    }
}

static inline void panel_tiles(int q4, int64_t k, const void *w, int64_t n_panels, const mllm_xrows *x, int nx, float *y,
                               int64_t ldy) {
    const int64_t nb = k / 32;
    const size_t qb = q4 ? 256 : 512, gb = 64 + 2 * qb, pb = (size_t)(k / 64) * gb;
    const int shift = q4 ? 3 : 7;
    _Alignas(64) int32_t c[16 * 16];
    _Alignas(64) uint8_t bq[8 * 64];
    int configured = -1;
    for (int64_t p = 0; p < n_panels; p++) {
        const uint8_t *panel = (const uint8_t *)w + (size_t)p * pb;
        for (int i0 = 0; i0 < nx; i0 += GROUP) {
            const int n = nx - i0 < GROUP ? nx - i0 : GROUP;
            if (n != configured) configure(configured = n);
            __m512 acc[GROUP];
            for (int j = 0; j < n; j++) acc[j] = _mm512_setzero_ps();
            const uint8_t *xa = (const uint8_t *)x->q + (size_t)i0 * x->q_stride + sizeof(mllm_fp16);
            for (int64_t b = 0; b < nb; b++) {
                const uint8_t *g = panel + (size_t)(b / 2) * gb;
                const uint8_t *q = g + 64 + (size_t)(b % 2) * qb;
                if (q4) {
                    expand_q4(q, bq);
                    _tile_loadd(2, bq, 64);
                } else {
                    _tile_loadd(2, q, 64);
                }
                _tile_loadd(1, xa + (size_t)b * sizeof(block_q8_0), (long)x->q_stride);
                _tile_zero(0);
                _tile_dpbsud(0, 1, 2);
                _tile_stored(0, c, 64);
                block_epilogue(c, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(g + 32 * (b % 2)))), b, x, i0, n,
                               shift, acc);
            }
            for (int j = 0; j < n; j++)
                _mm512_storeu_ps(y + (size_t)(i0 + j) * ldy + (size_t)p * MLLM_PANEL_ROWS, acc[j]);
        }
    }
    _tile_release(); /* hands the tile state back (smaller context switches) */
}

static void tiles_q4_0(int64_t k, const void *w, int64_t n_panels, const mllm_xrows *x, int nx, float *y, int64_t ldy) {
    panel_tiles(1, k, w, n_panels, x, nx, y, ldy);
}
static void tiles_q8_0(int64_t k, const void *w, int64_t n_panels, const mllm_xrows *x, int nx, float *y, int64_t ldy) {
    panel_tiles(0, k, w, n_panels, x, nx, y, ldy);
}

void mllm_kernels_fill_panel_amx(mllm_kernels *k) {
    k->panel_tiles[MLLM_KSLOT_Q4_0] = tiles_q4_0;
    k->panel_tiles[MLLM_KSLOT_Q8_0] = tiles_q8_0;
}
#elif defined(__x86_64__) || defined(_M_X64)
void mllm_kernels_fill_panel_amx(mllm_kernels *k) { (void)k; }
#endif
