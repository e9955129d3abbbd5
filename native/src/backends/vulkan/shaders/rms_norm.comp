#version 450
// if u2: x += res; dst = rms_norm(x) * w, for rows [u4, u4 + groups). One workgroup per row.
// a0 x, a1 w, a2 res, a3 dst; u0 = d, u1 = x/res stride, u3 = dst stride, f0 = eps.
#include "common.glsl"
layout(local_size_x = 256) in;
shared float red[256];
void main() {
    const uint r = gl_WorkGroupID.x, row = pc.u4 + r, d = pc.u0, tid = gl_LocalInvocationID.x;
    F32 x = F32(pc.a0);
    float ss = 0.0;
    for (uint i = tid; i < d; i += 256u) {
        float v = x.v[row * pc.u1 + i];
        if (pc.u2 != 0u) {
            v += F32(pc.a2).v[row * pc.u1 + i];
            x.v[row * pc.u1 + i] = v;
        }
        ss += v * v;
    }
    red[tid] = ss;
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1) {
        if (tid < s) red[tid] += red[tid + s];
        barrier();
    }
    const float scale = 1.0 / sqrt(red[0] / float(d) + pc.f0);
    F32 w = F32(pc.a1), dst = F32(pc.a3);
    for (uint i = tid; i < d; i += 256u) dst.v[r * pc.u3 + i] = x.v[row * pc.u1 + i] * scale * w.v[i];
}
