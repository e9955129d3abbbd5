/* Our K-quant quantizers, exactly as docs/k-quants.md writes them (the Java RowQuantizer must
 * produce the same bytes): float32 only, operations in the written order, sums in increasing
 * index order, no fused multiply-add (src/quant is compiled with -ffp-contract=off). */
#include <math.h>

#include "quant/kquant.h"

/* clamp(rne(v), lo, hi) without undefined conversions: round half to even in float (rintf in the
 * default rounding mode), then bound in float; a NaN counts as 0. For finite in-range values this
 * is (int)lrintf(v) clamped; out of range or infinite it saturates like Java's
 * clamp((int) Math.rint(v), lo, hi). */
static int rne_clamp(float v, int lo, int hi) {
    float r = rintf(v);
    if (r != r) r = 0.0f;
    if (r < (float)lo) return lo;
    if (r > (float)hi) return hi;
    return (int)r;
}

/* h(v): the float value of v rounded to fp16. */
static float h(float v) { return mllm_fp16_to_fp32(mllm_fp32_to_fp16(v)); }

/* Affine fit of one sub-block of 32 values: v ~ s * q - m with q in 0..nmax, s > 0 or s = 0,
 * m >= 0. Least squares over s and the offset, repeated 4 times from the min/max start. */
static void fit_affine(const float *v, int nmax, float *s_out, float *m_out) {
    const float n = 32.0f;
    float lo = v[0], hi = v[0];
    for (int j = 1; j < 32; j++) {
        if (v[j] < lo) lo = v[j];
        if (v[j] > hi) hi = v[j];
    }
    if (lo > 0.0f) lo = 0.0f;
    if (hi == lo) {
        *s_out = 0.0f;
        *m_out = -lo;
        return;
    }
    float s = (hi - lo) / (float)nmax, m = -lo;
    for (int it = 0; it < 4; it++) {
        float sq = 0.0f, sqq = 0.0f, sv = 0.0f, svq = 0.0f;
        for (int j = 0; j < 32; j++) {
            float q = (float)rne_clamp((v[j] + m) / s, 0, nmax);
            sq += q;
            sqq += q * q;
            sv += v[j];
            svq += v[j] * q;
        }
        float det = n * sqq - sq * sq;
        if (det <= 0.0f) break;
        float s2 = (n * svq - sq * sv) / det;
        float c2 = (sv - s2 * sq) / n;
        if (c2 > 0.0f) {
            c2 = 0.0f;
            s2 = svq / sqq;
        }
        if (!(s2 > 0.0f)) break;
        s = s2;
        m = -c2;
    }
    *s_out = s;
    *m_out = m;
}

/* Steps 1-4 of the Q4_K / Q5_K super-block: d, dmin, packed scales, and q[256] in 0..nmax. */
static void quantize_affine_sb(const float *x, int nmax, mllm_fp16 *d, mllm_fp16 *dmin,
                               uint8_t scales[K_SCALE_BYTES], uint8_t q[QK_K]) {
    float s[8], m[8], maxs = 0.0f, maxm = 0.0f;
    for (int i = 0; i < 8; i++) {
        fit_affine(x + 32 * i, nmax, &s[i], &m[i]);
        if (s[i] > maxs) maxs = s[i];
        if (m[i] > maxm) maxm = m[i];
    }
    const float D = h(maxs / 63.0f), DM = h(maxm / 63.0f);
    *d = mllm_fp32_to_fp16(maxs / 63.0f);
    *dmin = mllm_fp32_to_fp16(maxm / 63.0f);
    uint8_t sc[8], mi[8];
    for (int i = 0; i < 8; i++) {
        sc[i] = (uint8_t)(D > 0.0f ? rne_clamp(s[i] / D, 0, 63) : 0);
        mi[i] = (uint8_t)(DM > 0.0f ? rne_clamp(m[i] / DM, 0, 63) : 0);
    }
    kq_scales_pack(sc, mi, scales);
    for (int i = 0; i < 8; i++) {
        const float es = D * (float)sc[i], em = DM * (float)mi[i];
        for (int l = 0; l < 32; l++)
            q[32 * i + l] = (uint8_t)(es > 0.0f ? rne_clamp((x[32 * i + l] + em) / es, 0, nmax) : 0);
    }
}

