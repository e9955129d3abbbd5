#version 450
// y[c][r] = W row r . x row c, for weight rows r < n_rows and activation rows c < m.
// Compiled per weight type (WT: 0 f32, 1 f16, 8 q8_0, 2 q4_0) and per NC, the activation rows one
// workgroup handles (workgroup y takes rows y*NC..), so each weight block is read once per NC rows.
// A workgroup is RPW rows x TPR threads; thread `lane` of a row takes 32-value blocks lane,
// lane+TPR, ...; partial sums are reduced in shared memory.
// f32/f16: x holds floats. q8_0/q4_0 prompt kernels: x holds q8_0 values (k/4 words per row) and
// x_scales their scales (k/32 per row): integer products as the CPU engine computes them.
// FUSEX (decode steps: one sequence's token, NC = 1, or a few sequences' tokens, NC = 2 for
// q8_0/q4_0, a row of workgroups per pair of sequences): x is always f32 rows; q8_0/q4_0 kernels
// quantize each block themselves (exactly as quant_q8.comp). The workgroup first stages its
// (converted) input rows in shared memory, and the fusions the planner chose (flags,
// push_constants.h) happen there: the input is silu(x) * up (the SwiGLU before the down projection)
// or rms_norm(x) * norm_weight (the norm before q/k/v and gate/up, recomputed per workgroup); the
// result is added to y (the residual add after wo and down); or the q/k/v epilogue replaces
// rope_store.comp: MV_ROPE rotates each pair of rows (2i, 2i+1) of a head at the row's position,
// MV_TO_KV writes the pair into the row's sequence's KV cache (step buffer). Rows come in aligned
// groups of RPW = 4, so a pair is always in one workgroup. MV_DUAL (gate/up): a second matrix of
// the same shape and type, in the same dispatch: the row groups of both share one staging of the
// input per workgroup. Every row is computed with the same arithmetic whatever NC, so a sequence
// gets the same bits alone or batched. The prompt kernels (NC = 8, x quantized by quant_q8.comp,
// which computes the fused norm or SwiGLU for larger batches) run the same epilogues.
#include "common.glsl"
#ifndef DOT4
#define DOT4 0
#endif
#if DOT4
// The signed 4 x 8-bit dot product of two packed words in one instruction (OpSDot, packed format 0):
// the same integer as the four byte products summed, so DOT4 kernels give the same bits.
#extension GL_EXT_spirv_intrinsics : require
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6019, 6018], id = 4450)
int sdot4(int a, int b, spirv_literal int packed_format);
int dot4(uint a, uint b) { return sdot4(int(a), int(b), 0); }
// Four q4_0 nibbles (one per byte, 0..15) as the signed bytes nibble - 8: flipping bit 3 gives
// nibble - 8 in 4-bit two's complement; bit 3 times 30 (0xf0) extends its sign through the byte.
uint nibbles_s8(uint v) {
    const uint t = v ^ 0x08080808u;
    return t | ((t & 0x08080808u) * 30u);
}
#endif
#define PC_mul_mv
#include "push_constants.h"
#ifndef NC
#define NC 1
#endif
#define TPR 16u
#define RPW 4u
#ifndef FUSEX
#define FUSEX 0
#endif
#define FUSEX_KMAX 3584u /* one row: 14 KiB of f32, within the 16 KiB every device has */
#define FUSEX_WIDE_K 2560u /* NC > 1: the staged rows' length at most */
// XF_STAGE (q8_0/q4_0, one row): 1 = all threads first convert the input row into shared memory
// (xf, coalesced loads), then one thread per block rounds it; 0 = each block's thread converts
// and rounds its 32 values itself (less shared memory: faster on an H200 for the normed q/k/v
// and gate/up inputs, slower for the SwiGLU input of the down projection). NC > 1 uses 0.
#ifndef XF_STAGE
#define XF_STAGE 1
#endif
#if FUSEX && (WT == 0 || WT == 1)
shared vec4 xs[FUSEX_KMAX / 4u];
#elif FUSEX
#if XF_STAGE
shared float xf[FUSEX_KMAX]; /* the converted input row, before its q8_0 rounding */
#endif
#if NC == 1
#define XQ_VALUES FUSEX_KMAX
#else
#define XQ_VALUES (NC * FUSEX_WIDE_K)
#endif
shared uint xqs[XQ_VALUES / 4u];  /* row j's block b at (j * nb + b) * 8 */
shared float xds[XQ_VALUES / 32u];
#endif
layout(local_size_x = 64) in;
shared float red[NC][64];

