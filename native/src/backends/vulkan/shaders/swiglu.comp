#version 450
// gate = silu(gate) * up over u0 contiguous values. a0 gate, a1 up.
#include "common.glsl"
layout(local_size_x = 256) in;
void main() {
    F32 g = F32(pc.a0), u = F32(pc.a1);
    for (uint i = gl_GlobalInvocationID.x; i < pc.u0; i += gl_NumWorkGroups.x * 256u) {
        float x = g.v[i];
        g.v[i] = x / (1.0 + exp(-x)) * u.v[i];
    }
}
