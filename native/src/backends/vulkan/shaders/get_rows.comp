#version 450
// Embedding lookup: dst row i = dequantized row tokens[i] of the weight. One workgroup per token.
// u0 = weight type (0 f32, 1 f16, 8 q8_0, 2 q4_0), u1 = row length, u3 = dst row stride (floats).
#include "common.glsl"
layout(local_size_x = 256) in;
void main() {
    const uint t = gl_WorkGroupID.x, d = pc.u1;
    const uint r = uint(step_token(t));
    U32 w = U32(pc.a0);
    F32 dst = F32(pc.a1);
    for (uint i = gl_LocalInvocationID.x; i < d; i += 256u) {
        float x;
        if (pc.u0 == 0u) {
            x = F32(pc.a0).v[r * d + i];
        } else if (pc.u0 == 1u) {
            x = half_at(w, r * d + i);
        } else if (pc.u0 == 8u) {
            uint gb = r * (d / 32u) + i / 32u, j = i % 32u;
            uint byte = gb * 34u + 2u + j;
            x = half_at(w, gb * 17u) * float(sbyte(w.v[byte >> 2], byte & 3u));
        } else {
            uint gb = r * (d / 32u) + i / 32u, j = i % 32u;
            uint byte = gb * 18u + 2u + (j % 16u);
            uint q = (w.v[byte >> 2] >> ((byte & 3u) * 8u)) & 0xffu;
            q = j < 16u ? (q & 15u) : (q >> 4);
            x = half_at(w, gb * 9u) * float(int(q) - 8);
        }
        dst.v[t * pc.u3 + i] = x;
    }
}
