package io.github.mobilellm4j.convert;

import java.util.Locale;

/**
 * The file types the converter and quantizer can produce (the value of general.file_type is
 * llama.cpp's LLAMA_FTYPE). Ready for more entries: add the type, its ftype number, and its
 * quantizer in {@link RowQuantizer}.
 */
public enum OutputType {
    F32(GgmlType.F32, 0),
    F16(GgmlType.F16, 1),
    BF16(GgmlType.BF16, 32),
    Q8_0(GgmlType.Q8_0, 7),
    Q4_0(GgmlType.Q4_0, 2),
    Q4_1(GgmlType.Q4_1, 3),
    Q5_0(GgmlType.Q5_0, 8),
    Q5_1(GgmlType.Q5_1, 9);

    /** Tensor type used for the bulk of the 2-D weights. */
    public final GgmlType tensorType;
    /** general.file_type value (LLAMA_FTYPE). */
    public final int fileType;

    OutputType(GgmlType tensorType, int fileType) {
        this.tensorType = tensorType;
        this.fileType = fileType;
    }

    /** Parses "q4_0", "Q8_0", "q5_1", "f16", "bf16", "f32" (case-insensitive). */
    public static OutputType parse(String s) {
        String u = s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (OutputType t : values()) {
            if (t.name().equals(u)) return t;
        }
        throw new IllegalArgumentException("unknown output type '" + s + "' (expected one of f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1)");
    }

    public String lowerName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
