#version 450
// Activations -> q8_0 blocks, as the CPU engine does before a dot product with q8_0/q4_0 weights:
// d = amax/127 (stored rounded to f16), q = round-half-away(x / d). One thread per 32-value block.
#include "common.glsl"
#define PC_quant_q8
#include "push_constants.h"
layout(local_size_x = 64) in;
void main() {
    const uint nb = pc.k / 32u, total = nb * pc.m;
    F32 x = F32(pc.x);
    U32 q = U32(pc.quants);
    F32 qd = F32(pc.scales);
    for (uint g = gl_GlobalInvocationID.x; g < total; g += gl_NumWorkGroups.x * 64u) {
        const uint c = g / nb, b = g % nb, base = c * pc.x_stride + b * 32u;
        float amax = 0.0;
        for (uint j = 0u; j < 32u; j++) amax = max(amax, abs(x.v[base + j]));
        const float d = amax / 127.0;
        const float id = d != 0.0 ? 1.0 / d : 0.0;
        for (uint j = 0u; j < 8u; j++) {
            uint wd = 0u;
            for (uint n = 0u; n < 4u; n++) {
                float v = x.v[base + j * 4u + n] * id;
                int iv = int(sign(v) * floor(abs(v) + 0.5));
                wd |= (uint(iv) & 0xffu) << (n * 8u);
            }
            q.v[g * 8u + j] = wd;
        }
        qd.v[g] = unpackHalf2x16(f2h(d)).x;
    }
}