/* Low nibbles of q (0..31 or 0..15) into qs: chunk c's elements 0..31 low, 32..63 high. */
static void pack_nibbles(const uint8_t q[QK_K], uint8_t qs[QK_K / 2]) {
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++)
            qs[32 * c + l] = (uint8_t)((q[64 * c + l] & 15) | (q[64 * c + 32 + l] & 15) << 4);
}

void mllm_quantize_q4_K_ref(const float *x, block_q4_K *y, int64_t nb) {
    uint8_t q[QK_K];
    for (int64_t b = 0; b < nb; b++, x += QK_K) {
        quantize_affine_sb(x, 15, &y[b].d, &y[b].dmin, y[b].scales, q);
        pack_nibbles(q, y[b].qs);
    }
}

void mllm_quantize_q5_K_ref(const float *x, block_q5_K *y, int64_t nb) {
    uint8_t q[QK_K];
    for (int64_t b = 0; b < nb; b++, x += QK_K) {
        quantize_affine_sb(x, 31, &y[b].d, &y[b].dmin, y[b].scales, q);
        pack_nibbles(q, y[b].qs);
        for (int l = 0; l < 32; l++) { /* bit i of qh[l]: bit 4 of element 32 i + l */
            uint8_t hb = 0;
            for (int i = 0; i < 8; i++) hb |= (uint8_t)(((q[32 * i + l] >> 4) & 1) << i);
            y[b].qh[l] = hb;
        }
    }
}

/* Q6_K scale of one sub-block of 16: start from the value of largest magnitude mapped to -32,
 * then two least-squares refinements of the scale alone. */
static float fit_symmetric16(const float *v) {
    float amax = 0.0f, vmax = 0.0f;
    for (int j = 0; j < 16; j++) {
        if (amax < fabsf(v[j])) {
            amax = fabsf(v[j]);
            vmax = v[j];
        }
    }
    if (vmax == 0.0f) return 0.0f;
    float s = vmax / -32.0f;
    for (int it = 0; it < 2; it++) {
        float sqq = 0.0f, svq = 0.0f;
        for (int j = 0; j < 16; j++) {
            float q = (float)rne_clamp(v[j] / s, -32, 31);
            sqq += q * q;
            svq += v[j] * q;
        }
        if (sqq > 0.0f) s = svq / sqq;
    }
    return s;
}

void mllm_quantize_q6_K_ref(const float *x, block_q6_K *y, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, x += QK_K) {
        float s[16], amax = 0.0f;
        for (int i = 0; i < 16; i++) {
            s[i] = fit_symmetric16(x + 16 * i);
            if (fabsf(s[i]) > amax) amax = fabsf(s[i]);
        }
        const float D = h(amax / 127.0f);
        y[b].d = mllm_fp32_to_fp16(amax / 127.0f);
        uint8_t q[QK_K];
        for (int i = 0; i < 16; i++) {
            int sc = D > 0.0f ? rne_clamp(s[i] / D, -128, 127) : 0;
            y[b].scales[i] = (int8_t)sc;
            const float e = D * (float)sc;
            for (int l = 0; l < 16; l++)
                q[16 * i + l] = (uint8_t)((e != 0.0f ? rne_clamp(x[16 * i + l] / e, -32, 31) : 0) + 32);
        }
        /* half hh, quarter g, index l: ql byte 64 hh + 32 (g & 1) + l, nibble g >> 1; qh byte
         * 32 hh + l, bits 2 g .. 2 g + 1 */
        for (int hh = 0; hh < 2; hh++) {
            for (int l = 0; l < 32; l++) {
                const uint8_t *qq = q + 128 * hh + l;
                y[b].ql[64 * hh + l] = (uint8_t)((qq[0] & 15) | (qq[64] & 15) << 4);
                y[b].ql[64 * hh + 32 + l] = (uint8_t)((qq[32] & 15) | (qq[96] & 15) << 4);
                y[b].qh[32 * hh + l] = (uint8_t)((qq[0] >> 4) | (qq[32] >> 4) << 2 | (qq[64] >> 4) << 4 | (qq[96] >> 4) << 6);
            }
        }
    }
}
