#version 450
// gate = silu(gate) * up over n contiguous values.
#include "common.glsl"
#define PC_swiglu
#include "push_constants.h"
layout(local_size_x = 256) in;
void main() {
    F32 g = F32(pc.gate), u = F32(pc.up);
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += gl_NumWorkGroups.x * 256u) {
        float x = g.v[i];
        g.v[i] = x / (1.0 + exp(-x)) * u.v[i];
    }
}
