/* Panel packing (cpu/panel.h): portable byte shuffling, the same at every kernel level. */
#include "cpu/panel.h"

#include <string.h>

#include "quant/quant.h"

/* quant bytes per block and per row, and the XOR applied to each stored byte */
static int qs_bytes(int32_t wt) { return wt == MLLM_TYPE_Q4_0 ? QK4_0 / 2 : wt == MLLM_TYPE_Q8_0 ? QK8_0 : 0; }
static uint8_t flip(int32_t wt) { return wt == MLLM_TYPE_Q8_0 ? 0x80 : 0x00; }

int mllm_panel_supported(int32_t wt, int64_t k, int64_t n_rows) {
    return qs_bytes(wt) > 0 && k > 0 && k % 64 == 0 && n_rows > 0 && n_rows % MLLM_PANEL_ROWS == 0;
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

/* One block of one row, either direction; the XOR is its own inverse. */
static void copy_block(int32_t wt, uint8_t *panel, int64_t b, int l, uint8_t *blk, int to_panel) {
    const int qb = qs_bytes(wt);
    const uint8_t x = flip(wt);
    uint8_t *d = d_at(wt, panel, b, l), *qs = blk + sizeof(mllm_fp16); /* qs follows d in both block types */
    if (to_panel) memcpy(d, blk, sizeof(mllm_fp16));
    else memcpy(blk, d, sizeof(mllm_fp16));
    for (int t = 0; t < qb / 4; t++) {
        uint8_t *q = q_at(wt, panel, b, l, t);
        for (int i = 0; i < 4; i++) {
            if (to_panel) q[i] = qs[4 * t + i] ^ x;
            else qs[4 * t + i] = q[i] ^ x;
        }
    }
}

void mllm_panel_pack(int32_t wt, const void *src, int64_t k, int64_t n_rows, void *dst) {
    const size_t rb = mllm_type_row_bytes(wt, k), bb = mllm_type_traits_of(wt)->block_bytes;
    for (int64_t r = 0; r < n_rows; r++) {
        uint8_t *panel = (uint8_t *)dst + (size_t)(r / MLLM_PANEL_ROWS) * MLLM_PANEL_ROWS * rb;
        const uint8_t *row = (const uint8_t *)src + (size_t)r * rb;
        for (int64_t b = 0; b < k / 32; b++)
            copy_block(wt, panel, b, (int)(r % MLLM_PANEL_ROWS), (uint8_t *)row + (size_t)b * bb, 1);
    }
}

void mllm_panel_block(int32_t wt, const void *packed, int64_t k, int64_t r, int64_t b, void *dst) {
    uint8_t *panel = (uint8_t *)packed + (size_t)(r / MLLM_PANEL_ROWS) * MLLM_PANEL_ROWS * mllm_type_row_bytes(wt, k);
    copy_block(wt, panel, b, (int)(r % MLLM_PANEL_ROWS), dst, 0);
}

void mllm_panel_row(int32_t wt, const void *packed, int64_t k, int64_t r, void *dst) {
    const size_t bb = mllm_type_traits_of(wt)->block_bytes;
    for (int64_t b = 0; b < k / 32; b++) mllm_panel_block(wt, packed, k, r, b, (uint8_t *)dst + (size_t)b * bb);
}
