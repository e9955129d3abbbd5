/* e^x per lane, written once for every x86 vector width (used by SwiGLU and attention). Included
 * by an ISA's kernel file after it defines the vector of floats and the two steps whose intrinsics
 * differ by width:
 *
 *   vf, VF(op)              the vector type and the width's intrinsic for op (as attn_gqa_body.h)
 *   vf_round_nearest(a)     a rounded to the nearest integer, ties to even
 *   vf_scale_pow2(p, n)     p * 2^n for integral n in [-151, 145], rounded once as the product is
 *
 * n = round(x / ln 2), r = x - n ln 2 with ln 2 in two parts (Cody-Waite, so r is exact to float
 * precision), e^r by its degree-7 Taylor polynomial (|r| <= ln2 / 2: truncation below 5e-9
 * relative, under float rounding), scaled by 2^n. x is clamped to [-104, 100], where the result
 * is already 0 resp. infinity in float (as expf gives), so n stays finite. */
#ifndef VF
#error "define the vector type vf, VF(op), vf_round_nearest and vf_scale_pow2 before including vf_exp_body.h"
#endif

MLLM_INLINE vf vf_exp(vf x) {
    x = VF(min_ps)(VF(max_ps)(x, VF(set1_ps)(-104.0f)), VF(set1_ps)(100.0f));
    const vf n = vf_round_nearest(VF(mul_ps)(x, VF(set1_ps)(1.44269504088896341f)));
    vf r = VF(fnmadd_ps)(n, VF(set1_ps)(0.693145751953125f), x);
    r = VF(fnmadd_ps)(n, VF(set1_ps)(1.428606765330187e-06f), r);
    vf p = VF(set1_ps)(1.0f / 5040.0f);
    p = VF(fmadd_ps)(p, r, VF(set1_ps)(1.0f / 720.0f));
    p = VF(fmadd_ps)(p, r, VF(set1_ps)(1.0f / 120.0f));
    p = VF(fmadd_ps)(p, r, VF(set1_ps)(1.0f / 24.0f));
    p = VF(fmadd_ps)(p, r, VF(set1_ps)(1.0f / 6.0f));
    p = VF(fmadd_ps)(p, r, VF(set1_ps)(0.5f));
    p = VF(fmadd_ps)(p, r, VF(set1_ps)(1.0f));
    p = VF(fmadd_ps)(p, r, VF(set1_ps)(1.0f));
    return vf_scale_pow2(p, n);
}
