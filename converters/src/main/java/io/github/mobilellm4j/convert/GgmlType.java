package io.github.mobilellm4j.convert;

/**
 * ggml tensor types as numbered in GGUF files (ggml_type). Only some are producible by the
 * converter; the others are known so that a reader can size and copy them.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q8_1(9, 32, 36),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    Q8_K(15, 256, 292),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    BF16(30, 1, 2);

    /** ggml_type number. */
    public final int id;
    /** Elements per block. */
    public final int blockSize;
    /** Bytes per block. */
    public final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** The type with this ggml number, or null. */
    public static GgmlType byId(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) return t;
        }
        return null;
    }

    /** Bytes of a row of n elements; -1 if n is not a multiple of the block size. */
    public long rowBytes(long n) {
        if (n % blockSize != 0) return -1;
        return n / blockSize * blockBytes;
    }

    /** True for block-quantized types. */
    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** Lower-case name as ggml prints it ("q4_0"). */
    public String lowerName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
