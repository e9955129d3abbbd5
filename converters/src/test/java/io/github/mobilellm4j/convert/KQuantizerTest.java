package io.github.mobilellm4j.convert;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Our K-quant quantizer (docs/k-quants.md): known answers, and error bounds on random rows. */
class KQuantizerTest {

    static byte[] q(GgmlType t, float[] x) {
        MemorySegment seg = MemorySegment.ofArray(new byte[(int) t.rowBytes(x.length)]);
        assertThat(RowQuantizer.quantizeRow(t, x, 0, x.length, seg, 0)).isEqualTo(seg.byteSize());
        return seg.toArray(ValueLayout.JAVA_BYTE);
    }

    static float[] dq(GgmlType t, byte[] b, int n) {
        float[] y = new float[n];
        RowQuantizer.dequantizeRow(t, MemorySegment.ofArray(b), 0, y, 0, n);
        return y;
    }

    private static float half(byte[] b, int at) {
        return Float.float16ToFloat((short) ((b[at] & 0xff) | (b[at + 1] & 0xff) << 8));
    }

    /**
     * Known answers worked by hand through the spec. Q4_K, x = 0..15 twice per sub-block: the
     * min/max start s = 1, m = 0 is already the least-squares fit (det = 32*2480 - 240^2 = 21760,
     * s2 = 1, c2 = 0). maxs = 1: d = fp16(1/63) = 2^-6 * (1 + 16/1024) = 0x2410, sc = rne(63.015) = 63,
     * es = 63d = 0.99976, q = rne(x / es) = x; dmin = 0, every m = 0.
     * Scales: bytes 0..3 = 63 | (63 >> 4) << 6 = 0xFF, bytes 4..7 = 0, bytes 8..11 = 63 & 15 = 0x0F.
     */
    @Test
    void q4_kKnownBlock() {
        float[] x = new float[256];
        for (int e = 0; e < 256; e++) x[e] = e % 16;
        byte[] b = q(GgmlType.Q4_K, x);
        byte[] expect = new byte[144];
        expect[0] = 0x10;
        expect[1] = 0x24;
        for (int j = 0; j < 4; j++) {
            expect[4 + j] = (byte) 0xFF;
            expect[12 + j] = 0x0F;
        }
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) expect[16 + 32 * c + l] = (byte) (0x11 * (l % 16)); // q = l % 16 in both nibbles
        }
        assertThat(b).isEqualTo(expect);
    }

    /** Q5_K, x = 0..31 per sub-block: as Q4_K (fit s = 1, m = 0; d = 0x2410, sc = 63), q = x. */
    @Test
    void q5_kKnownBlock() {
        float[] x = new float[256];
        for (int e = 0; e < 256; e++) x[e] = e % 32;
        byte[] b = q(GgmlType.Q5_K, x);
        byte[] expect = new byte[176];
        expect[0] = 0x10;
        expect[1] = 0x24;
        for (int j = 0; j < 4; j++) {
            expect[4 + j] = (byte) 0xFF;
            expect[12 + j] = 0x0F;
        }
        // elements 64c + l and 64c + 32 + l both have q = l: fifth bits set in every chunk for l >= 16
        for (int l = 16; l < 32; l++) expect[16 + l] = (byte) 0xFF;
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) expect[48 + 32 * c + l] = (byte) (0x11 * (l % 16));
        }
        assertThat(b).isEqualTo(expect);
    }

    /**
     * Q6_K, x = -8..7 per sub-block: vmax = -8 (first largest), s = 0.25, q = 4x, refit
     * Svq/Sqq = 1376/5504 = 0.25. amax = 0.25: d = fp16(0.25/127) = 2^-9 * (1 + 8/1024) = 0x1808,
     * sc = rne(127.008) = 127, e = 127d = 0.249985, q = rne(x/e) = 4x, stored 4x + 32 = 4 * (e % 16).
     */
    @Test
    void q6_kKnownBlock() {
        float[] x = new float[256];
        for (int e = 0; e < 256; e++) x[e] = e % 16 - 8;
        byte[] b = q(GgmlType.Q6_K, x);
        byte[] expect = new byte[210];
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int k = l % 16, stored = 4 * k; // the four elements l, l+32, l+64, l+96 all have e % 16 = k
                expect[64 * h + l] = (byte) (0x11 * (stored & 15));
                expect[64 * h + l + 32] = (byte) (0x11 * (stored & 15));
                expect[128 + 32 * h + l] = (byte) (0x55 * (stored >> 4));
            }
        }
        for (int s = 0; s < 16; s++) expect[192 + s] = 127;
        expect[208] = 0x08;
        expect[209] = 0x18;
        assertThat(b).isEqualTo(expect);
        float[] y = dq(GgmlType.Q6_K, b, 256);
        assertThat(y[0]).isEqualTo(0x1.02p-9f * 127 * -32); // d * sc * (q - 32)
        assertThat(y[15]).isEqualTo(0x1.02p-9f * 127 * 28);
    }

    @Test
    void zeroRows() {
        assertThat(q(GgmlType.Q4_K, new float[256])).isEqualTo(new byte[144]);
        assertThat(q(GgmlType.Q5_K, new float[256])).isEqualTo(new byte[176]);
        // Q6_K: q = 0 is stored as 32: low nibbles 0, high bits 2 -> qh bytes 0b10101010
        byte[] expect = new byte[210];
        for (int i = 128; i < 192; i++) expect[i] = (byte) 0xAA;
        assertThat(q(GgmlType.Q6_K, new float[256])).isEqualTo(expect);
        for (GgmlType t : new GgmlType[] {GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K}) {
            for (float v : dq(t, q(t, new float[256]), 256)) assertThat(v).as("%s of zeros", t).isZero();
        }
    }

    @Test
    void constantAndOneSignedRows() {
        // a constant negative sub-block has s = 0, m = -v: exact through dmin when it is the largest m
        float[] x = new float[256];
        java.util.Arrays.fill(x, -3f);
        float[] y = dq(GgmlType.Q4_K, q(GgmlType.Q4_K, x), 256);
        float dmin = Float.float16ToFloat(Float.floatToFloat16(3f / 63));
        for (float v : y) assertThat(v).isEqualTo(-(dmin * 63));
        // all positive: the minimum is held at 0 (m = 0, dmin = 0)
        for (int e = 0; e < 256; e++) x[e] = 1 + e % 7;
        byte[] b = q(GgmlType.Q5_K, x);
        assertThat(b[2]).as("dmin, low byte").isZero();
        assertThat(b[3]).as("dmin, high byte").isZero();
    }

    @Test
    void rowLengthAndTypes() {
        MemorySegment big = MemorySegment.ofArray(new byte[4096]);
        assertThatThrownBy(() -> RowQuantizer.quantizeRow(GgmlType.Q4_K, new float[576], 0, 576, big, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(GgmlType.Q6_K.rowBytes(576)).isEqualTo(-1);
        assertThat(GgmlType.Q4_K.rowBytes(1536)).isEqualTo(6 * 144);
        assertThat(GgmlType.Q5_K.rowBytes(1536)).isEqualTo(6 * 176);
        assertThat(GgmlType.Q6_K.rowBytes(1536)).isEqualTo(6 * 210);
        assertThat(GgmlType.Q4_K.id).isEqualTo(12);
        assertThat(GgmlType.Q5_K.id).isEqualTo(13);
        assertThat(GgmlType.Q6_K.id).isEqualTo(14);
        for (GgmlType t : new GgmlType[] {GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K}) {
            assertThat(RowQuantizer.canQuantize(t)).as("canQuantize(%s)", t).isTrue();
        }
    }

    /**
     * A deterministic bound per sub-block. For Q4_K/Q5_K, the min/max start (s0 = (max - min(lo, 0)) / nmax)
     * has RMS error e0 (computed here with the best q in 0..nmax); each least-squares round can only
     * lower it (it is optimal for the current q, and the next q is the best one for the new (s, m)).
     * Rounding s and m to the 6-bit grids moves each value by at most nmax*D/2 + DM/2 (D, DM the
     * stored d and dmin; |sc*D - s| <= D/2 as s/D <= 63.03), and the final q is again the best one,
     * so RMS <= e0 + nmax*D/2 + DM/2. Q6_K likewise: start s0 = vmax/-32 with q in -32..31,
     * 8-bit scales: RMS <= e0 + 32*D/2. Scales are kept large enough that d is an fp16 normal.
     */
    @Test
    void errorBoundPerSubBlock() {
        Random rnd = new Random(11);
        int n = 256 * 8;
        for (GgmlType t : new GgmlType[] {GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K}) {
            for (int trial = 0; trial < 24; trial++) {
                double sigma = new double[] {0.5, 1, 30, 1000}[trial % 4];
                double shift = new double[] {0, 2, -1}[trial % 3] * sigma;
                float[] x = new float[n];
                for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextGaussian() * sigma + shift);
                byte[] b = q(t, x);
                float[] y = dq(t, b, n);
                int sub = t == GgmlType.Q6_K ? 16 : 32;
                for (int s = 0; s < n / sub; s++) {
                    int o = s * sub;
                    int blk = o / 256 * t.blockBytes;
                    double bound, amax = 0, se = 0;
                    for (int j = 0; j < sub; j++) {
                        amax = Math.max(amax, Math.abs(x[o + j]));
                        se += (x[o + j] - (double) y[o + j]) * (x[o + j] - (double) y[o + j]);
                    }
                    if (t == GgmlType.Q6_K) {
                        double d = half(b, blk + 208);
                        bound = startRms(x, o, sub, vmax(x, o, sub) / -32, 0, -32, 31) + 16 * d;
                    } else {
                        int nmax = t == GgmlType.Q4_K ? 15 : 31;
                        double lo = 0, hi = x[o];
                        for (int j = 0; j < sub; j++) {
                            lo = Math.min(lo, x[o + j]);
                            hi = Math.max(hi, x[o + j]);
                        }
                        double d = half(b, blk), dmin = half(b, blk + 2);
                        bound = startRms(x, o, sub, (hi - lo) / nmax, lo, 0, nmax) + nmax * d / 2 + dmin / 2;
                    }
                    bound += 1e-5 * amax; // float32 rounding inside the quantizer and dequantizer
                    double rms = Math.sqrt(se / sub);
                    assertThat(rms).as("%s trial %d sub-block %d: rms", t, trial, s).isLessThanOrEqualTo(bound);
                }
            }
        }
    }

    private static double vmax(float[] x, int o, int n) {
        double best = 0;
        for (int j = 0; j < n; j++) if (Math.abs(x[o + j]) > Math.abs(best)) best = x[o + j];
        return best;
    }

    /** RMS error of x ~ s*q + c with the best integer q in [qa, qb]. */
    private static double startRms(float[] x, int o, int n, double s, double c, int qa, int qb) {
        double se = 0;
        for (int j = 0; j < n; j++) {
            long q = Math.max(qa, Math.min(qb, Math.round((x[o + j] - c) / s)));
            se += Math.pow(x[o + j] - (s * q + c), 2);
        }
        return Math.sqrt(se / n);
    }

    /**
     * Gaussian rows: relative RMS error against the step size. A uniform quantizer of step D has
     * RMS rounding error D/sqrt(12); the step of a sub-block here is (max - min(lo, 0)) / nmax
     * (Q4_K/Q5_K) or |vmax| / 32 (Q6_K), so the error is compared with sqrt(mean(step^2) / 12):
     * the least-squares refit lowers it, rounding the sub-block scales to 6 (8) bits raises it by a
     * few percent, hence the 1.1 margin (measured ratios are about 0.91, 0.94 and 0.95). More bits
     * give less error, and Q4_K beats Q4_0 on the same data.
     */
    @Test
    void gaussianRowsRelativeError() {
        for (double sigma : new double[] {1.0, 0.02}) {
            Random rnd = new Random(5);
            int rows = 48, n = 1536;
            float[] x = new float[rows * n];
            for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * sigma);
            double[] rel = new double[3];
            GgmlType[] types = {GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K};
            for (int k = 0; k < 3; k++) {
                GgmlType t = types[k];
                double se = 0, ss = 0, step2 = 0;
                int subs = 0;
                for (int r = 0; r < rows; r++) {
                    float[] row = java.util.Arrays.copyOfRange(x, r * n, (r + 1) * n);
                    float[] y = dq(t, q(t, row), n);
                    for (int i = 0; i < n; i++) {
                        se += (row[i] - (double) y[i]) * (row[i] - (double) y[i]);
                        ss += (double) row[i] * row[i];
                    }
                    int sub = t == GgmlType.Q6_K ? 16 : 32;
                    for (int o = 0; o < n; o += sub) {
                        double step;
                        if (t == GgmlType.Q6_K) {
                            step = Math.abs(vmax(row, o, sub)) / 32;
                        } else {
                            double lo = 0, hi = row[o];
                            for (int j = 0; j < sub; j++) {
                                lo = Math.min(lo, row[o + j]);
                                hi = Math.max(hi, row[o + j]);
                            }
                            step = (hi - lo) / (t == GgmlType.Q4_K ? 15 : 31);
                        }
                        step2 += step * step;
                        subs++;
                    }
                }
                rel[k] = Math.sqrt(se / ss);
                double bound = 1.1 * Math.sqrt(step2 / subs / 12) / Math.sqrt(ss / x.length);
                assertThat(rel[k]).as("%s sigma %s: relative rms", t, sigma).isLessThan(bound);
            }
            assertThat(rel[2]).as("relative rms Q6_K < Q5_K: %s", java.util.Arrays.toString(rel)).isLessThan(rel[1]);
            assertThat(rel[1]).as("relative rms Q5_K < Q4_K: %s", java.util.Arrays.toString(rel)).isLessThan(rel[0]);
            double se0 = 0, ss0 = 0;
            for (int r = 0; r < rows; r++) {
                float[] row = java.util.Arrays.copyOfRange(x, r * n, (r + 1) * n);
                float[] y = dq(GgmlType.Q4_0, q(GgmlType.Q4_0, row), n);
                for (int i = 0; i < n; i++) {
                    se0 += (row[i] - (double) y[i]) * (row[i] - (double) y[i]);
                    ss0 += (double) row[i] * row[i];
                }
            }
            assertThat(rel[0]).as("relative rms Q4_K vs Q4_0").isLessThan(Math.sqrt(se0 / ss0));
        }
    }
}
