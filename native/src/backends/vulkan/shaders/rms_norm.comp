#version 450
// if add_residual: x += residual; dst = rms_norm(x) * weight, for rows [row0, row0 + groups) (gather:
// the rows the step buffer names). One workgroup per row.
#include "common.glsl"
#define PC_rms_norm
#include "push_constants.h"
layout(local_size_x = 256) in;
shared float red[256];
void main() {
    const uint r = gl_WorkGroupID.x, row = pc.gather != 0u ? step_out_row(pc.step, r) : pc.row0 + r;
    const uint d = pc.n_cols, tid = gl_LocalInvocationID.x;
    F32 x = F32(pc.x);
    float ss = 0.0;
    for (uint i = tid; i < d; i += 256u) {
        float v = x.v[row * pc.x_stride + i];
        if (pc.add_residual != 0u) {
            v += F32(pc.residual).v[row * pc.x_stride + i];
            x.v[row * pc.x_stride + i] = v;
        }
        ss += v * v;
    }
    red[tid] = ss;
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1) {
        if (tid < s) red[tid] += red[tid + s];
        barrier();
    }
    const float scale = 1.0 / sqrt(red[0] / float(d) + pc.eps);
    F32 w = F32(pc.weight), dst = F32(pc.dst);
    for (uint i = tid; i < d; i += 256u) dst.v[r * pc.dst_stride + i] = x.v[row * pc.x_stride + i] * scale * w.v[i];
}