#if FUSEX
float g_scale[NC]; /* rms scale of each input row (MV_NORM_IN) */
/* value i of input row j (row c0 + j of x) */
float xin(uint j, uint c0, uint i) {
    const uint o = (c0 + j) * pc.x_stride + i;
    float g = F32(pc.x).v[o];
    if ((pc.flags & MV_SWIGLU_IN) != 0u) g = g / (1.0 + exp(-g)) * F32(pc.up).v[o];
    if ((pc.flags & MV_NORM_IN) != 0u) g = g * g_scale[j] * F32(pc.norm_weight).v[i];
    return g;
}
vec4 xin4(uint c0, uint e) { /* one row (f32/f16 weights); e multiple of 4 */
    if ((pc.flags & (MV_SWIGLU_IN | MV_NORM_IN)) == 0u) return V4(pc.x).v[(c0 * pc.x_stride + e) / 4u];
    return vec4(xin(0u, c0, e), xin(0u, c0, e + 1u), xin(0u, c0, e + 2u), xin(0u, c0, e + 3u));
}
#if !(WT == 0 || WT == 1)
/* q8_0 block b of input row j: 8 words of int8 and the f16-rounded scale */
void quant_block(uint j, uint c0, uint b, out uint xw[8], out float xd) {
    float v[32];
    float amax = 0.0;
    for (uint i = 0u; i < 32u; i++) {
#if XF_STAGE
        v[i] = xf[b * 32u + i];
#else
        v[i] = xin(j, c0, b * 32u + i);
#endif
        amax = max(amax, abs(v[i]));
    }
    const float d = amax / 127.0;
    const float id = d != 0.0 ? 1.0 / d : 0.0;
    for (uint w = 0u; w < 8u; w++) {
        uint wd = 0u;
        for (uint n = 0u; n < 4u; n++) {
            float x = v[w * 4u + n] * id;
            wd |= (uint(q8_round(x)) & 0xffu) << (n * 8u);
        }
        xw[w] = wd;
    }
    xd = unpackHalf2x16(f2h(d)).x;
}
#endif
#endif

#if !(WT == 0 || WT == 1)
/* the 8 words of int8 of q8_0 activation block xb: staged in shared memory, or two 16-byte loads
 * (quant_q8.comp's blocks are 32-byte aligned) */
void x_block(uint xb, out uint xw[8]) {
#if FUSEX
    for (uint t = 0u; t < 8u; t++) xw[t] = xqs[xb * 8u + t];
#else
    const uvec4 lo = UV4(pc.x).v[2u * xb], hi = UV4(pc.x).v[2u * xb + 1u];
    xw = uint[8](lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w);
#endif
}
#endif

