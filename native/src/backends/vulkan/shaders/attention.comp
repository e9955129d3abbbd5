#version 450
// Causal GQA attention over each token's own sequence's KV cache (step buffer), one workgroup per
// (head, token), over the keys of positions first_key(pos) .. pos (all earlier ones, or the layer's
// sliding window), which lie in consecutive cache rows from cache_row_of(first) (common.glsl): keys
// in chunks of 128
// (one score per thread), online softmax (running max and sum), thread d accumulates output
// dimension d (and d + 128); head_dim <= 256. Split-K (decode): with n_split > 1 the keys are
// divided over gl_WorkGroupID.z and each workgroup writes {max, sum, acc[hd]} to the partials at
// ((t * n_head + h) * n_split + z) * (hd + 2); attn_combine.comp merges them.
#include "common.glsl"
#define PC_attention
#include "push_constants.h"
#define WG 128u
layout(local_size_x = 128) in;
shared float qs[256];
shared float ps[WG];
shared float red[WG];
float reduce_max(uint tid, float v) {
    red[tid] = v;
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (tid < s) red[tid] = max(red[tid], red[tid + s]);
        barrier();
    }
    float r = red[0];
    barrier();
    return r;
}
float reduce_sum(uint tid, float v) {
    red[tid] = v;
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (tid < s) red[tid] += red[tid + s];
        barrier();
    }
    float r = red[0];
    barrier();
    return r;
}
void main() {
    const uint h = gl_WorkGroupID.x, t = gl_WorkGroupID.y, tid = gl_LocalInvocationID.x;
    const uint hd = pc.head_dim, g = h / (pc.n_head / pc.n_kv), row = pc.cache_row, f16 = pc.cache_f16;
    const uint pos = step_pos(pc.step, t), ring = step_ring(pc.step, t, pc.window);
    const uint first = first_key(pc.step, t, pos, pc.window, ring), row0 = cache_row_of(first, ring);
    const uint n_all = pos - first + 1u, n_split = max(pc.n_split, 1u), z = gl_WorkGroupID.z;
    const uint per = ((n_all + n_split - 1u) / n_split + 31u) & ~31u;
    const uint k0 = min(z * per, n_all), n_keys = min(k0 + per, n_all); /* keys [k0, n_keys) */
    F32 q = F32(pc.q);
    for (uint i = tid; i < hd; i += WG) qs[i] = q.v[t * pc.q_stride + h * hd + i];
    barrier();
    const uvec2 ka = step_cache(pc.step, t, 0u, pc.slot), va = step_cache(pc.step, t, 1u, pc.slot);
    U32 ku = U32(ka), vu = U32(va);
    F32 kf = F32(ka), vf = F32(va);
    float m = -1.0 / 0.0, l = 0.0, acc0 = 0.0, acc1 = 0.0;
    for (uint c0 = k0; c0 < n_keys; c0 += WG) {
        const uint j = c0 + tid;
        float sc = -1.0 / 0.0;
        if (j < n_keys) {
            float dot = 0.0;
            const uint base = (row0 + j) * row + g * hd;
            if (f16 != 0u) {
                for (uint i = 0u; i < hd; i += 2u) {
                    vec2 kk = unpackHalf2x16(ku.v[(base + i) >> 1]);
                    dot += kk.x * qs[i] + kk.y * qs[i + 1u];
                }
            } else {
                for (uint i = 0u; i < hd; i++) dot += kf.v[base + i] * qs[i];
            }
            sc = dot * pc.scale;
        }
        const float cmax = reduce_max(tid, sc);
        const float nm = max(m, cmax);
        const float corr = exp(m - nm);
        const float p = j < n_keys ? exp(sc - nm) : 0.0;
        ps[tid] = p;
        const float csum = reduce_sum(tid, p); /* its barriers also publish ps */
        l = l * corr + csum;
        acc0 *= corr;
        acc1 *= corr;
        const uint nk = min(WG, n_keys - c0);
        for (uint jj = 0u; jj < nk; jj++) {
            const uint base = (row0 + c0 + jj) * row + g * hd;
            const float pj = ps[jj];
            if (tid < hd) {
                const uint e = base + tid;
                acc0 += pj * (f16 != 0u ? unpackHalf2x16(vu.v[e >> 1])[e & 1u] : vf.v[e]);
            }
            if (tid + WG < hd) {
                const uint e = base + tid + WG;
                acc1 += pj * (f16 != 0u ? unpackHalf2x16(vu.v[e >> 1])[e & 1u] : vf.v[e]);
            }
        }
        m = nm;
        barrier(); /* ps is rewritten by the next chunk */
    }
    if (n_split > 1u) {
        F32 part = F32(pc.partials);
        const uint base = ((t * pc.n_head + h) * n_split + z) * (hd + 2u);
        if (tid == 0u) {
            part.v[base] = m; /* -inf and 0 for an empty range */
            part.v[base + 1u] = l;
        }
        if (tid < hd) part.v[base + 2u + tid] = acc0;
        if (tid + WG < hd) part.v[base + 2u + tid + WG] = acc1;
        return;
    }
    F32 o = F32(pc.dst);
    if (tid < hd) o.v[t * pc.dst_stride + h * hd + tid] = acc0 / l;
    if (tid + WG < hd) o.v[t * pc.dst_stride + h * hd + tid + WG] = acc1 / l;
}
