/* K-quant element placement and scale packing (docs/k-quants.md), shared by the reference
 * (de)quantizers, the reference dot products, the kernels and the tests. Inline and portable. */
#ifndef MLLM_KQUANT_H
#define MLLM_KQUANT_H

#include <stdint.h>
#include <string.h>

#include "quant/quant.h"

/* ---- Q4_K / Q5_K: 8 six-bit scales sc[i] and mins m[i] in 12 bytes ---------------------------- */

/* The layout's formulas, one value at a time (the readable definition; the tests check the
 * word-wise variant below against it). */
static inline void kq_scales_unpack(const uint8_t s[K_SCALE_BYTES], uint8_t sc[8], uint8_t m[8]) {
    for (int i = 0; i < 4; i++) {
        sc[i] = s[i] & 63;
        m[i] = s[i + 4] & 63;
        sc[i + 4] = (uint8_t)((s[i + 8] & 15) | ((s[i] >> 6) << 4));
        m[i + 4] = (uint8_t)((s[i + 8] >> 4) | ((s[i + 4] >> 6) << 4));
    }
}

/* Inverse of kq_scales_unpack for values 0..63. */
static inline void kq_scales_pack(const uint8_t sc[8], const uint8_t m[8], uint8_t s[K_SCALE_BYTES]) {
    for (int i = 0; i < 4; i++) {
        s[i] = (uint8_t)((sc[i] & 63) | ((sc[i + 4] >> 4) << 6));
        s[i + 4] = (uint8_t)((m[i] & 63) | ((m[i + 4] >> 4) << 6));
        s[i + 8] = (uint8_t)((sc[i + 4] & 15) | ((m[i + 4] & 15) << 4));
    }
}

/* Same as kq_scales_unpack on three 32-bit words, for the kernels: byte i of *sc (in memory
 * order: little-endian targets only, like the rest of the engine) is sc[i], byte i of *m is m[i].
 * Shifting a word right by 2 moves each byte's top two bits to bits 4..5 of the same byte; the
 * masks drop what crosses over from the neighbour. */
static inline void kq_scales_words(const uint8_t s[K_SCALE_BYTES], uint64_t *sc, uint64_t *m) {
    uint32_t w0, w1, w2;
    memcpy(&w0, s, 4);
    memcpy(&w1, s + 4, 4);
    memcpy(&w2, s + 8, 4);
    uint32_t sc_lo = w0 & 0x3f3f3f3fu, m_lo = w1 & 0x3f3f3f3fu;
    uint32_t sc_hi = (w2 & 0x0f0f0f0fu) | ((w0 >> 2) & 0x30303030u);
    uint32_t m_hi = ((w2 >> 4) & 0x0f0f0f0fu) | ((w1 >> 2) & 0x30303030u);
    *sc = (uint64_t)sc_lo | (uint64_t)sc_hi << 32;
    *m = (uint64_t)m_lo | (uint64_t)m_hi << 32;
}

/* ---- quants of element e (0..255) of a super-block ---------------------------------------------- */

/* Q4_K: chunk e / 64 owns qs[32 c ..]; its first 32 elements are the low nibbles. */
static inline int kq_q4(const uint8_t qs[QK_K / 2], int e) {
    return (qs[32 * (e >> 6) + (e & 31)] >> (4 * ((e >> 5) & 1))) & 15;
}

/* Q5_K: the Q4_K nibble plus bit e / 32 (the sub-block) of qh[e % 32] as bit 4. */
static inline int kq_q5(const block_q5_K *b, int e) {
    return kq_q4(b->qs, e) | ((b->qh[e & 31] >> (e >> 5)) & 1) << 4;
}

/* Q6_K, 0..63 (the value is q - 32): half e / 128, quarter g of it picks the ql byte (first or
 * second 32), its nibble and the qh bit pair. */
static inline int kq_q6(const block_q6_K *b, int e) {
    int h = e >> 7, g = (e >> 5) & 3, l = e & 31;
    int lo = (b->ql[64 * h + 32 * (g & 1) + l] >> (4 * (g >> 1))) & 15;
    int hi = (b->qh[32 * h + l] >> (2 * g)) & 3;
    return lo | hi << 4;
}

/* Internal reference entry points (kquant_ref.c, quantize_k.c); nb super-blocks each. */
void mllm_quantize_q4_K_ref(const float *x, block_q4_K *y, int64_t nb);
void mllm_quantize_q5_K_ref(const float *x, block_q5_K *y, int64_t nb);
void mllm_quantize_q6_K_ref(const float *x, block_q6_K *y, int64_t nb);
void mllm_dequantize_k_ref(int32_t type, const void *x, float *y, int64_t nb);
/* Q4_K / Q5_K against q8_1 rows, Q6_K against q8_0 rows. */
float mllm_vec_dot_k_ref(int32_t type, const void *w, const void *x, int64_t nb);

#endif
