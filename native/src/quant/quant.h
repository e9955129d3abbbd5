/* Block-quantized and float tensor types in ggml's public layouts (bit-compatible with GGUF files
 * written by llama.cpp). Scalar reference implementations live in quant/; SIMD kernels in cpu/. */
#ifndef MLLM_QUANT_H
#define MLLM_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "mobilellm.h"

#define QK8_0 32
#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_1 32
#define QK_K 256 /* elements per K-quant super-block */
#define K_SCALE_BYTES 12 /* packed 6-bit scales and mins of Q4_K / Q5_K */

typedef uint16_t mllm_fp16; /* IEEE half, raw bits */
typedef uint16_t mllm_bf16; /* bfloat16, raw bits */

/* Layouts exactly as ggml stores them. */
typedef struct { mllm_fp16 d; int8_t qs[QK8_0]; } block_q8_0;        /* 34 bytes */
typedef struct { mllm_fp16 d; uint8_t qs[QK4_0 / 2]; } block_q4_0;   /* 18 bytes */
/* x = d * q + m, q in 0..15 */
typedef struct { mllm_fp16 d; mllm_fp16 m; uint8_t qs[QK4_1 / 2]; } block_q4_1;       /* 20 */
/* x = d * (q - 16), q's 5th bits packed little-endian in qh (bit j = element j) */
typedef struct { mllm_fp16 d; uint8_t qh[4]; uint8_t qs[QK5_0 / 2]; } block_q5_0;     /* 22 */
typedef struct { mllm_fp16 d; mllm_fp16 m; uint8_t qh[4]; uint8_t qs[QK5_1 / 2]; } block_q5_1; /* 24 */
/* Like q8_0 plus s = d * sum(qs): the activation type for q4_1 / q5_1 (and q4_k / q5_k) weights. */
typedef struct { mllm_fp16 d; mllm_fp16 s; int8_t qs[QK8_1]; } block_q8_1;          /* 36 */

/* K-quants (docs/k-quants.md): super-blocks of 256. Q4_K / Q5_K: 8 sub-blocks of 32, each with a
 * 6-bit scale and min packed in `scales`, x = d * sc * q - dmin * m; Q5_K's fifth bits in qh.
 * Q6_K: 16 sub-blocks of 16 with int8 scales, x = d * sc * (q - 32), q's low 4 bits in ql and
 * high 2 bits in qh. Element placement: quant/kquant.h. */
typedef struct { mllm_fp16 d; mllm_fp16 dmin; uint8_t scales[K_SCALE_BYTES]; uint8_t qs[QK_K / 2]; } block_q4_K; /* 144 */
typedef struct {
    mllm_fp16 d; mllm_fp16 dmin; uint8_t scales[K_SCALE_BYTES]; uint8_t qh[QK_K / 8]; uint8_t qs[QK_K / 2];
} block_q5_K; /* 176 */
typedef struct { uint8_t ql[QK_K / 2]; uint8_t qh[QK_K / 4]; int8_t scales[QK_K / 16]; mllm_fp16 d; } block_q6_K; /* 210 */

_Static_assert(sizeof(block_q8_0) == 34, "block_q8_0 layout");
_Static_assert(sizeof(block_q4_0) == 18, "block_q4_0 layout");
_Static_assert(sizeof(block_q4_1) == 20, "block_q4_1 layout");
_Static_assert(sizeof(block_q5_0) == 22, "block_q5_0 layout");
_Static_assert(sizeof(block_q5_1) == 24, "block_q5_1 layout");
_Static_assert(sizeof(block_q8_1) == 36, "block_q8_1 layout");
_Static_assert(sizeof(block_q4_K) == 144, "block_q4_K layout");
_Static_assert(sizeof(block_q5_K) == 176, "block_q5_K layout");
_Static_assert(sizeof(block_q6_K) == 210, "block_q6_K layout");
_Static_assert(offsetof(block_q5_K, qs) == 48 && offsetof(block_q6_K, d) == 208, "K-quant field offsets");

float mllm_fp16_to_fp32(mllm_fp16 h);
mllm_fp16 mllm_fp32_to_fp16(float f); /* round to nearest even, like ggml/F16C */
float mllm_bf16_to_fp32(mllm_bf16 h);
mllm_bf16 mllm_fp32_to_bf16(float f); /* round to nearest even, NaN kept quiet */

typedef struct mllm_type_traits {
    const char *name;
    int64_t block_size;  /* elements per block */
    size_t block_bytes;  /* bytes per block */
    int supported;       /* engine has matmul + (de)quantize for it */
    int has_ref;         /* scalar (de)quantizers exist (true for supported types and q8_1) */
    /* type the activations are converted to before a dot product with this weight type */
    int32_t vec_dot_type;
} mllm_type_traits;

/* NULL for unknown types. */
const mllm_type_traits *mllm_type_traits_of(int32_t type);
/* Bytes of a row of n elements; 0 if the type is unknown, n is not a multiple of its block or the
 * size does not fit size_t. */
size_t mllm_type_row_bytes(int32_t type, int64_t n);

/* Scalar reference (de)quantizers: the oracle for every SIMD kernel. n % block_size == 0. */
void mllm_quantize_row_ref(int32_t type, const float *x, void *y, int64_t n);
void mllm_dequantize_row_ref(int32_t type, const void *x, float *y, int64_t n);
/* Scalar reference dot product of one weight row (type wt) with one activation row already in
 * traits(wt)->vec_dot_type. n elements. */
float mllm_vec_dot_ref(int32_t wt, const void *w_row, const void *x_row, int64_t n);

#endif