void main() {
    const uint tid = gl_LocalInvocationID.x, lane = tid % TPR, rl = tid / TPR;
    const uint k = pc.k, nb = k / 32u, n_rows = pc.n_rows, m = pc.m;
    const uint c0 = gl_WorkGroupID.y * NC;
    const uint n_groups = (n_rows + RPW - 1u) / RPW;
    const uint nc = min(uint(NC), m - c0); /* input rows this workgroup takes (and stages) */
#if FUSEX
    if ((pc.flags & MV_NORM_IN) != 0u) {
        for (uint j = 0u; j < NC; j++) {
            float ss = 0.0;
            if (j < nc) {
                for (uint i = tid; i < k; i += 64u) {
                    const float v = F32(pc.x).v[(c0 + j) * pc.x_stride + i];
                    ss += v * v;
                }
            }
            red[j][tid] = ss;
        }
        barrier();
        for (uint s = 32u; s > 0u; s >>= 1) {
            if (tid < s) {
                for (uint j = 0u; j < NC; j++) red[j][tid] += red[j][tid + s];
            }
            barrier();
        }
        for (uint j = 0u; j < NC; j++) g_scale[j] = 1.0 / sqrt(red[j][0] / float(k) + pc.eps);
        barrier();
    }
#endif
#if FUSEX && (WT == 0 || WT == 1)
    for (uint e = tid; e < k / 4u; e += 64u) xs[e] = xin4(c0, 4u * e);
    barrier();
#elif FUSEX
    /* XF_STAGE: all 64 threads convert the row into shared memory (coalesced loads, all in flight
       at once), then one thread per block rounds it to q8_0 from there */
#if XF_STAGE
    for (uint i = tid; i < k; i += 64u) xf[i] = xin(0u, c0, i);
    barrier();
#endif
    for (uint jb = tid; jb < nc * nb; jb += 64u) {
        const uint j = jb / nb, b = jb % nb;
        uint xw[8];
        float d;
        quant_block(j, c0, b, xw, d);
        for (uint t = 0u; t < 8u; t++) xqs[jb * 8u + t] = xw[t];
        xds[jb] = d;
    }
    barrier();
#endif
    const uint n_mats = (pc.flags & MV_DUAL) != 0u ? 2u : 1u;
    for (uint rga = gl_WorkGroupID.x; rga < n_groups * n_mats; rga += gl_NumWorkGroups.x) {
        const uint second = rga >= n_groups ? 1u : 0u, rg = rga - second * n_groups;
        const uvec2 wa = second != 0u ? pc.weights2 : pc.weights, ya = second != 0u ? pc.y2 : pc.y;
        const uint r = rg * RPW + rl;
        float acc[NC];
        for (uint j = 0u; j < NC; j++) acc[j] = 0.0;
        if (r < n_rows) {
            for (uint b = lane; b < nb; b += TPR) {
#if WT == 0
                V4 w = V4(wa), x = V4(pc.x);
                const uint wo = (r * k + b * 32u) / 4u;
                for (uint t = 0u; t < 8u; t++) {
                    const vec4 wv = w.v[wo + t];
#if FUSEX
                    acc[0] += dot(wv, xs[b * 8u + t]);
#else
                    for (uint j = 0u; j < NC; j++) {
                        if (c0 + j < m) acc[j] += dot(wv, x.v[((c0 + j) * pc.x_stride + b * 32u) / 4u + t]);
                    }
#endif
                }
#elif WT == 1
                UV4 w = UV4(wa);
                V4 x = V4(pc.x);
                const uint wo = (r * k + b * 32u) / 8u;
                for (uint t = 0u; t < 4u; t++) {
                    const uvec4 wv = w.v[wo + t];
                    const vec4 lo = vec4(unpackHalf2x16(wv.x), unpackHalf2x16(wv.y));
                    const vec4 hi = vec4(unpackHalf2x16(wv.z), unpackHalf2x16(wv.w));
#if FUSEX
                    acc[0] += dot(lo, xs[b * 8u + 2u * t]) + dot(hi, xs[b * 8u + 2u * t + 1u]);
#else
                    for (uint j = 0u; j < NC; j++) {
                        if (c0 + j < m) {
                            const uint xo = ((c0 + j) * pc.x_stride + b * 32u) / 4u + 2u * t;
                            acc[j] += dot(lo, x.v[xo]) + dot(hi, x.v[xo + 1u]);
                        }
                    }
#endif
                }
#else
                U32 w = U32(wa);
                F32 xd = F32(pc.x_scales);
                const uint gb = r * nb + b;
#if WT == 8
                const uint u16 = gb * 17u; /* 34-byte blocks: d, then 32 int8 */
                const float dw = half_at(w, u16);
                uint wq[8];
                for (uint t = 0u; t < 8u; t++) wq[t] = ld32_at16(w, u16 + 1u + 2u * t);
                for (uint j = 0u; j < NC; j++) {
                    if (c0 + j < m) {
#if FUSEX
                        const uint xb = j * nb + b; /* the staged rows */
                        const float xdv = xds[xb];
#else
                        const uint xb = (c0 + j) * nb + b;
                        const float xdv = xd.v[xb];
#endif
                        uint xw[8];
                        x_block(xb, xw);
                        int s = 0;
                        for (uint t = 0u; t < 8u; t++) {
                            const uint xv = xw[t];
#if DOT4
                            s += dot4(wq[t], xv);
#else
                            s += sbyte(wq[t], 0u) * sbyte(xv, 0u) + sbyte(wq[t], 1u) * sbyte(xv, 1u) +
                                 sbyte(wq[t], 2u) * sbyte(xv, 2u) + sbyte(wq[t], 3u) * sbyte(xv, 3u);
#endif
                        }
                        acc[j] += float(s) * (dw * xdv);
                    }
                }
#else
                const uint u16 = gb * 9u; /* 18-byte blocks: d, then 16 bytes of nibbles */
                const float dw = half_at(w, u16);
                uint wq[4];
                for (uint t = 0u; t < 4u; t++) wq[t] = ld32_at16(w, u16 + 1u + 2u * t);
#if DOT4
                uint wl[4], wh[4]; /* values 0..15 and 16..31 of the block as signed bytes */
                for (uint t = 0u; t < 4u; t++) {
                    wl[t] = nibbles_s8(wq[t] & 0x0f0f0f0fu);
                    wh[t] = nibbles_s8((wq[t] >> 4) & 0x0f0f0f0fu);
                }
#endif
                for (uint j = 0u; j < NC; j++) {
                    if (c0 + j < m) {
#if FUSEX
                        const uint xb = j * nb + b;
                        const float xdv = xds[xb];
#else
                        const uint xb = (c0 + j) * nb + b;
                        const float xdv = xd.v[xb];
#endif
                        uint xw[8];
                        x_block(xb, xw);
                        int s = 0;
                        for (uint t = 0u; t < 4u; t++) {
                            const uint xl = xw[t], xh = xw[4u + t];
#if DOT4
                            s += dot4(wl[t], xl) + dot4(wh[t], xh);
#else
                            for (uint n = 0u; n < 4u; n++) {
                                const int lo = int((wq[t] >> (8u * n)) & 15u) - 8;
                                const int hi = int((wq[t] >> (8u * n + 4u)) & 15u) - 8;
                                s += lo * sbyte(xl, n) + hi * sbyte(xh, n);
                            }
#endif
                        }
                        acc[j] += float(s) * (dw * xdv);
                    }
                }
#endif
#endif
            }
        }
        for (uint j = 0u; j < NC; j++) red[j][tid] = acc[j];
        barrier();
        for (uint s = TPR / 2u; s > 0u; s >>= 1) {
            if (lane < s) {
                for (uint j = 0u; j < NC; j++) red[j][tid] += red[j][tid + s];
            }
            barrier();
        }
        if ((pc.flags & (MV_ROPE | MV_TO_KV)) != 0u && lane == 0u && (rl & 1u) == 0u && r + 1u < n_rows) {
            for (uint j = 0u; j < nc; j++) {
                const uint c = c0 + j;
                float x0 = red[j][tid], x1 = red[j][tid + TPR];
                const uint pos = step_pos(pc.step, c);
                if ((pc.flags & MV_ROPE) != 0u) {
                    const uint half_ = pc.head_dim / 2u, i = (r % pc.head_dim) / 2u;
                    const float cs = F32(pc.rope).v[pos * half_ + i], sn = F32(pc.rope).v[pc.rope_sin_offset + pos * half_ + i];
                    const float r0 = x0 * cs - x1 * sn, r1 = x0 * sn + x1 * cs;
                    x0 = r0;
                    x1 = r1;
                }
                if ((pc.flags & MV_TO_KV) == 0u) {
                    F32(pc.y).v[c * pc.y_stride + r] = x0;
                    F32(pc.y).v[c * pc.y_stride + r + 1u] = x1;
                } else {
                    /* K when the pair is roped, else V */
                    U32 cache = U32(step_cache(pc.step, c, (pc.flags & MV_ROPE) != 0u ? 0u : 1u, pc.slot));
                    const uint co = pos * pc.cache_row + r;
                    if ((pc.flags & MV_KV_F16) != 0u) {
                        cache.v[co >> 1] = pack_f16x2(vec2(x0, x1));
                    } else {
                        cache.v[co] = floatBitsToUint(x0);
                        cache.v[co + 1u] = floatBitsToUint(x1);
                    }
                }
            }
        }
        if (lane == 0u && r < n_rows && (pc.flags & (MV_ROPE | MV_TO_KV)) == 0u) {
            F32 y = F32(ya);
            for (uint j = 0u; j < NC; j++) {
                if (c0 + j < m) {
                    if ((pc.flags & MV_ACCUMULATE) != 0u) y.v[(c0 + j) * pc.y_stride + r] += red[j][tid];
                    else y.v[(c0 + j) * pc.y_stride + r] = red[j][tid];
                }
            }
        }
        barrier();
    }
}
