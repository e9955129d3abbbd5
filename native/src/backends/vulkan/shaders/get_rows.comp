#version 450
// Embedding lookup: dst row i = dequantized row tokens[i] of the weight. One workgroup per token.
#include "common.glsl"
#define PC_get_rows
#include "push_constants.h"
layout(local_size_x = 256) in;
void main() {
    const uint t = gl_WorkGroupID.x, d = pc.n_cols;
    const uint r = step_token(pc.step, t);
    U32 w = U32(pc.weights);
    F32 dst = F32(pc.dst);
    for (uint i = gl_LocalInvocationID.x; i < d; i += 256u) {
        float x;
        if (pc.type == 0u) {
            x = F32(pc.weights).v[r * d + i];
        } else if (pc.type == 1u) {
            x = half_at(w, r * d + i);
        } else if (pc.type == 8u) {
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
        dst.v[t * pc.dst_stride + i] = x;
    }
}
