#version 450
// y[c][r] = W row r . x row c, for weight rows r < n_rows and activation rows c < m.
// Compiled per weight type (WT: 0 f32, 1 f16, 8 q8_0, 2 q4_0) and per NC, the activation rows one
// workgroup handles (1 for decode, more for prompt batches so each weight block is read once per
// NC tokens). A workgroup is RPW rows x TPR threads; thread `lane` of a row takes 32-value blocks
// lane, lane+TPR, ...; partial sums are reduced in shared memory.
// f32/f16: x holds floats. q8_0/q4_0 prompt kernels: x holds q8_0 values (k/4 words per row) and
// x_scales their scales (k/32 per row): integer products as the CPU engine computes them.
// FUSEX (decode, NC = 1): x is always the f32 row; q8_0/q4_0 kernels quantize each block of it
// themselves (exactly as quant_q8.comp). The workgroup first stages the (converted) input row in
// shared memory (k <= FUSEX_KMAX), and the fusions the planner chose (flags, push_constants.h)
// happen there: the input is silu(x) * up (the SwiGLU before the down projection) or
// rms_norm(x) * norm_weight (the norm before q/k/v and gate/up, recomputed per workgroup); the
// result is added to y (the residual add after wo and down); or the q/k/v epilogue replaces
// rope_store.comp: MV_ROPE rotates each pair of rows (2i, 2i+1) of a head at position n_past,
// MV_TO_KV writes the pair into KV cache row n_past of the layer at y. Rows come in aligned groups
// of RPW = 4, so a pair is always in one workgroup. MV_DUAL (decode gate/up): a second matrix of
// the same shape and type, in the same dispatch: the row groups of both share one staging of the
// input per workgroup.
#include "common.glsl"
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
#define FUSEX_KMAX 3584u /* 14 KiB of f32: within the 16 KiB every device has */
// XF_STAGE (q8_0/q4_0 decode): 1 = all threads first convert the input row into shared memory
// (xf, coalesced loads), then one thread per block rounds it; 0 = each block's thread converts
// and rounds its 32 values itself (less shared memory: faster on an H200 for the normed q/k/v
// and gate/up inputs, slower for the SwiGLU input of the down projection).
#ifndef XF_STAGE
#define XF_STAGE 1
#endif
#if FUSEX && (WT == 0 || WT == 1)
shared vec4 xs[FUSEX_KMAX / 4u];
#elif FUSEX
#if XF_STAGE
shared float xf[FUSEX_KMAX]; /* the converted input row, before its q8_0 rounding */
#endif
shared uint xqs[FUSEX_KMAX / 4u];
shared float xds[FUSEX_KMAX / 32u];
#endif
layout(local_size_x = 64) in;
shared float red[NC][64];

#if FUSEX
float g_scale = 1.0; /* rms scale of the input row (MV_NORM_IN) */
float xin(uint i) {
    float g = F32(pc.x).v[i];
    if ((pc.flags & MV_SWIGLU_IN) != 0u) g = g / (1.0 + exp(-g)) * F32(pc.up).v[i];
    if ((pc.flags & MV_NORM_IN) != 0u) g = g * g_scale * F32(pc.norm_weight).v[i];
    return g;
}
vec4 xin4(uint e) { /* e multiple of 4 */
    if ((pc.flags & (MV_SWIGLU_IN | MV_NORM_IN)) == 0u) return V4(pc.x).v[e / 4u];
    return vec4(xin(e), xin(e + 1u), xin(e + 2u), xin(e + 3u));
}
#if !(WT == 0 || WT == 1)
/* q8_0 block b of the input row: 8 words of int8 and the f16-rounded scale */
void quant_block(uint b, out uint xw[8], out float xd) {
    float v[32];
    float amax = 0.0;
    for (uint j = 0u; j < 32u; j++) {
#if XF_STAGE
        v[j] = xf[b * 32u + j];
#else
        v[j] = xin(b * 32u + j);
#endif
        amax = max(amax, abs(v[j]));
    }
    const float d = amax / 127.0;
    const float id = d != 0.0 ? 1.0 / d : 0.0;
    for (uint j = 0u; j < 8u; j++) {
        uint wd = 0u;
        for (uint n = 0u; n < 4u; n++) {
            float x = v[j * 4u + n] * id;
            wd |= (uint(int(sign(x) * floor(abs(x) + 0.5))) & 0xffu) << (n * 8u);
        }
        xw[j] = wd;
    }
    xd = unpackHalf2x16(f2h(d)).x;
}
#endif
#endif

