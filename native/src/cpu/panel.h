/* Panel layout: the CPU backend's load-time repacking of q4_0, q5_0, q8_0 and the K-quants Q4_K,
 * Q5_K, Q6_K. Sixteen consecutive rows form a panel, stored block by block with the rows interleaved, so
 * one 512-bit register holds 4 quant bytes of each of the 16 rows and a matmul kernel produces 16
 * outputs per lane-wise integer dot product: no horizontal sums, no shuffles, each activation group
 * broadcast once for 16 rows.
 *
 * A panel of k elements (k a multiple of 64) is k/64 groups, one per pair of blocks (2p, 2p+1):
 *   32 bytes   the 16 rows' fp16 scales d of block 2p (row l at 2l),
 *   32 bytes   the same for block 2p+1,
 *   Q bytes    block 2p's quants in chunks of 64 bytes, chunk t holding bytes 4t..4t+3 of each
 *              row's qs (row l at 4l): q4_0 Q = 256 (4 chunks, nibbles as in qs), q8_0 Q = 512
 *              (8 chunks, each byte stored as qs + 128, so the kernels multiply unsigned weights
 *              by signed activations and subtract 128 * sum(x) per block), q5_0 Q = 320 (one
 *              chunk of qh words, then the 4 chunks of qs as for q4_0; a row's qh word is
 *              reordered so that bit k of byte i holds the fifth bit of element 4k + i and bit
 *              4 + k that of element 16 + 4k + i: chunk t's fifth bits are then bits t and 4 + t
 *              of every byte, one shift away from bit 4),
 *   Q bytes    block 2p+1's quants likewise.
 * Q4_K panels (k a multiple of 256) hold one group per super-block s, 16 * 144 bytes:
 *   32 bytes   the 16 rows' fp16 d (row l at 2l),  32 bytes  their fp16 dmin likewise,
 *   192 bytes  the packed 6-bit scales and mins as three 4-byte words per row: word w of row l at
 *              64 w + 4 l (a row's scales bytes 4w..4w+3), so each lane unpacks its row's scales,
 *   2048 bytes the quants: for each 32-byte run c of qs (sub-blocks 2c in the low nibbles, 2c+1 in
 *              the high ones) 8 chunks of 64 bytes, chunk t holding bytes 4t..4t+3 of each row's
 *              run (row l at 4l).
 * Q5_K panels are Q4_K's with the 32 qh bytes of each row between scales and quants: 512 bytes, 8
 *              chunks of 64 as above (group of 16 * 176 bytes).
 * Q6_K panels (k a multiple of 256) hold one group per super-block, 16 * 210 bytes:
 *   2048 bytes ql: for each 32-byte run r of ql, 8 chunks of 64 bytes as above (bytes 4t..4t+3 of
 *              each row's run, row l at 4l),
 *   1024 bytes qh: its two 32-byte runs likewise,
 *   256 bytes  the int8 scales as four 4-byte words per row (word w of row l at 64 w + 4 l),
 *   32 bytes   the 16 rows' fp16 d.
 * A panel takes exactly 16 rows' bytes, every group is 64-byte aligned when the tensor is (Q6_K's
 * groups of 3360 bytes: 32-byte aligned), and row r of a packed tensor lies in panel r / 16. */
#ifndef MLLM_PANEL_H
#define MLLM_PANEL_H

#include <stddef.h>
#include <stdint.h>

#define MLLM_PANEL_ROWS 16
/* How far ahead the panel kernels prefetch a panel, in groups (4.6 KB for q4_0): the hardware
 * prefetcher alone leaves single-row matmuls at about 70% of the speed they reach with it, once the
 * weights no longer fit in the caches (AVX2: 125M q4_0, 1 thread; AVX-512 VNNI: the 600M and 1B
 * shapes on a 16-core Xeon); several sequences' decode steps need it as much (125M q4_0, 8 rows,
 * AVX-512 VNNI EPYC: 31% faster with it). */
#define MLLM_PANEL_PREFETCH_GROUPS 8
/* Panels walked against 4 or more activation rows (several sequences' decode steps; the AVX-512 VNNI
 * kernels' panel pairs) fetch further ahead, into L2: 1.07-1.10x (125M q4_0) and 1.06-1.09x (350M
 * q4_0) the aggregate decode rate of 8 sequences over 8 groups into L1 (Zen 5 EPYC, 2 threads). */
#define MLLM_PANEL_PREFETCH_GROUPS_MANY 32

/* 1 if a tensor of type wt with rows of k elements and n_rows rows can be packed. */
int mllm_panel_supported(int32_t wt, int64_t k, int64_t n_rows);

/* Packs n_rows rows (row-major, ggml block layout) into panels at dst (same byte count).
 * src and dst must not overlap. */
void mllm_panel_pack(int32_t wt, const void *src, int64_t k, int64_t n_rows, void *dst);

/* Copies row r of a packed tensor back into ggml's block layout (row bytes at dst). */
void mllm_panel_row(int32_t wt, const void *packed, int64_t k, int64_t r, void *dst);

/* Copies block b (of the type's block size: 256 elements for Q4_K) of row r of a packed tensor into
 * ggml's layout (block bytes at dst). */
void mllm_panel_block(int32_t wt, const void *packed, int64_t k, int64_t r, int64_t b, void *dst);

#endif
