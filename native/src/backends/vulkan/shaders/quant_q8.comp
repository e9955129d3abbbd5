#version 450
// Activations -> q8_0 blocks, as the CPU engine does before a dot product with q8_0/q4_0 weights:
// d = amax/127 (stored rounded to f16), q = round-half-away(x / d). One thread per 32-value block.
// The values may be computed on the way (flags, the mul_mv.comp flags of the same names): silu(x)
// * up (the SwiGLU before a down projection) or rms_norm(x) * norm_weight (the norm before q/k/v or
// gate/up; one workgroup per row then, which first sums the row's squares). Both are computed as
// mul_mv.comp's decode staging computes them, so a row gets the same bits either way.
#include "common.glsl"
#define PC_quant_q8
#include "push_constants.h"
layout(local_size_x = 64) in;
shared float red[64];

float value(uint c, uint i, float scale) {
    const uint o = c * pc.x_stride + i;
    float g = F32(pc.x).v[o];
    if ((pc.flags & MV_SWIGLU_IN) != 0u) g = g / (1.0 + exp(-g)) * F32(pc.up).v[o];
    if ((pc.flags & MV_NORM_IN) != 0u) g = g * scale * F32(pc.norm_weight).v[i];
    return g;
}

/* block b of row c, the row's norm scale (MV_NORM_IN), into block g of the output */
void quant_block(uint c, uint b, uint g, float scale) {
    U32 q = U32(pc.quants);
    float v[32];
    float amax = 0.0;
    for (uint j = 0u; j < 32u; j++) {
        v[j] = value(c, b * 32u + j, scale);
        amax = max(amax, abs(v[j]));
    }
    const float d = amax / 127.0;
    const float id = d != 0.0 ? 1.0 / d : 0.0;
    for (uint j = 0u; j < 8u; j++) {
        uint wd = 0u;
        for (uint n = 0u; n < 4u; n++) {
            float x = v[j * 4u + n] * id;
            int iv = q8_round(x);
            wd |= (uint(iv) & 0xffu) << (n * 8u);
        }
        q.v[g * 8u + j] = wd;
    }
    F32(pc.scales).v[g] = unpackHalf2x16(f2h(d)).x;
}

void main() {
    const uint nb = pc.k / 32u, tid = gl_LocalInvocationID.x;
    if ((pc.flags & MV_NORM_IN) == 0u) {
        for (uint g = gl_GlobalInvocationID.x; g < nb * pc.m; g += gl_NumWorkGroups.x * 64u) quant_block(g / nb, g % nb, g, 0.0);
        return;
    }
    for (uint c = gl_WorkGroupID.x; c < pc.m; c += gl_NumWorkGroups.x) { /* uniform over the workgroup */
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
        const float scale = 1.0 / sqrt(red[0] / float(pc.k) + pc.eps);
        barrier(); /* red is rewritten by the next row */
        for (uint b = tid; b < nb; b += 64u) quant_block(c, b, c * nb + b, scale);
    }
}