void main() {
    const uint tid = gl_LocalInvocationID.x, lane = tid % TPR, rl = tid / TPR;
    const uint k = pc.k, nb = k / 32u, n_rows = pc.n_rows, m = pc.m;
    const uint c0 = gl_WorkGroupID.y * NC;
    const uint n_groups = (n_rows + RPW - 1u) / RPW;
#if FUSEX
    if ((pc.flags & MV_NORM_IN) != 0u) {
        float ss = 0.0;
        for (uint i = tid; i < k; i += 64u) {
            const float v = F32(pc.x).v[i];
            ss += v * v;
        }
        red[0][tid] = ss;
        barrier();
        for (uint s = 32u; s > 0u; s >>= 1) {
            if (tid < s) red[0][tid] += red[0][tid + s];
            barrier();
        }
        g_scale = 1.0 / sqrt(red[0][0] / float(k) + pc.eps);
        barrier();
    }
#endif
#if FUSEX && (WT == 0 || WT == 1)
    for (uint e = tid; e < k / 4u; e += 64u) xs[e] = xin4(4u * e);
    barrier();
#elif FUSEX
    /* all 64 threads convert the row into shared memory (coalesced loads, all in flight at once),
       then one thread per block rounds it to q8_0 from there */
#if XF_STAGE
    for (uint i = tid; i < k; i += 64u) xf[i] = xin(i);
    barrier();
#endif
    for (uint b = tid; b < nb; b += 64u) {
        uint xw[8];
        float d;
        quant_block(b, xw, d);
        for (uint t = 0u; t < 8u; t++) xqs[b * 8u + t] = xw[t];
        xds[b] = d;
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
                U32 w = U32(wa), xq = U32(pc.x);
                F32 xd = F32(pc.x_scales);
                const uint gb = r * nb + b;
#if WT == 8
                const uint u16 = gb * 17u; /* 34-byte blocks: d, then 32 int8 */
                const float dw = half_at(w, u16);
                uint wq[8];
                for (uint t = 0u; t < 8u; t++) wq[t] = ld32_at16(w, u16 + 1u + 2u * t);
                for (uint j = 0u; j < NC; j++) {
                    if (c0 + j < m) {
                        const uint xb = (c0 + j) * nb + b;
#if FUSEX
                        const float xdv = xds[b];
#endif
                        int s = 0;
                        for (uint t = 0u; t < 8u; t++) {
#if FUSEX
                            const uint xv = xqs[b * 8u + t];
#else
                            const uint xv = xq.v[xb * 8u + t];
#endif
                            s += sbyte(wq[t], 0u) * sbyte(xv, 0u) + sbyte(wq[t], 1u) * sbyte(xv, 1u) +
                                 sbyte(wq[t], 2u) * sbyte(xv, 2u) + sbyte(wq[t], 3u) * sbyte(xv, 3u);
                        }
#if FUSEX
                        acc[j] += float(s) * (dw * xdv);
#else
                        acc[j] += float(s) * (dw * xd.v[xb]);
#endif
                    }
                }
#else
                const uint u16 = gb * 9u; /* 18-byte blocks: d, then 16 bytes of nibbles */
                const float dw = half_at(w, u16);
                uint wq[4];
                for (uint t = 0u; t < 4u; t++) wq[t] = ld32_at16(w, u16 + 1u + 2u * t);
                for (uint j = 0u; j < NC; j++) {
                    if (c0 + j < m) {
                        const uint xb = (c0 + j) * nb + b;
#if FUSEX
                        const float xdv = xds[b];
#endif
                        int s = 0;
                        for (uint t = 0u; t < 4u; t++) {
#if FUSEX
                            const uint xl = xqs[b * 8u + t], xh = xqs[b * 8u + 4u + t];
#else
                            const uint xl = xq.v[xb * 8u + t], xh = xq.v[xb * 8u + 4u + t];
#endif
                            for (uint n = 0u; n < 4u; n++) {
                                const int lo = int((wq[t] >> (8u * n)) & 15u) - 8;
                                const int hi = int((wq[t] >> (8u * n + 4u)) & 15u) - 8;
                                s += lo * sbyte(xl, n) + hi * sbyte(xh, n);
                            }
                        }
#if FUSEX
                        acc[j] += float(s) * (dw * xdv);
#else
                        acc[j] += float(s) * (dw * xd.v[xb]);
#endif
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
#if FUSEX
        if ((pc.flags & (MV_ROPE | MV_TO_KV)) != 0u && lane == 0u && (rl & 1u) == 0u && r + 1u < n_rows) {
            float x0 = red[0][tid], x1 = red[0][tid + TPR];
            const uint pos = uint(step_n_past(pc.step));
            if ((pc.flags & MV_ROPE) != 0u) {
                const uint half_ = pc.head_dim / 2u, i = (r % pc.head_dim) / 2u;
                const float c = F32(pc.rope).v[pos * half_ + i], s = F32(pc.rope).v[pc.rope_sin_offset + pos * half_ + i];
                const float r0 = x0 * c - x1 * s, r1 = x0 * s + x1 * c;
                x0 = r0;
                x1 = r1;
            }
            if ((pc.flags & MV_TO_KV) == 0u) {
                F32(pc.y).v[r] = x0;
                F32(pc.y).v[r + 1u] = x1;
            } else if ((pc.flags & MV_KV_F16) != 0u) {
                U32(pc.y).v[(pos * pc.cache_row + r) >> 1] = pack_f16x2(vec2(x0, x1));
            } else {
                F32(pc.y).v[pos * pc.cache_row + r] = x0;
                F32(pc.y).v[pos * pc.cache_row + r + 1u] = x1;
            }
        }
#endif
        if (lane == 0u && r < n_rows && !(FUSEX != 0 && (pc.flags & (MV_ROPE | MV_TO_KV)) != 0u)) {
            F32 y = F32(ya);
            for (uint j = 0u; j < NC; j++) {
#if FUSEX
                if ((pc.flags & MV_ACCUMULATE) != 0u) y.v[r] += red[j][tid];
                else y.v[r] = red[j][tid];
#else
                if (c0 + j < m) y.v[(c0 + j) * pc.y_stride + r] = red[j][tid];
#endif
            }
        }
        barrier();
    }
}
