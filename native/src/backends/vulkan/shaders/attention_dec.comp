#version 450
// Decode attention (a few tokens, each over its own sequence's f16 KV cache up to its position,
// within the layer's window as attention.comp; head_dim 64) in one dispatch: workgroup (h, z, t) takes a slice of at most 64 keys per pass of
// head h of token t; the slices are merged by whichever workgroup of the (token, head) finishes
// last (an atomic counter each), so no second dispatch and barrier are needed. Short contexts use few slices of at least 16 keys: less merging, more work per group.
// Thread layout: scores one key per thread; values 16 dimension quads x 4 key lanes, so every
// load is a 16- or 8-byte vector and the loops have fixed trip counts (the loads overlap).
// The partials are ((t * n_head + h) * NS + z) * 66 floats (max, sum, acc[64]) for NS = n_split
// workgroups per (token, head).
// With pc.quants set, the merging workgroup also rounds the head's 64 outputs to two q8_0 blocks of
// the next matmul's input (the wo projection), which then needs no quantization pass of its own.
// The counters (one uint per (token, head), zero between dispatches) are the backend's only bound
// buffer: SPIRV-Cross translates atomics on bound buffers to Metal, not atomics through buffer
// device addresses.
#include "common.glsl"
#define PC_attention_dec
#include "push_constants.h"
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer CF32 { float v[]; };
layout(set = 0, binding = 0, std430) coherent buffer Counters { uint v[]; } ctr;
layout(buffer_reference, std430, buffer_reference_align = 8) buffer UV2 { uvec2 v[]; };
layout(local_size_x = 64) in;
shared vec4 q4[16];
shared float ps[64];
shared float red[64];
shared vec4 accs[64];
shared uint is_last;

float reduce_max(uint tid, float v) {
    red[tid] = v;
    barrier();
    for (uint s = 32u; s > 0u; s >>= 1) {
        if (tid < s) red[tid] = max(red[tid], red[tid + s]);
        barrier();
    }
    const float r = red[0];
    barrier();
    return r;
}
float reduce_sum(uint tid, float v) {
    red[tid] = v;
    barrier();
    for (uint s = 32u; s > 0u; s >>= 1) {
        if (tid < s) red[tid] += red[tid + s];
        barrier();
    }
    const float r = red[0];
    barrier();
    return r;
}

