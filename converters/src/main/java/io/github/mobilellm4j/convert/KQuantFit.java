package io.github.mobilellm4j.convert;

/**
 * The per-sub-block fits of our K-quant quantizer (docs/k-quants.md, "Our quantizer"). Every
 * step is float32 in the written order (Java has no FMA contraction); sums run over increasing
 * index, so the native engine's C version gives the same bits.
 */
final class KQuantFit {
    private KQuantFit() {}

    /**
     * rne(v): round half to even, saturating (docs/k-quants.md): a NaN gives 0 and a value beyond
     * the int range gives Integer.MIN_VALUE / MAX_VALUE. Math.rint on the exact double of v rounds
     * as rintf does, and Java's double-to-int narrowing saturates and maps NaN to 0 (JLS 5.1.3).
     */
    static int rne(float v) {
        return (int) Math.rint(v);
    }

    static int clamp(int v, int a, int b) {
        return v < a ? a : Math.min(v, b);
    }

    /** h(v): v rounded to fp16 (nearest even) and back. */
    static float h(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    /**
     * Fits v[off, off+32) ~ s*q - m, q in 0..nmax, m >= 0: a min/max start, then up to 4 rounds of
     * least squares on (s, -m) for the current q (with -m held at 0 when it would be positive).
     * Writes s to out[0] and m to out[1].
     */
    static void affine(float[] v, int off, int nmax, float[] out) {
        final int n = 32;
        final float nf = 32.0f;
        float lo = v[off], hi = v[off];
        for (int j = 1; j < n; j++) {
            if (v[off + j] < lo) lo = v[off + j];
            if (v[off + j] > hi) hi = v[off + j];
        }
        if (lo > 0) lo = 0;
        if (hi == lo) {
            out[0] = 0;
            out[1] = -lo;
            return;
        }
        float s = (hi - lo) / nmax;
        float m = -lo;
        for (int it = 0; it < 4; it++) {
            float sq = 0, sqq = 0, sv = 0, svq = 0;
            for (int j = 0; j < n; j++) {
                float x = v[off + j];
                float q = clamp(rne((x + m) / s), 0, nmax);
                sq += q;
                sqq += q * q;
                sv += x;
                svq += x * q;
            }
            float det = nf * sqq - sq * sq;
            if (det <= 0) break;
            float s2 = (nf * svq - sq * sv) / det;
            float c2 = (sv - s2 * sq) / nf;
            if (c2 > 0) {
                c2 = 0;
                s2 = svq / sqq;
            }
            if (!(s2 > 0)) break;
            s = s2;
            m = -c2;
        }
        out[0] = s;
        out[1] = m;
    }

    /**
     * The Q6_K scale of v[off, off+16): s = vmax / -32 (vmax the value of largest magnitude, first
     * wins), then 2 rounds of least squares on s for the current q in -32..31; 0 for a zero block.
     */
    static float symmetric(float[] v, int off) {
        final int n = 16;
        float amax = 0, vmax = 0;
        for (int j = 0; j < n; j++) {
            float a = Math.abs(v[off + j]);
            if (a > amax) {
                amax = a;
                vmax = v[off + j];
            }
        }
        if (vmax == 0) return 0;
        float s = vmax / -32.0f;
        for (int it = 0; it < 2; it++) {
            float sqq = 0, svq = 0;
            for (int j = 0; j < n; j++) {
                float q = clamp(rne(v[off + j] / s), -32, 31);
                sqq += q * q;
                svq += v[off + j] * q;
            }
            if (sqq > 0) s = svq / sqq;
        }
        return s;
    }
}
