/* Push constants of every compute kernel: one struct each, written once here and read by both
 * sides. C (vk_record.c) gets `typedef struct vk_pc_<kernel> {...}`; a kernel defines
 * PC_<kernel> before including this file and gets its own block as the uniform `pc`. Tensors are
 * buffer device addresses (the one descriptor set holds attention_dec's counters); addresses come first and every other field is 4
 * bytes, so C and std430 lay the fields out alike, and each struct is padded to a multiple of 8
 * bytes (the size asserts at the end hold the C side to that). 128 bytes is the most a kernel may
 * take: the push-constant size every device has. */
#ifndef MLLM_VK_PUSH_CONSTANTS_H
#define MLLM_VK_PUSH_CONSTANTS_H

#if defined(__STDC__)
#include <stdint.h>

#include "backends/vulkan/vk_loader.h"

#define PC_BEGIN(name) typedef struct name {
#define PC_END(name) } name;
#define PC_ADDR VkDeviceAddress
#define PC_U32 uint32_t
#define PC_F32 float
#else
#define PC_BEGIN(name) layout(push_constant) uniform name {
#define PC_END(name) } pc;
#define PC_ADDR uvec2
#define PC_U32 uint
#define PC_F32 float
#endif

#include "step.h"

/* get_rows.comp: dst row i = row tokens[i] of the embedding matrix, dequantized */
#if defined(__STDC__) || defined(PC_get_rows)
PC_BEGIN(vk_pc_get_rows)
    PC_ADDR weights;    /* type `type`, rows of n_cols values */
    PC_ADDR dst;
    PC_ADDR step;       /* the step buffer (above) */
    PC_U32 type;        /* mllm_type: f32, f16, q8_0 or q4_0 */
    PC_U32 n_cols;
    PC_U32 dst_stride;  /* floats between dst rows */
    PC_U32 pad;
PC_END(vk_pc_get_rows)
#endif

/* rms_norm.comp: if add_residual, x += residual; dst = rms_norm(x) * weight, rows [row0, row0 + groups)
 * (gather: the rows the step buffer names) */
#if defined(__STDC__) || defined(PC_rms_norm)
PC_BEGIN(vk_pc_rms_norm)
    PC_ADDR x;
    PC_ADDR weight;
    PC_ADDR residual;
    PC_ADDR dst;        /* row r of the norm's rows at dst row r */
    PC_ADDR step;
    PC_U32 n_cols;
    PC_U32 x_stride;    /* floats between x (and residual) rows */
    PC_U32 add_residual;
    PC_U32 dst_stride;
    PC_U32 row0;
    PC_F32 eps;
    PC_U32 gather;
    PC_U32 pad;
PC_END(vk_pc_rms_norm)
#endif

/* quant_q8.comp: activation rows -> q8_0 values and scales, as the CPU engine rounds them; with
 * flags MV_NORM_IN or MV_SWIGLU_IN (below) of rms_norm(x) * norm_weight or silu(x) * up, computed
 * as mul_mv.comp's staging computes them */
#if defined(__STDC__) || defined(PC_quant_q8)
PC_BEGIN(vk_pc_quant_q8)
    PC_ADDR x;
    PC_ADDR quants;     /* [m][k/4] words of int8 */
    PC_ADDR scales;     /* [m][k/32] floats */
    PC_ADDR norm_weight;
    PC_ADDR up;
    PC_U32 k;
    PC_U32 m;
    PC_U32 x_stride;    /* floats between x (and up) rows */
    PC_U32 flags;       /* 0, MV_NORM_IN or MV_SWIGLU_IN */
    PC_F32 eps;
    PC_U32 pairs_per_group; /* block pairs of a row per workgroup (whole rows spare long rows' norms) */
PC_END(vk_pc_quant_q8)
#endif

/* swiglu.comp: gate = silu(gate) * up over n contiguous values */
#if defined(__STDC__) || defined(PC_swiglu)
PC_BEGIN(vk_pc_swiglu)
    PC_ADDR gate;
    PC_ADDR up;
    PC_U32 n;
    PC_U32 pad;
PC_END(vk_pc_swiglu)
#endif

/* rope_store.comp: positions q (in place) and k as `flags` say (RS_*), stores k and v in the KV
 * cache rows of their positions */
#define RS_ROPE 1u      /* RoPE on adjacent pairs */
#define RS_QK_NORM 2u   /* then a weightless RMS norm of every q and k head (eps) */
#define RS_TEMP 4u      /* q *= 1 + temp_scale * log(floor((pos + 1) / temp_floor) + 1) */
#if defined(__STDC__) || defined(PC_rope_store)
PC_BEGIN(vk_pc_rope_store)
    PC_ADDR q;
    PC_ADDR k;
    PC_ADDR v;
    PC_ADDR rope_cos;   /* [pos][head_dim / 2] */
    PC_ADDR rope_sin;
    PC_ADDR step;       /* each row's position and cache */
    PC_U32 head_dim;
    PC_U32 n_head;
    PC_U32 n_kv;
    PC_U32 q_stride;
    PC_U32 kv_stride;   /* floats between k (and v) rows */
    PC_U32 cache_f16;
    PC_U32 cache_row;   /* values per cache row */
    PC_U32 slot;        /* the layer's place in the caches (step_cache in common.glsl) */
    PC_U32 flags;       /* RS_* */
    PC_U32 window;      /* the layer's sliding window (0: full attention) */
    PC_F32 eps;
    PC_F32 temp_scale;
    PC_U32 temp_floor;
