#version 450
// Merges split-K attention partials (attention.comp with n_split > 1): one workgroup per
// (head, token), thread d owns output dimension d. a3 out, a4 partials; u0 hd, u1 n_head,
// u4 out stride, u7 n_split.
#include "common.glsl"
layout(local_size_x = 256) in;
void main() {
    const uint h = gl_WorkGroupID.x, t = gl_WorkGroupID.y, d = gl_LocalInvocationID.x, hd = pc.u0, ns = pc.u7;
    if (d >= hd) return;
    F32 part = F32(pc.a4);
    const uint base = (t * pc.u1 + h) * ns * (hd + 2u);
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
    F32(pc.a3).v[t * pc.u4 + h * hd + d] = acc / l;
}
