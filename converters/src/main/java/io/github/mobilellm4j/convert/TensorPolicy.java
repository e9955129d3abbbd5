package io.github.mobilellm4j.convert;

/**
 * Which ggml type each tensor gets in a file of a given {@link OutputType} (modelled on
 * llama.cpp's choices):
 * <ul>
 *   <li>1-D tensors (norms) are always F32;</li>
 *   <li>in a Q4_0, Q4_1, Q5_0 or Q5_1 file, token_embd.weight and output.weight are Q8_0 unless pure;</li>
 *   <li>everything else gets the file type's tensor type;</li>
 *   <li>a block-quantized type whose block does not divide the row length falls back to F16
 *       (reported as a note).</li>
 * </ul>
 */
public final class TensorPolicy {
    private TensorPolicy() {}

    public static GgmlType choose(String name, long[] ne, OutputType type, boolean pure, ProgressListener pl) {
        if (ne.length == 1) return GgmlType.F32;
        GgmlType t = type.tensorType;
        boolean lowBit = type == OutputType.Q4_0 || type == OutputType.Q4_1 || type == OutputType.Q5_0 || type == OutputType.Q5_1;
        if (lowBit && !pure && (name.equals("token_embd.weight") || name.equals("output.weight"))) {
            t = GgmlType.Q8_0;
        }
        if (t.rowBytes(ne[0]) < 0) {
            if (pl != null) pl.note(name + ": row length " + ne[0] + " is not a multiple of " + t.blockSize + ", using f16 instead of " + t.lowerName());
            t = GgmlType.F16;
        }
        return t;
    }

    /** general.size_label from a parameter count: "125M", "1.5B", "1B", "86K". */
    public static String sizeLabel(long params) {
        if (params >= 1_000_000_000L) {
            String s = String.format(java.util.Locale.ROOT, "%.1f", params / 1e9);
            if (s.endsWith(".0")) s = s.substring(0, s.length() - 2);
            return s + "B";
        }
        if (params >= 1_000_000L) return Math.round(params / 1e6) + "M";
        if (params >= 1_000L) return Math.round(params / 1e3) + "K";
        return Long.toString(params);
    }
}