PC_END(vk_pc_rope_store)
#endif

/* attention.comp: causal GQA attention over the KV cache, one workgroup per (head, token); with
 * n_split > 1 each of n_split workgroups takes a share of the keys and writes its partial result */
#if defined(__STDC__) || defined(PC_attention)
PC_BEGIN(vk_pc_attention)
    PC_ADDR q;
    PC_ADDR dst;
    PC_ADDR partials;   /* n_split > 1: {max, sum, acc[head_dim]} per (token, head, split) */
    PC_ADDR step;       /* each row's position and cache */
    PC_U32 head_dim;
    PC_U32 n_head;
    PC_U32 n_kv;
    PC_U32 q_stride;
    PC_U32 dst_stride;
    PC_U32 cache_f16;
    PC_U32 cache_row;
    PC_U32 n_split;
    PC_F32 scale;
    PC_U32 slot;        /* as rope_store */
    PC_U32 window;      /* the layer's sliding window (0: full attention) */
PC_END(vk_pc_attention)
#endif

/* attn_combine.comp: merges attention.comp's n_split partial results per (head, token) */
#if defined(__STDC__) || defined(PC_attn_combine)
PC_BEGIN(vk_pc_attn_combine)
    PC_ADDR dst;
    PC_ADDR partials;
    PC_U32 head_dim;
    PC_U32 n_head;
    PC_U32 dst_stride;
    PC_U32 n_split;
PC_END(vk_pc_attn_combine)
#endif

/* attention_dec.comp: attention of a few tokens (head_dim 64, f16 cache) in one dispatch, one
 * workgroup per (head, key slice, token); the last of a (token, head)'s n_split workgroups merges
 * the partial results (and quantizes them for the matmul after it) */
#if defined(__STDC__) || defined(PC_attention_dec)
PC_BEGIN(vk_pc_attention_dec)
    PC_ADDR q;
    PC_ADDR dst;
    PC_ADDR partials;   /* {max, sum, acc[64]} per (token, head, split) */
    PC_ADDR step;       /* each row's position and cache */
    PC_ADDR quants;     /* not 0: dst also as q8_0 values and scales (quant_q8.comp's layout) */
    PC_ADDR scales;
    PC_U32 n_head;
    PC_U32 n_kv;
    PC_U32 cache_row;
    PC_U32 n_split;
    PC_F32 scale;
    PC_U32 slot;        /* as rope_store */
    PC_U32 q_stride;
    PC_U32 dst_stride;
    PC_U32 window;      /* as attention.comp */
PC_END(vk_pc_attention_dec)
#endif

/* mul_mv.comp: y[c][r] = weights row r . x row c; decode variants (FUSEX) add the fusions that
 * `flags` selects (MV_*) */
#define MV_SWIGLU_IN 1u   /* the input is silu(x) * up */
#define MV_NORM_IN 2u     /* the input is rms_norm(x) * norm_weight */
#define MV_ACCUMULATE 4u  /* y += result (a residual add) instead of y = result */
#define MV_ROPE 8u        /* rotate each pair of rows (2i, 2i+1) of a head by RoPE at the row's position */
#define MV_TO_KV 16u      /* write the result into the row's KV cache (K if MV_ROPE, else V), layer `slot` */
#define MV_KV_F16 32u     /* ... as f16 */
#define MV_DUAL 64u       /* also weights2 x -> y2 (same shape and type), sharing the input staging */
#if defined(__STDC__) || defined(PC_mul_mv)
PC_BEGIN(vk_pc_mul_mv)
    PC_ADDR weights;
    PC_ADDR x;          /* f32 rows; q8_0/q4_0 prompt kernels: q8_0 quants (quant_q8.comp) */
    PC_ADDR x_scales;   /* q8_0/q4_0 prompt kernels: the quants' scales */
    PC_ADDR y;
    PC_ADDR norm_weight;
    PC_ADDR up;
    PC_ADDR weights2;
    PC_ADDR y2;
    PC_ADDR rope;       /* cos table, the sin table rope_sin_offset floats after it */
    PC_ADDR step;
    PC_U32 k;           /* values per row, a multiple of 32 */
    PC_U32 n_rows;      /* weight rows */
    PC_U32 m;           /* activation rows */
    PC_U32 x_stride;
    PC_U32 y_stride;
    PC_U32 flags;       /* MV_* */
    PC_U32 rope_sin_offset;
    PC_U32 head_dim;
    PC_U32 cache_row;
    PC_F32 eps;         /* MV_NORM_IN */
    PC_U32 slot;        /* MV_TO_KV: as rope_store */
    PC_U32 pad;
PC_END(vk_pc_mul_mv)
#endif

#if defined(__STDC__)
_Static_assert(sizeof(vk_pc_get_rows) == 40 && sizeof(vk_pc_rms_norm) == 72 && sizeof(vk_pc_quant_q8) == 64 &&
                   sizeof(vk_pc_swiglu) == 24 && sizeof(vk_pc_rope_store) == 104 && sizeof(vk_pc_attention) == 80 &&
                   sizeof(vk_pc_attn_combine) == 32 && sizeof(vk_pc_attention_dec) == 88 && sizeof(vk_pc_mul_mv) == 128,
               "push constants: fields and padding as the kernels read them");
#endif

#endif
