package io.github.mobilellm4j.convert;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Row conversion to and from ggml tensor types, producing byte-for-byte the layouts of ggml's
 * reference (non-SIMD) quantizers (the K-quants: the engine's, see below). All multi-byte values are little-endian.
 *
 * <ul>
 *   <li>F16: IEEE binary16, round to nearest even.</li>
 *   <li>BF16: upper 16 bits of the float, round to nearest even; NaN kept quiet.</li>
 *   <li>Q8_0 (34 bytes / 32 values): d = amax/127 stored as f16; id = d != 0 ? 1/d : 0;
 *       q[j] = roundf(x[j]*id) (half away from zero) as int8.</li>
 *   <li>Q4_0 (18 bytes / 32 values): max = the element of largest magnitude (first one wins on
 *       ties), d = max/-8 stored as f16; id = d != 0 ? 1/d : 0; q = min(15, (int)(x*id + 8.5f))
 *       (C cast truncation); byte j = {@code q[j] | q[j+16] << 4}.</li>
 *   <li>Q4_1 (20 bytes / 32 values): d = (max-min)/15 and m = min stored as f16 (d first);
 *       id = d != 0 ? 1/d : 0; q = min(15, (int8_t)((x-min)*id + 0.5f)); byte j = {@code q[j] | q[j+16] << 4}.</li>
 *   <li>Q5_0 (22 bytes / 32 values): as Q4_0 with d = max/-16 and q = min(31, (int8_t)(x*id + 16.5f));
 *       then f16 d, qh (4 bytes, little-endian u32: bit j = bit 4 of q[j]), 16 bytes of low nibbles
 *       {@code q[j] & 15 | (q[j+16] & 15) << 4}.</li>
 *   <li>Q5_1 (24 bytes / 32 values): d = (max-min)/31, m = min, q = min(31, (uint8_t)((x-min)*id + 0.5f));
 *       f16 d, f16 m, qh, nibbles as Q5_0.</li>
 *   <li>Q4_K, Q5_K, Q6_K (super-blocks of 256): ggml's layouts with our own quantizer, specified
 *       in docs/k-quants.md and implemented in {@link KQuants} / {@link KQuantFit}.</li>
 * </ul>
 * C float-to-integer casts of out-of-range values (only reachable when 1/d overflows) follow x86's
 * cvttss2si (the integer indefinite 0x80000000, then the low byte), see {@link #cvtt}.
 * All arithmetic is single-precision float as in C without FMA contraction.
 */
public final class RowQuantizer {
    private RowQuantizer() {}

    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Bytes written by {@link #quantizeRow} for n elements; -1 if n is not a multiple of the block. */
    public static long rowBytes(GgmlType type, long n) {
        return type.rowBytes(n);
    }

    /** True if {@link #quantizeRow} supports this type. */
    public static boolean canQuantize(GgmlType type) {
        return switch (type) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /**
     * Converts src[off, off+n) to {@code type}, writing exactly rowBytes(type, n) bytes at
     * dst[dstOff]. Returns the number of bytes written.
     */
    public static long quantizeRow(GgmlType type, float[] src, int off, int n, MemorySegment dst, long dstOff) {
        long bytes = type.rowBytes(n);
        if (bytes < 0) {
            throw new IllegalArgumentException("row length " + n + " is not a multiple of the " + type.lowerName() + " block size " + type.blockSize);
        }
        if (off < 0 || off + n > src.length) throw new IndexOutOfBoundsException("source range");
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) dst.set(LE_FLOAT, dstOff + 4L * i, src[off + i]);
            }
            case F16 -> {
                for (int i = 0; i < n; i++) dst.set(LE_SHORT, dstOff + 2L * i, Float.floatToFloat16(src[off + i]));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) dst.set(LE_SHORT, dstOff + 2L * i, floatToBf16(src[off + i]));
            }
            case Q8_0 -> quantizeQ8_0(src, off, n, dst, dstOff);
            case Q4_0 -> quantizeQ4_0(src, off, n, dst, dstOff);
            case Q4_1 -> quantizeQ4_1(src, off, n, dst, dstOff);
            case Q5_0 -> quantizeQ5_0(src, off, n, dst, dstOff);
            case Q5_1 -> quantizeQ5_1(src, off, n, dst, dstOff);
            case Q4_K -> KQuants.quantizeQ45K(src, off, n, dst, dstOff, false);
            case Q5_K -> KQuants.quantizeQ45K(src, off, n, dst, dstOff, true);
            case Q6_K -> KQuants.quantizeQ6K(src, off, n, dst, dstOff);
            default -> throw new IllegalArgumentException("cannot quantize to " + type.lowerName());
        }
        return bytes;
    }

    /** Inverse of {@link #quantizeRow} (also reads F32/F16/BF16 source rows). */
    public static void dequantizeRow(GgmlType type, MemorySegment src, long srcOff, float[] dst, int off, int n) {
        if (type.rowBytes(n) < 0) throw new IllegalArgumentException("row length " + n + " is not a multiple of the block size");
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) dst[off + i] = src.get(LE_FLOAT, srcOff + 4L * i);
            }
            case F16 -> {
                for (int i = 0; i < n; i++) dst[off + i] = Float.float16ToFloat(src.get(LE_SHORT, srcOff + 2L * i));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) dst[off + i] = bf16ToFloat(src.get(LE_SHORT, srcOff + 2L * i));
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long p = srcOff + 34L * b;
                    float d = Float.float16ToFloat(src.get(LE_SHORT, p));
                    for (int j = 0; j < 32; j++) dst[off + 32 * b + j] = src.get(ValueLayout.JAVA_BYTE, p + 2 + j) * d;
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long p = srcOff + 18L * b;
                    float d = Float.float16ToFloat(src.get(LE_SHORT, p));
                    for (int j = 0; j < 16; j++) {
                        int v = src.get(ValueLayout.JAVA_BYTE, p + 2 + j) & 0xff;
                        dst[off + 32 * b + j] = ((v & 0x0f) - 8) * d;
                        dst[off + 32 * b + j + 16] = ((v >>> 4) - 8) * d;
                    }
                }
            }
            case Q4_1 -> {
                for (int b = 0; b < n / 32; b++) {
                    long p = srcOff + 20L * b;
                    float d = Float.float16ToFloat(src.get(LE_SHORT, p));
                    float m = Float.float16ToFloat(src.get(LE_SHORT, p + 2));
                    for (int j = 0; j < 16; j++) {
                        int v = src.get(ValueLayout.JAVA_BYTE, p + 4 + j) & 0xff;
                        dst[off + 32 * b + j] = (v & 0x0f) * d + m;
                        dst[off + 32 * b + j + 16] = (v >>> 4) * d + m;
                    }
                }
            }
            case Q5_0, Q5_1 -> {
                boolean hasMin = type == GgmlType.Q5_1;
                int bb = type.blockBytes;
                for (int b = 0; b < n / 32; b++) {
                    long p = srcOff + (long) bb * b;
                    float d = Float.float16ToFloat(src.get(LE_SHORT, p));
                    float m = hasMin ? Float.float16ToFloat(src.get(LE_SHORT, p + 2)) : 0f;
                    long h = hasMin ? p + 4 : p + 2;
                    int qh = src.get(LE_INT, h);
                    for (int j = 0; j < 16; j++) {
                        int v = src.get(ValueLayout.JAVA_BYTE, h + 4 + j) & 0xff;
                        int q0 = (v & 0x0f) | (((qh >>> j) & 1) << 4);
                        int q1 = (v >>> 4) | (((qh >>> (j + 16)) & 1) << 4);
                        dst[off + 32 * b + j] = hasMin ? q0 * d + m : (q0 - 16) * d;
                        dst[off + 32 * b + j + 16] = hasMin ? q1 * d + m : (q1 - 16) * d;
                    }
                }
            }
            case Q4_K -> KQuants.dequantizeQ45K(src, srcOff, dst, off, n, false);
            case Q5_K -> KQuants.dequantizeQ45K(src, srcOff, dst, off, n, true);
            case Q6_K -> KQuants.dequantizeQ6K(src, srcOff, dst, off, n);
            default -> throw new IllegalArgumentException("cannot dequantize " + type.lowerName());
        }
    }

    /** float -> bfloat16 bits, round to nearest even; NaN stays NaN (quiet bit forced). */
    public static short floatToBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) {
            return (short) ((u >>> 16) | 64);
        }
        return (short) ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16);
    }

    public static float bf16ToFloat(short h) {
        return Float.intBitsToFloat((h & 0xffff) << 16);
    }

    /** C roundf: round half away from zero, computed exactly. */
    static float roundf(float x) {
        double ax = Math.abs((double) x);
        double f = Math.floor(ax);
        if (ax - f >= 0.5) f += 1.0;
        return (float) Math.copySign(f, x);
    }

    private static void quantizeQ8_0(float[] x, int off, int n, MemorySegment dst, long dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int base = off + 32 * b;
            float amax = 0.0f;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[base + j]));
            float d = amax / 127.0f;
            float id = d != 0.0f ? 1.0f / d : 0.0f;
            long p = dstOff + 34L * b;
            dst.set(LE_SHORT, p, Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) {
                dst.set(ValueLayout.JAVA_BYTE, p + 2 + j, (byte) (int) roundf(x[base + j] * id));
            }
        }
    }

    private static void quantizeQ4_0(float[] x, int off, int n, MemorySegment dst, long dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int base = off + 32 * b;
            float amax = 0.0f;
            float max = 0.0f;
            for (int j = 0; j < 32; j++) {
                float v = x[base + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8.0f;
            float id = d != 0.0f ? 1.0f / d : 0.0f;
            long p = dstOff + 18L * b;
            dst.set(LE_SHORT, p, Float.floatToFloat16(d));
            for (int j = 0; j < 16; j++) {
                float x0 = x[base + j] * id;
                float x1 = x[base + 16 + j] * id;
                int q0 = Math.min(15, (int) (byte) (int) (x0 + 8.5f));
                int q1 = Math.min(15, (int) (byte) (int) (x1 + 8.5f));
                dst.set(ValueLayout.JAVA_BYTE, p + 2 + j, (byte) (q0 | (q1 << 4)));
            }
        }
    }

    /**
     * C's float-to-int conversion as x86 compilers emit it (cvttss2si): truncation toward zero;
     * NaN and values outside the int range give 0x80000000. A cast to int8_t/uint8_t keeps the low byte.
     */
    static int cvtt(float v) {
        if (!(v > -2147483904.0f && v < 2147483648.0f)) return Integer.MIN_VALUE;
        return (int) v;
    }

    /** The block minimum and maximum (C: fminf/fmaxf from +inf/-inf; inputs are finite). */
    private static float blockMin(float[] x, int base) {
        float lo = Float.POSITIVE_INFINITY;
        for (int j = 0; j < 32; j++) if (x[base + j] < lo) lo = x[base + j];
        return lo;
    }

    private static float blockMax(float[] x, int base) {
        float hi = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < 32; j++) if (x[base + j] > hi) hi = x[base + j];
        return hi;
    }

    /** The element of largest magnitude with its sign (first one wins on ties). */
    private static float signedMax(float[] x, int base) {
        float amax = 0.0f;
        float max = 0.0f;
        for (int j = 0; j < 32; j++) {
            float v = x[base + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        return max;
    }

    private static void quantizeQ4_1(float[] x, int off, int n, MemorySegment dst, long dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int base = off + 32 * b;
            float mn = blockMin(x, base);
            float mx = blockMax(x, base);
            float d = (mx - mn) / 15.0f;
            float id = d != 0.0f ? 1.0f / d : 0.0f;
            long p = dstOff + 20L * b;
            dst.set(LE_SHORT, p, Float.floatToFloat16(d));
            dst.set(LE_SHORT, p + 2, Float.floatToFloat16(mn));
            for (int j = 0; j < 16; j++) {
                float x0 = (x[base + j] - mn) * id;
                float x1 = (x[base + 16 + j] - mn) * id;
                int q0 = Math.min(15, (int) (byte) cvtt(x0 + 0.5f));
                int q1 = Math.min(15, (int) (byte) cvtt(x1 + 0.5f));
                dst.set(ValueLayout.JAVA_BYTE, p + 4 + j, (byte) (q0 | (q1 << 4)));
            }
        }
    }

    private static void quantizeQ5_0(float[] x, int off, int n, MemorySegment dst, long dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int base = off + 32 * b;
            float d = signedMax(x, base) / -16.0f;
            float id = d != 0.0f ? 1.0f / d : 0.0f;
            long p = dstOff + 22L * b;
            dst.set(LE_SHORT, p, Float.floatToFloat16(d));
            int qh = 0;
            for (int j = 0; j < 16; j++) {
                float x0 = x[base + j] * id;
                float x1 = x[base + 16 + j] * id;
                int q0 = Math.min(31, (int) (byte) cvtt(x0 + 16.5f));
                int q1 = Math.min(31, (int) (byte) cvtt(x1 + 16.5f));
                dst.set(ValueLayout.JAVA_BYTE, p + 6 + j, (byte) ((q0 & 15) | ((q1 & 15) << 4)));
                qh |= ((q0 >> 4) & 1) << j;
                qh |= ((q1 >> 4) & 1) << (j + 16);
            }
            dst.set(LE_INT, p + 2, qh);
        }
    }

    private static void quantizeQ5_1(float[] x, int off, int n, MemorySegment dst, long dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int base = off + 32 * b;
            float mn = blockMin(x, base);
            float mx = blockMax(x, base);
            float d = (mx - mn) / 31.0f;
            float id = d != 0.0f ? 1.0f / d : 0.0f;
            long p = dstOff + 24L * b;
            dst.set(LE_SHORT, p, Float.floatToFloat16(d));
            dst.set(LE_SHORT, p + 2, Float.floatToFloat16(mn));
            int qh = 0;
            for (int j = 0; j < 16; j++) {
                float x0 = (x[base + j] - mn) * id;
                float x1 = (x[base + 16 + j] - mn) * id;
                int q0 = Math.min(31, cvtt(x0 + 0.5f) & 0xff);
                int q1 = Math.min(31, cvtt(x1 + 0.5f) & 0xff);
                dst.set(ValueLayout.JAVA_BYTE, p + 8 + j, (byte) ((q0 & 15) | ((q1 & 15) << 4)));
                qh |= ((q0 >> 4) & 1) << j;
                qh |= ((q1 >> 4) & 1) << (j + 16);
            }
            dst.set(LE_INT, p + 4, qh);
        }
    }
}
