#version 450
// Positions q (in place) and k of token t as the layer says (pc.flags: RoPE on adjacent pairs, then
// QK-norm; temperature tuning of q), then k and v are stored in the KV cache row of the token's
// position in its sequence's cache (step buffer; both copies of a ring row). One workgroup per token, heads one after the
// other: thread i takes pairs i, i + 64, ... of a head (head_dim <= 256: at most 2 pairs each).
#include "common.glsl"
#define PC_rope_store
#include "push_constants.h"
#define WG 64u
layout(local_size_x = 64) in;
shared float red[WG];

float reduce_sum(uint tid, float v) {
    red[tid] = v;
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (tid < s) red[tid] += red[tid + s];
        barrier();
    }
    const float r = red[0];
    barrier();
    return r;
}

void store_pair(uvec2 cache, uint row, uint e, vec2 r) {
    const uint co = row * pc.cache_row + e;
    if (pc.cache_f16 != 0u) U32(cache).v[co >> 1] = pack_f16x2(r);
    else { F32(cache).v[co] = r.x; F32(cache).v[co + 1u] = r.y; }
}

// The pair at value e of a K or V row, into the position's row (and its ring copy).
void store(uvec2 cache, uint pos, uint ring, uint e, vec2 r) {
    const uint row = cache_row_of(pos, ring);
    store_pair(cache, row, e, r);
    if (ring != 0u) store_pair(cache, row + ring, e, r);
}

void main() {
    const uint t = gl_WorkGroupID.x, tid = gl_LocalInvocationID.x, hd = pc.head_dim, half_ = hd / 2u;
    const uint pos = step_pos(pc.step, t), ring = step_ring(pc.step, t, pc.window);
    const uvec2 k_cache = step_cache(pc.step, t, 0u, pc.slot), v_cache = step_cache(pc.step, t, 1u, pc.slot);
    F32 cs = F32(pc.rope_cos), sn = F32(pc.rope_sin);
    F32 q = F32(pc.q), k = F32(pc.k), v = F32(pc.v);
    const float temp = (pc.flags & RS_TEMP) != 0u ? 1.0 + pc.temp_scale * log(float((pos + 1u) / pc.temp_floor) + 1.0) : 1.0;
    for (uint head = 0u; head < pc.n_head + pc.n_kv; head++) { /* uniform over the workgroup */
        const bool is_q = head < pc.n_head;
        const uint base = is_q ? t * pc.q_stride + head * hd : t * pc.kv_stride + (head - pc.n_head) * hd;
        vec2 x[2];
        float ss = 0.0;
        for (uint j = 0u; j < 2u; j++) {
            const uint i = tid + j * WG;
            x[j] = vec2(0.0);
            if (i >= half_) continue;
            x[j] = is_q ? vec2(q.v[base + 2u * i], q.v[base + 2u * i + 1u]) : vec2(k.v[base + 2u * i], k.v[base + 2u * i + 1u]);
            if ((pc.flags & RS_ROPE) != 0u) {
                const float c = cs.v[pos * half_ + i], s = sn.v[pos * half_ + i];
                x[j] = vec2(x[j].x * c - x[j].y * s, x[j].x * s + x[j].y * c);
            }
            ss += dot(x[j], x[j]);
        }
        float scale = is_q ? temp : 1.0;
        if ((pc.flags & RS_QK_NORM) != 0u) scale *= inversesqrt(reduce_sum(tid, ss) / float(hd) + pc.eps);
        for (uint j = 0u; j < 2u; j++) {
            const uint i = tid + j * WG;
            if (i >= half_) continue;
            const vec2 r = x[j] * scale;
            if (is_q) {
                q.v[base + 2u * i] = r.x;
                q.v[base + 2u * i + 1u] = r.y;
            } else {
                store(k_cache, pos, ring, (head - pc.n_head) * hd + 2u * i, r);
            }
        }
    }
    for (uint e = 2u * tid; e < pc.cache_row; e += 2u * WG) { /* pairs of v values */
        store(v_cache, pos, ring, e, vec2(v.v[t * pc.kv_stride + e], v.v[t * pc.kv_stride + e + 1u]));
    }
}
