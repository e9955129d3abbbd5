#version 450
// Activations -> q8_0 blocks, as the CPU engine does before a dot product with q8_0/q4_0 weights:
// d = amax/127 (stored rounded to f16), q = round-half-away(x / d). A thread per value, a workgroup
// per two blocks (a thread per block left most of the GPU idle on a step of a few rows), looping
// over pairs_per_group pairs of one row. The values may be computed on the way (flags, the
// mul_mv.comp flags of the same names): silu(x) * up (the SwiGLU before a down projection) or
// rms_norm(x) * norm_weight (the norm before q/k/v or gate/up: each workgroup first sums its row's
// squares). Both are computed as mul_mv.comp's decode staging computes them (the same sum of
// squares, in the same order), so a row gets the same bits either way.
#include "common.glsl"
#define PC_quant_q8
#include "push_constants.h"
layout(local_size_x = 64) in;
shared float red[64];
shared int qs[64];

/* block b of row c (a workgroup's half: b < nb for it to exist), the row's norm scale with MV_NORM_IN */
void quant_pair(uint c, uint b, uint nb, float scale) {
    const uint tid = gl_LocalInvocationID.x, lane = tid & 31u;
    float g = 0.0;
    if (b < nb) {
        const uint i = b * 32u + lane, o = c * pc.x_stride + i;
        g = F32(pc.x).v[o];
        if ((pc.flags & MV_SWIGLU_IN) != 0u) g = g / (1.0 + exp(-g)) * F32(pc.up).v[o];
        if ((pc.flags & MV_NORM_IN) != 0u) g = g * scale * F32(pc.norm_weight).v[i];
    }
    red[tid] = abs(g);
    barrier();
    for (uint s = 16u; s > 0u; s >>= 1) { /* the max of each half (block) */
        if (lane < s) red[tid] = max(red[tid], red[tid + s]);
        barrier();
    }
    const float d = red[tid & 32u] / 127.0;
    const float id = d != 0.0 ? 1.0 / d : 0.0;
    const float x = g * id;
    qs[tid] = q8_round(x);
    barrier();
    if (b < nb && lane < 8u) {
        uint wd = 0u;
        for (uint n = 0u; n < 4u; n++) wd |= (uint(qs[(tid & 32u) + lane * 4u + n]) & 0xffu) << (n * 8u);
        U32(pc.quants).v[(c * nb + b) * 8u + lane] = wd;
        if (lane == 0u) F32(pc.scales).v[c * nb + b] = unpackHalf2x16(f2h(d)).x;
    }
    barrier(); /* red and qs are rewritten by the next pair */
}

void main() {
    const uint nb = pc.k / 32u, pairs = (nb + 1u) / 2u, tid = gl_LocalInvocationID.x;
    const uint per = pc.pairs_per_group, groups_per_row = (pairs + per - 1u) / per;
    for (uint w = gl_WorkGroupID.x; w < pc.m * groups_per_row; w += gl_NumWorkGroups.x) { /* uniform over the workgroup */
        const uint c = w / groups_per_row, p0 = (w % groups_per_row) * per, p1 = min(p0 + per, pairs);
        float scale = 0.0;
        if ((pc.flags & MV_NORM_IN) != 0u) {
            float ss = 0.0;
            for (uint i = tid; i < pc.k; i += 64u) {
                const float v = F32(pc.x).v[c * pc.x_stride + i];
                ss += v * v;
            }
            red[tid] = ss;
            barrier();
            for (uint s = 32u; s > 0u; s >>= 1) {
                if (tid < s) red[tid] += red[tid + s];
                barrier();
            }
            scale = 1.0 / sqrt(red[0] / float(pc.k) + pc.eps);
            barrier(); /* red is reused below */
        }
        for (uint p = p0; p < p1; p++) quant_pair(c, p * 2u + tid / 32u, nb, scale);
    }
}
