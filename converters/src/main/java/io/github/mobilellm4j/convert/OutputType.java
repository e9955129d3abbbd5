package io.github.mobilellm4j.convert;

import java.util.Locale;
import java.util.StringJoiner;

/**
 * The file types the converter and quantizer can produce (the value of general.file_type is
 * llama.cpp's LLAMA_FTYPE). Ready for more entries: add the type, its ftype number, and its
 * quantizer in {@link RowQuantizer}. The K-quant entries are per-tensor mixes (docs/k-quants.md,
 * {@link KQuantMix}); their {@link #tensorType} is the base type of the mix.
 */
public enum OutputType {
    F32(GgmlType.F32, 0),
    F16(GgmlType.F16, 1),
    BF16(GgmlType.BF16, 32),
    Q8_0(GgmlType.Q8_0, 7),
    Q4_0(GgmlType.Q4_0, 2),
    Q4_1(GgmlType.Q4_1, 3),
    Q5_0(GgmlType.Q5_0, 8),
    Q5_1(GgmlType.Q5_1, 9),
    Q4_K_M(GgmlType.Q4_K, 15, "q4_k"),
    Q4_K_S(GgmlType.Q4_K, 14),
    Q5_K_M(GgmlType.Q5_K, 17, "q5_k"),
    Q5_K_S(GgmlType.Q5_K, 16),
    Q6_K(GgmlType.Q6_K, 18);

    /** Tensor type used for the bulk of the 2-D weights (the base type of a K-quant mix). */
    public final GgmlType tensorType;
    /** general.file_type value (LLAMA_FTYPE). */
    public final int fileType;
    /** Another accepted name (llama-quantize's), or null. */
    private final String alias;

    OutputType(GgmlType tensorType, int fileType) {
        this(tensorType, fileType, null);
    }

    OutputType(GgmlType tensorType, int fileType, String alias) {
        this.tensorType = tensorType;
        this.fileType = fileType;
        this.alias = alias;
    }

    /** True for the K-quant mixes (q4_k_m ... q6_k). */
    public boolean isKQuant() {
        return tensorType == GgmlType.Q4_K || tensorType == GgmlType.Q5_K || tensorType == GgmlType.Q6_K;
    }

    /** Parses "q4_0", "Q8_0", "q5-1", "q4_k_m", "q4_k" (= q4_k_m), "f16", ... (case-insensitive). */
    public static OutputType parse(String s) {
        String l = s.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        for (OutputType t : values()) {
            if (t.lowerName().equals(l) || l.equals(t.alias)) return t;
        }
        throw new IllegalArgumentException("unknown output type '" + s + "' (expected one of " + names() + ")");
    }

    /** The accepted names, comma-separated, aliases in parentheses. */
    public static String names() {
        StringJoiner j = new StringJoiner(", ");
        for (OutputType t : values()) j.add(t.alias == null ? t.lowerName() : t.lowerName() + " (" + t.alias + ")");
        return j.toString();
    }

    public String lowerName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
