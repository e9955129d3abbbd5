package io.github.mobilellm4j.convert;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.github.mobilellm4j.convert.KQuantFit.clamp;
import static io.github.mobilellm4j.convert.KQuantFit.h;
import static io.github.mobilellm4j.convert.KQuantFit.rne;
import static io.github.mobilellm4j.convert.RowQuantizer.LE_SHORT;

/**
 * Q4_K, Q5_K and Q6_K rows: ggml's block layouts (docs/k-quants.md) with our quantizer. Rows are
 * whole super-blocks of 256 (the caller checks the length).
 */
final class KQuants {
    private KQuants() {}

    private static final ValueLayout.OfByte B = ValueLayout.JAVA_BYTE;

    /** Q4_K (five = false) or Q5_K (five = true) super-blocks of x[off, off+n). */
    static void quantizeQ45K(float[] x, int off, int n, MemorySegment dst, long dstOff, boolean five) {
        int nmax = five ? 31 : 15;
        int bb = five ? 176 : 144;
        long qsAt = five ? 48 : 16;
        float[] s = new float[8], m = new float[8], fit = new float[2];
        int[] sc = new int[8], mi = new int[8], q = new int[256];
        for (int b = 0; b < n / 256; b++) {
            int base = off + 256 * b;
            float maxs = 0, maxm = 0;
            for (int i = 0; i < 8; i++) {
                KQuantFit.affine(x, base + 32 * i, nmax, fit);
                s[i] = fit[0];
                m[i] = fit[1];
                // '>' from +0: a sub-block's m of -0.0 never makes dmin -0.0
                if (s[i] > maxs) maxs = s[i];
                if (m[i] > maxm) maxm = m[i];
            }
            float d = h(maxs / 63), dm = h(maxm / 63);
            for (int i = 0; i < 8; i++) {
                sc[i] = d > 0 ? clamp(rne(s[i] / d), 0, 63) : 0;
                mi[i] = dm > 0 ? clamp(rne(m[i] / dm), 0, 63) : 0;
                float es = d * sc[i], em = dm * mi[i];
                for (int j = 0; j < 32; j++) {
                    q[32 * i + j] = es > 0 ? clamp(rne((x[base + 32 * i + j] + em) / es), 0, nmax) : 0;
                }
            }
            long p = dstOff + (long) bb * b;
            dst.set(LE_SHORT, p, Float.floatToFloat16(maxs / 63));
            dst.set(LE_SHORT, p + 2, Float.floatToFloat16(maxm / 63));
            for (int j = 0; j < 4; j++) {
                dst.set(B, p + 4 + j, (byte) (sc[j] | (sc[j + 4] >> 4) << 6));
                dst.set(B, p + 8 + j, (byte) (mi[j] | (mi[j + 4] >> 4) << 6));
                dst.set(B, p + 12 + j, (byte) ((sc[j + 4] & 15) | (mi[j + 4] & 15) << 4));
            }
            for (int c = 0; c < 4; c++) {
                for (int l = 0; l < 32; l++) {
                    int lo = q[64 * c + l], hi = q[64 * c + 32 + l];
                    dst.set(B, p + qsAt + 32 * c + l, (byte) ((lo & 15) | (hi & 15) << 4));
                }
            }
            if (five) {
                for (int l = 0; l < 32; l++) {
                    int qh = 0;
                    for (int c = 0; c < 4; c++) {
                        qh |= (q[64 * c + l] >> 4) << (2 * c);
                        qh |= (q[64 * c + 32 + l] >> 4) << (2 * c + 1);
                    }
                    dst.set(B, p + 16 + l, (byte) qh);
                }
            }
        }
    }