void main() {
    const uint h = gl_WorkGroupID.x, z = gl_WorkGroupID.y, t = gl_WorkGroupID.z, tid = gl_LocalInvocationID.x;
    const uint ns = pc.n_split, row = pc.cache_row, g = h / (pc.n_head / pc.n_kv), th = t * pc.n_head + h;
    const uint pos = step_pos(pc.step, t), ring = step_ring(pc.step, t, pc.window);
    const uint first = first_key(pc.step, t, pos, pc.window, ring), row0 = cache_row_of(first, ring);
    const uint n_all = pos - first + 1u; /* keys first..pos in rows row0.. (attention.comp) */
    const uint per = max(16u, (n_all + ns - 1u) / ns), n_used = (n_all + per - 1u) / per;
    if (z >= n_used) return; /* uniform over the workgroup */
    const uint k0 = z * per, k1 = min(k0 + per, n_all);
    if (tid < 16u) q4[tid] = V4(pc.q).v[(t * pc.q_stride) / 4u + h * 16u + tid] * pc.scale;
    barrier();
    const uint dq = tid & 15u, kl = tid >> 4;
    UV4 kc = UV4(step_cache(pc.step, t, 0u, pc.slot));
    UV2 vc = UV2(step_cache(pc.step, t, 1u, pc.slot));
    float m = -1.0 / 0.0, l = 0.0;
    vec4 acc = vec4(0.0);
    for (uint c0 = k0; c0 < k1; c0 += 64u) {
        const uint j = c0 + tid;
        float s = -1.0 / 0.0;
        if (j < k1) {
            const uint base = ((row0 + j) * row + g * 64u) / 8u;
            float d = 0.0;
            for (uint t = 0u; t < 8u; t++) {
                const uvec4 w = kc.v[base + t];
                d += dot(vec4(unpackHalf2x16(w.x), unpackHalf2x16(w.y)), q4[2u * t]) +
                     dot(vec4(unpackHalf2x16(w.z), unpackHalf2x16(w.w)), q4[2u * t + 1u]);
            }
            s = d;
        }
        const float nm = max(m, reduce_max(tid, s));
        const float corr = exp(m - nm);
        ps[tid] = j < k1 ? exp(s - nm) : 0.0;
        const float csum = reduce_sum(tid, ps[tid]); /* its barriers also publish ps */
        l = l * corr + csum;
        acc *= corr;
        const uint nk = min(64u, k1 - c0);
        for (uint jj = kl; jj < nk; jj += 4u) {
            const uvec2 v = vc.v[((row0 + c0 + jj) * row + g * 64u) / 4u + dq];
            acc += ps[jj] * vec4(unpackHalf2x16(v.x), unpackHalf2x16(v.y));
        }
        m = nm;
        barrier(); /* ps is rewritten by the next pass */
    }
    accs[tid] = acc;
    barrier();
    CF32 part = CF32(pc.partials);
    const uint pb = (th * ns + z) * 66u;
    if (tid < 16u) {
        const vec4 a = accs[tid] + accs[tid + 16u] + accs[tid + 32u] + accs[tid + 48u];
        part.v[pb + 2u + 4u * tid] = a.x;
        part.v[pb + 3u + 4u * tid] = a.y;
        part.v[pb + 4u + 4u * tid] = a.z;
        part.v[pb + 5u + 4u * tid] = a.w;
        if (tid == 0u) {
            part.v[pb] = m;
            part.v[pb + 1u] = l;
        }
    }
    /* publish the slice, then count it; the group that counts last merges all slices */
    memoryBarrierBuffer();
    barrier();
    if (tid == 0u) is_last = atomicAdd(ctr.v[th], 1u) == n_used - 1u ? 1u : 0u;
    barrier();
    if (is_last == 0u) return;
    memoryBarrierBuffer();
    float mx = -1.0 / 0.0;
    for (uint s = 0u; s < n_used; s++) mx = max(mx, part.v[(th * ns + s) * 66u]);
    float lt = 0.0, o = 0.0;
    for (uint s = 0u; s < n_used; s++) {
        const uint b = (th * ns + s) * 66u;
        const float w = exp(part.v[b] - mx);
        lt += part.v[b + 1u] * w;
        o += part.v[b + 2u + tid] * w;
    }
    const float res = o / lt;
    F32(pc.dst).v[t * pc.dst_stride + h * 64u + tid] = res;
    if (tid == 0u) ctr.v[th] = 0u; /* ready for the next layer */
    if (all(equal(pc.quants, uvec2(0u)))) return;
    /* the head's two q8_0 blocks of the matmul's input row t, as quant_q8.comp rounds them */
    red[tid] = abs(res);
    barrier();
    for (uint s = 16u; s > 0u; s >>= 1) {
        if ((tid & 31u) < s) red[tid] = max(red[tid], red[tid + s]);
        barrier();
    }
    const float d = red[tid & 32u] / 127.0;
    const float id = d != 0.0 ? 1.0 / d : 0.0;
    const float x = res * id;
    ps[tid] = float(q8_round(x));
    barrier();
    const uint nb = pc.n_head * 2u, blk = t * nb + h * 2u;
    if (tid < 16u) {
        uint wd = 0u;
        for (uint n = 0u; n < 4u; n++) wd |= (uint(int(ps[4u * tid + n])) & 0xffu) << (n * 8u);
        U32(pc.quants).v[blk * 8u + tid] = wd;
    }
    if ((tid & 31u) == 0u) F32(pc.scales).v[blk + tid / 32u] = unpackHalf2x16(f2h(d)).x;
}
