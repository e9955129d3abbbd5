package io.github.mobilellm4j.convert;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Row conversion to and from ggml tensor types, producing byte-for-byte the layouts of ggml's
 * reference (non-SIMD) quantizers. All multi-byte values are little-endian.
 *
 * <ul>
 *   <li>F16: IEEE binary16, round to nearest even.</li>
 *   <li>BF16: upper 16 bits of the float, round to nearest even; NaN kept quiet.</li>
 *   <li>Q8_0 (34 bytes / 32 values): d = amax/127 stored as f16; id = d != 0 ? 1/d : 0;
 *       q[j] = roundf(x[j]*id) (half away from zero) as int8.</li>
 *   <li>Q4_0 (18 bytes / 32 values): max = the element of largest magnitude (first one wins on
 *       ties), d = max/-8 stored as f16; id = d != 0 ? 1/d : 0; q = min(15, (int)(x*id + 8.5f))
 *       (C cast truncation); byte j = q[j] | q[j+16] << 4.</li>
 * </ul>
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
            case F32, F16, BF16, Q8_0, Q4_0 -> true;
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
}
