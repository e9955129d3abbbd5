#version 450
// Merges split-K attention partials (attention.comp with n_split > 1): one workgroup per
// (head, token), thread d owns output dimension d.
#include "common.glsl"
#define PC_attn_combine
#include "push_constants.h"
layout(local_size_x = 256) in;
void main() {
    const uint h = gl_WorkGroupID.x, t = gl_WorkGroupID.y, d = gl_LocalInvocationID.x, hd = pc.head_dim, ns = pc.n_split;
    if (d >= hd) return;
    F32 part = F32(pc.partials);
    const uint base = (t * pc.n_head + h) * ns * (hd + 2u);
    float mx = -1.0 / 0.0;
    for (uint s = 0u; s < ns; s++) mx = max(mx, part.v[base + s * (hd + 2u)]);
    float l = 0.0, acc = 0.0;
    for (uint s = 0u; s < ns; s++) {
        const uint b = base + s * (hd + 2u);
        const float ls = part.v[b + 1u];
        if (ls == 0.0) continue; /* empty key range */
        const float w = exp(part.v[b] - mx);
        l += ls * w;
        acc += part.v[b + 2u + d] * w;
    }
    F32(pc.dst).v[t * pc.dst_stride + h * hd + d] = acc / l;
}
