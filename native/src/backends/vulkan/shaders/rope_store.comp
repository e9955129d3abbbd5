#version 450
// RoPE (adjacent pairs) on q in place and on k, then k and v stored in the row of the token's
// position in its sequence's KV cache (step buffer). One workgroup per token.
#include "common.glsl"
#define PC_rope_store
#include "push_constants.h"
layout(local_size_x = 64) in;
void main() {
    const uint t = gl_WorkGroupID.x, hd = pc.head_dim, half_ = hd / 2u;
    const uint pos = step_pos(pc.step, t);
    U32 k_cache = U32(step_cache(pc.step, t, 0u, pc.layer)), v_cache = U32(step_cache(pc.step, t, 1u, pc.layer));
    F32 cs = F32(pc.rope_cos), sn = F32(pc.rope_sin);
    F32 q = F32(pc.q), k = F32(pc.k), v = F32(pc.v);
    const uint nq = pc.n_head * half_, nk = pc.n_kv * half_;
    for (uint p = gl_LocalInvocationID.x; p < nq + 2u * nk; p += 64u) {
        if (p < nq + nk) {
            const uint head = p / half_, i = p % half_;
            const float c = cs.v[pos * half_ + i], s = sn.v[pos * half_ + i];
            if (head < pc.n_head) {
                const uint o = t * pc.q_stride + head * hd + 2u * i;
                float x0 = q.v[o], x1 = q.v[o + 1u];
                q.v[o] = x0 * c - x1 * s;
                q.v[o + 1u] = x0 * s + x1 * c;
            } else {
                const uint kh = head - pc.n_head;
                const uint o = t * pc.kv_stride + kh * hd + 2u * i;
                float x0 = k.v[o], x1 = k.v[o + 1u];
                vec2 r = vec2(x0 * c - x1 * s, x0 * s + x1 * c);
                const uint co = pos * pc.cache_row + kh * hd + 2u * i;
                if (pc.cache_f16 != 0u) k_cache.v[co >> 1] = pack_f16x2(r);
                else { k_cache.v[co] = floatBitsToUint(r.x); k_cache.v[co + 1u] = floatBitsToUint(r.y); }
            }
        } else {
            const uint e = 2u * (p - nq - nk); /* pair of v values */
            vec2 r = vec2(v.v[t * pc.kv_stride + e], v.v[t * pc.kv_stride + e + 1u]);
            const uint co = pos * pc.cache_row + e;
            if (pc.cache_f16 != 0u) v_cache.v[co >> 1] = pack_f16x2(r);
            else { v_cache.v[co] = floatBitsToUint(r.x); v_cache.v[co + 1u] = floatBitsToUint(r.y); }
        }
    }
}