    static void dequantizeQ45K(MemorySegment src, long srcOff, float[] y, int off, int n, boolean five) {
        int bb = five ? 176 : 144;
        long qsAt = five ? 48 : 16;
        int[] sc = new int[8], mi = new int[8], sb = new int[12];
        for (int b = 0; b < n / 256; b++) {
            long p = srcOff + (long) bb * b;
            float d = Float.float16ToFloat(src.get(LE_SHORT, p));
            float dmin = Float.float16ToFloat(src.get(LE_SHORT, p + 2));
            for (int k = 0; k < 12; k++) sb[k] = src.get(B, p + 4 + k) & 0xff;
            for (int i = 0; i < 4; i++) {
                sc[i] = sb[i] & 63;
                mi[i] = sb[i + 4] & 63;
            }
            for (int i = 4; i < 8; i++) {
                sc[i] = (sb[i + 4] & 15) | ((sb[i - 4] >> 6) << 4);
                mi[i] = (sb[i + 4] >> 4) | ((sb[i] >> 6) << 4);
            }
            int o = off + 256 * b;
            for (int c = 0; c < 4; c++) {
                float d0 = d * sc[2 * c], m0 = dmin * mi[2 * c];
                float d1 = d * sc[2 * c + 1], m1 = dmin * mi[2 * c + 1];
                for (int l = 0; l < 32; l++) {
                    int v = src.get(B, p + qsAt + 32 * c + l) & 0xff;
                    int q0 = v & 15, q1 = v >> 4;
                    if (five) {
                        int qh = src.get(B, p + 16 + l) & 0xff;
                        q0 |= ((qh >> (2 * c)) & 1) << 4;
                        q1 |= ((qh >> (2 * c + 1)) & 1) << 4;
                    }
                    y[o + 64 * c + l] = d0 * q0 - m0;
                    y[o + 64 * c + 32 + l] = d1 * q1 - m1;
                }
            }
        }
    }

    /** Q6_K super-blocks of x[off, off+n): ql[128], qh[64], scales[16], d. */
    static void quantizeQ6K(float[] x, int off, int n, MemorySegment dst, long dstOff) {
        float[] s = new float[16];
        int[] sc = new int[16], q = new int[256];
        for (int b = 0; b < n / 256; b++) {
            int base = off + 256 * b;
            float amax = 0;
            for (int i = 0; i < 16; i++) {
                s[i] = KQuantFit.symmetric(x, base + 16 * i);
                if (Math.abs(s[i]) > amax) amax = Math.abs(s[i]);
            }
            float d = h(amax / 127);
            for (int i = 0; i < 16; i++) {
                sc[i] = d > 0 ? clamp(rne(s[i] / d), -128, 127) : 0;
                float e = d * sc[i];
                for (int j = 0; j < 16; j++) {
                    q[16 * i + j] = (e != 0 ? clamp(rne(x[base + 16 * i + j] / e), -32, 31) : 0) + 32;
                }
            }
            long p = dstOff + 210L * b;
            for (int hf = 0; hf < 2; hf++) {
                int e0 = 128 * hf;
                for (int l = 0; l < 32; l++) {
                    int q1 = q[e0 + l], q2 = q[e0 + l + 32], q3 = q[e0 + l + 64], q4 = q[e0 + l + 96];
                    dst.set(B, p + 64 * hf + l, (byte) ((q1 & 15) | (q3 & 15) << 4));
                    dst.set(B, p + 64 * hf + l + 32, (byte) ((q2 & 15) | (q4 & 15) << 4));
                    dst.set(B, p + 128 + 32 * hf + l, (byte) ((q1 >> 4) | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6));
                }
            }
            for (int i = 0; i < 16; i++) dst.set(B, p + 192 + i, (byte) sc[i]);
            dst.set(LE_SHORT, p + 208, Float.floatToFloat16(amax / 127));
        }
    }

    static void dequantizeQ6K(MemorySegment src, long srcOff, float[] y, int off, int n) {
        for (int b = 0; b < n / 256; b++) {
            long p = srcOff + 210L * b;
            float d = Float.float16ToFloat(src.get(LE_SHORT, p + 208));
            int o = off + 256 * b;
            for (int hf = 0; hf < 2; hf++) {
                long ql = p + 64 * hf, qh = p + 128 + 32 * hf, scales = p + 192 + 8 * hf;
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    int lA = src.get(B, ql + l) & 0xff, lB = src.get(B, ql + l + 32) & 0xff;
                    int hb = src.get(B, qh + l) & 0xff;
                    int[] qs = {(lA & 15) | (hb & 3) << 4, (lB & 15) | ((hb >> 2) & 3) << 4,
                            (lA >> 4) | ((hb >> 4) & 3) << 4, (lB >> 4) | ((hb >> 6) & 3) << 4};
                    for (int k = 0; k < 4; k++) {
                        float dk = d * src.get(B, scales + is + 2 * k);
                        y[o + 128 * hf + l + 32 * k] = dk * (qs[k] - 32);
                    }
                }
            }
        }
    }
}
