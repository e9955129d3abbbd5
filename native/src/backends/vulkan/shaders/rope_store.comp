#version 450
// RoPE (adjacent pairs) on q in place and on k, then k and v stored in the KV cache row of the
// token's position n_past + t. One workgroup per token.
// a0 q, a1 k, a2 v, a3 cos table, a4 sin table ([pos][hd/2]), a5 K cache layer, a6 V cache layer.
// u0 hd, u1 n_head, u2 n_kv, u3 q stride, u4 k/v stride, u5 1 = f16 cache, u6 cache row values.
#include "common.glsl"
layout(local_size_x = 64) in;
void main() {
    const uint t = gl_WorkGroupID.x, half_ = pc.u0 / 2u;
    const uint pos = uint(step_n_past()) + t;
    F32 cs = F32(pc.a3), sn = F32(pc.a4);
    F32 q = F32(pc.a0), k = F32(pc.a1), v = F32(pc.a2);
    const uint nq = pc.u1 * half_, nk = pc.u2 * half_;
    for (uint p = gl_LocalInvocationID.x; p < nq + 2u * nk; p += 64u) {
        if (p < nq + nk) {
            const uint head = p / half_, i = p % half_;
            const float c = cs.v[pos * half_ + i], s = sn.v[pos * half_ + i];
            if (head < pc.u1) {
                const uint o = t * pc.u3 + head * pc.u0 + 2u * i;
                float x0 = q.v[o], x1 = q.v[o + 1u];
                q.v[o] = x0 * c - x1 * s;
                q.v[o + 1u] = x0 * s + x1 * c;
            } else {
                const uint kh = head - pc.u1;
                const uint o = t * pc.u4 + kh * pc.u0 + 2u * i;
                float x0 = k.v[o], x1 = k.v[o + 1u];
                vec2 r = vec2(x0 * c - x1 * s, x0 * s + x1 * c);
                const uint co = pos * pc.u6 + kh * pc.u0 + 2u * i;
                if (pc.u5 != 0u) U32(pc.a5).v[co >> 1] = pack_f16x2(r);
                else { F32(pc.a5).v[co] = r.x; F32(pc.a5).v[co + 1u] = r.y; }
            }
        } else {
            const uint e = 2u * (p - nq - nk); /* pair of v values */
            vec2 r = vec2(v.v[t * pc.u4 + e], v.v[t * pc.u4 + e + 1u]);
            const uint co = pos * pc.u6 + e;
            if (pc.u5 != 0u) U32(pc.a6).v[co >> 1] = pack_f16x2(r);
            else { F32(pc.a6).v[co] = r.x; F32(pc.a6).v[co + 1u] = r.y; }
        }
    }
}
