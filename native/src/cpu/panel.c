/* Panel packing (cpu/panel.h): portable byte shuffling, the same at every kernel level. */
#include "cpu/panel.h"

#include <string.h>

#include "quant/quant.h"

/* bytes after d per block and per row (q5_0: qh, then qs), and the XOR applied to each stored byte */
static int qs_bytes(int32_t wt) {
    return wt == MLLM_TYPE_Q4_0 ? QK4_0 / 2 : wt == MLLM_TYPE_Q5_0 ? 4 + QK5_0 / 2 : wt == MLLM_TYPE_Q8_0 ? QK8_0 : 0;
}
static uint8_t flip(int32_t wt) { return wt == MLLM_TYPE_Q8_0 ? 0x80 : 0x00; }

int mllm_panel_supported(int32_t wt, int64_t k, int64_t n_rows) {
    const int k_quant = wt == MLLM_TYPE_Q4_K || wt == MLLM_TYPE_Q5_K || wt == MLLM_TYPE_Q6_K;
    const int64_t unit = k_quant ? QK_K : 64;
    return (qs_bytes(wt) > 0 || k_quant) && k > 0 && k % unit == 0 && n_rows > 0 && n_rows % MLLM_PANEL_ROWS == 0;
}

/* Byte offsets inside one block pair's group. */
static size_t group_bytes(int32_t wt) { return 64 + 2 * (size_t)MLLM_PANEL_ROWS * (size_t)qs_bytes(wt); }
static size_t quant_offset(int32_t wt, int j /* block of the pair */) {
    return 64 + (size_t)j * MLLM_PANEL_ROWS * (size_t)qs_bytes(wt);
}

/* Row l's block b of a panel: where its d and its qs bytes 4t..4t+3 live. */
static uint8_t *d_at(int32_t wt, uint8_t *panel, int64_t b, int l) {
    return panel + (size_t)(b / 2) * group_bytes(wt) + (size_t)(b % 2) * 32 + (size_t)l * 2;
}
static uint8_t *q_at(int32_t wt, uint8_t *panel, int64_t b, int l, int t) {
    return panel + (size_t)(b / 2) * group_bytes(wt) + quant_offset(wt, (int)(b % 2)) + (size_t)t * 64 + (size_t)l * 4;
}

/* q5_0's qh (panel.h) in either order: bit 4k + i of the block's word (element 4k + i's fifth bit)
 * is bit k of byte i in the panel, bit 16 + 4k + i is bit 4 + k of byte i. */
static int qh_panel_bit(int block_bit) {
    const int high = block_bit >> 4, k = (block_bit & 15) >> 2, i = block_bit & 3;
    return 8 * i + 4 * high + k;
}
static void move_qh(uint8_t *in_panel, uint8_t *in_block, int to_panel) {
    const uint8_t *src = to_panel ? in_block : in_panel;
    uint8_t out[4] = {0, 0, 0, 0};
    for (int bit = 0; bit < 32; bit++) { /* bit: the block word's bit, in its little-endian bytes */
        const int from = to_panel ? bit : qh_panel_bit(bit), to = to_panel ? qh_panel_bit(bit) : bit;
        if (src[from / 8] >> (from % 8) & 1) out[to / 8] |= (uint8_t)(1u << (to % 8));
    }
    memcpy(to_panel ? in_panel : in_block, out, 4);
}

/* One block of one row, either direction; the XOR is its own inverse. */
static void copy_block(int32_t wt, uint8_t *panel, int64_t b, int l, uint8_t *blk, int to_panel) {
    const int qb = qs_bytes(wt);
    const uint8_t x = flip(wt);
    uint8_t *d = d_at(wt, panel, b, l), *qs = blk + sizeof(mllm_fp16); /* the quant bytes follow d in every block type */
    if (to_panel) memcpy(d, blk, sizeof(mllm_fp16));
    else memcpy(blk, d, sizeof(mllm_fp16));
    for (int t = 0; t < qb / 4; t++) {
        uint8_t *q = q_at(wt, panel, b, l, t);
        if (wt == MLLM_TYPE_Q5_0 && t == 0) {
            move_qh(q, qs, to_panel);
            continue;
        }
        for (int i = 0; i < 4; i++) {
            if (to_panel) q[i] = qs[4 * t + i] ^ x;
            else qs[4 * t + i] = q[i] ^ x;
        }
    }
}

static void move_bytes(uint8_t *in_panel, uint8_t *in_block, size_t n, int to_panel) {
    if (to_panel) memcpy(in_panel, in_block, n);
    else memcpy(in_block, in_panel, n);
}

/* Q4_K / Q5_K (panel.h): super-block s of row l, either direction. Both block layouts start with
 * d, dmin and the scales; Q5_K's qh follows, then qs. */
