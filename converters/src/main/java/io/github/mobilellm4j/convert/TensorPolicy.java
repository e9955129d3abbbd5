package io.github.mobilellm4j.convert;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which ggml type each tensor gets in a file of a given {@link OutputType} (modelled on
 * llama.cpp's choices):
 * <ul>
 *   <li>1-D tensors (norms) are always F32;</li>
 *   <li>in a Q4_0, Q4_1, Q5_0 or Q5_1 file, token_embd.weight and output.weight are Q8_0 unless pure;</li>
 *   <li>in a K-quant file (q4_k_m ... q6_k), the mix of docs/k-quants.md ({@link KQuantMix}),
 *       or the base type for every 2-D tensor if pure; rows that are not a multiple of 256 take
 *       {@link KQuantMix#fallback};</li>
 *   <li>everything else gets the file type's tensor type;</li>
 *   <li>a block-quantized type whose block does not divide the row length falls back to F16
 *       (reported as a note).</li>
 * </ul>
 * The K-quant mixes depend on the whole file (attn_v / ffn_down counters, whether there is an
 * output.weight), hence an instance per file built from its tensor names in file order.
 */
public final class TensorPolicy {
    private final OutputType type;
    private final boolean pure;
    private final boolean sharedEmbedding;
    /** Index of each attn_v / ffn_down tensor among its kind, in file order. */
    private final Map<String, Integer> index = new HashMap<>();
    private final int attnV;
    private final int ffnDown;

    private TensorPolicy(OutputType type, boolean pure, List<String> names) {
        this.type = type;
        this.pure = pure;
        this.sharedEmbedding = !names.contains("output.weight");
        int v = 0, f = 0;
        for (String n : names) {
            if (isBlockTensor(n, "attn_v")) index.put(n, v++);
            else if (isBlockTensor(n, "ffn_down")) index.put(n, f++);
        }
        this.attnV = v;
        this.ffnDown = f;
    }

    /** The policy for a file holding these tensors (names in file order). */
    public static TensorPolicy forFile(OutputType type, boolean pure, List<String> names) {
        return new TensorPolicy(type, pure, List.copyOf(names));
    }

    /** The type of one tensor in a file that holds only that tensor (enough for the non-K types). */
    public static GgmlType choose(String name, long[] ne, OutputType type, boolean pure, ProgressListener pl) {
        return forFile(type, pure, List.of(name)).choose(name, ne, pl);
    }

    /** The type of the named tensor of this file. */
    public GgmlType choose(String name, long[] ne, ProgressListener pl) {
        if (ne.length == 1) return GgmlType.F32;
        GgmlType t = type.tensorType;
        boolean lowBit = type == OutputType.Q4_0 || type == OutputType.Q4_1 || type == OutputType.Q5_0 || type == OutputType.Q5_1;
        if (lowBit && !pure && (name.equals("token_embd.weight") || name.equals("output.weight"))) {
            t = GgmlType.Q8_0;
        }
        if (type.isKQuant() && !pure) t = KQuantMix.choose(type, role(name), index.getOrDefault(name, 0), count(name));
        if (t.rowBytes(ne[0]) < 0 && KQuantMix.fallback(t) != null) {
            GgmlType fb = KQuantMix.fallback(t);
            note(pl, name, ne[0], t, fb);
            t = fb;
        }
        if (t.rowBytes(ne[0]) < 0) {
            note(pl, name, ne[0], t, GgmlType.F16);
            t = GgmlType.F16;
        }
        return t;
    }

    private static void note(ProgressListener pl, String name, long cols, GgmlType t, GgmlType instead) {
        if (pl != null) pl.note(name + ": row length " + cols + " is not a multiple of " + t.blockSize + ", using " + instead.lowerName() + " instead of " + t.lowerName());
    }

    private KQuantMix.Role role(String name) {
        if (name.equals("output.weight")) return KQuantMix.Role.OUTPUT;
        if (name.equals("token_embd.weight")) return sharedEmbedding ? KQuantMix.Role.OUTPUT : KQuantMix.Role.TOKEN_EMBD;
        if (isBlockTensor(name, "attn_v")) return KQuantMix.Role.ATTN_V;
        if (isBlockTensor(name, "ffn_down")) return KQuantMix.Role.FFN_DOWN;
        return KQuantMix.Role.OTHER;
    }

    private int count(String name) {
        return isBlockTensor(name, "attn_v") ? attnV : isBlockTensor(name, "ffn_down") ? ffnDown : 0;
    }

    /** "blk.N.KIND.weight". */
    private static boolean isBlockTensor(String name, String kind) {
        return name.startsWith("blk.") && name.endsWith("." + kind + ".weight")
                && name.substring(4, name.length() - kind.length() - 8).matches("\\d+");
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