static void copy_block_q45_k(int32_t wt, uint8_t *panel, int64_t s, int l, uint8_t *blk, int to_panel) {
    const int five = wt == MLLM_TYPE_Q5_K;
    const size_t bb = five ? sizeof(block_q5_K) : sizeof(block_q4_K), qs_at = five ? 768 : 256;
    uint8_t *g = panel + (size_t)s * MLLM_PANEL_ROWS * bb, *qh = five ? ((block_q5_K *)blk)->qh : NULL;
    uint8_t *qs = five ? ((block_q5_K *)blk)->qs : ((block_q4_K *)blk)->qs;
    move_bytes(g + 2 * l, blk, 2, to_panel);           /* d */
    move_bytes(g + 32 + 2 * l, blk + 2, 2, to_panel);  /* dmin */
    for (int w = 0; w < K_SCALE_BYTES / 4; w++) move_bytes(g + 64 + 64 * w + 4 * l, blk + 4 + 4 * w, 4, to_panel);
    for (int t = 0; five && t < 8; t++) move_bytes(g + 256 + 64 * t + 4 * l, qh + 4 * t, 4, to_panel);
    for (int c = 0; c < 4; c++)
        for (int t = 0; t < 8; t++) move_bytes(g + qs_at + 512 * c + 64 * t + 4 * l, qs + 32 * c + 4 * t, 4, to_panel);
}

/* Q6_K (panel.h): super-block s of row l, either direction. */
static void copy_block_q6_k(uint8_t *panel, int64_t s, int l, uint8_t *blk, int to_panel) {
    block_q6_K *b = (block_q6_K *)blk;
    uint8_t *g = panel + (size_t)s * MLLM_PANEL_ROWS * sizeof(block_q6_K);
    for (int r = 0; r < 4; r++)
        for (int t = 0; t < 8; t++) move_bytes(g + 512 * r + 64 * t + 4 * l, b->ql + 32 * r + 4 * t, 4, to_panel);
    for (int r = 0; r < 2; r++)
        for (int t = 0; t < 8; t++) move_bytes(g + 2048 + 512 * r + 64 * t + 4 * l, b->qh + 32 * r + 4 * t, 4, to_panel);
    for (int w = 0; w < 4; w++) move_bytes(g + 3072 + 64 * w + 4 * l, (uint8_t *)b->scales + 4 * w, 4, to_panel);
    move_bytes(g + 3328 + 2 * l, (uint8_t *)&b->d, 2, to_panel);
}

/* Block b (of the type's block size) of row l of a panel, either direction. */
static void copy_any_block(int32_t wt, uint8_t *panel, int64_t b, int l, uint8_t *blk, int to_panel) {
    if (wt == MLLM_TYPE_Q4_K || wt == MLLM_TYPE_Q5_K) copy_block_q45_k(wt, panel, b, l, blk, to_panel);
    else if (wt == MLLM_TYPE_Q6_K) copy_block_q6_k(panel, b, l, blk, to_panel);
    else copy_block(wt, panel, b, l, blk, to_panel);
}

void mllm_panel_pack(int32_t wt, const void *src, int64_t k, int64_t n_rows, void *dst) {
    const size_t rb = mllm_type_row_bytes(wt, k), bb = mllm_type_traits_of(wt)->block_bytes;
    for (int64_t r = 0; r < n_rows; r++) {
        uint8_t *panel = (uint8_t *)dst + (size_t)(r / MLLM_PANEL_ROWS) * MLLM_PANEL_ROWS * rb;
        const uint8_t *row = (const uint8_t *)src + (size_t)r * rb;
        for (int64_t b = 0; b < k / mllm_type_traits_of(wt)->block_size; b++)
            copy_any_block(wt, panel, b, (int)(r % MLLM_PANEL_ROWS), (uint8_t *)row + (size_t)b * bb, 1);
    }
}

void mllm_panel_block(int32_t wt, const void *packed, int64_t k, int64_t r, int64_t b, void *dst) {
    uint8_t *panel = (uint8_t *)packed + (size_t)(r / MLLM_PANEL_ROWS) * MLLM_PANEL_ROWS * mllm_type_row_bytes(wt, k);
    copy_any_block(wt, panel, b, (int)(r % MLLM_PANEL_ROWS), dst, 0);
}

void mllm_panel_row(int32_t wt, const void *packed, int64_t k, int64_t r, void *dst) {
    const mllm_type_traits *t = mllm_type_traits_of(wt);
    for (int64_t b = 0; b < k / t->block_size; b++) mllm_panel_block(wt, packed, k, r, b, (uint8_t *)dst + (size_t)b * t->block_bytes);
}
