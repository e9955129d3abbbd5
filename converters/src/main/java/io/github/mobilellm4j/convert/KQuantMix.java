package io.github.mobilellm4j.convert;

/**
 * The K-quant file policies of docs/k-quants.md (after llama-quantize's mixes): which type a 2-D
 * tensor gets by its role, before the row-length fallback of {@link #fallback}.
 */
final class KQuantMix {
    private KQuantMix() {}

    /** What a 2-D tensor is to the policy. */
    enum Role {
        /** output.weight, or token_embd.weight when the embedding is shared (no output.weight). */
        OUTPUT,
        /** token_embd.weight of a file that has its own output.weight. */
        TOKEN_EMBD,
        ATTN_V,
        FFN_DOWN,
        OTHER
    }

    /**
     * The type for a tensor of this role; i is its index among the tensors of its role in file
     * order and n their number (used for ATTN_V and FFN_DOWN only).
     */
    static GgmlType choose(OutputType type, Role role, int i, int n) {
        GgmlType base = type.tensorType;
        return switch (type) {
            case Q4_K_M, Q5_K_M -> switch (role) {
                case OUTPUT -> GgmlType.Q6_K;
                case ATTN_V, FFN_DOWN -> moreBits(i, n) ? GgmlType.Q6_K : base;
                default -> base;
            };
            case Q4_K_S -> switch (role) {
                case OUTPUT -> GgmlType.Q6_K;
                case ATTN_V -> i < 4 ? GgmlType.Q5_K : GgmlType.Q4_K;
                case FFN_DOWN -> i < n / 8 ? GgmlType.Q5_K : GgmlType.Q4_K;
                default -> GgmlType.Q4_K;
            };
            case Q5_K_S -> role == Role.OUTPUT ? GgmlType.Q6_K : GgmlType.Q5_K;
            case Q6_K -> GgmlType.Q6_K;
            default -> throw new IllegalArgumentException(type.lowerName() + " is not a K-quant mix");
        };
    }

    /** The first and last eighth, and every third tensor between them, get more bits. */
    static boolean moreBits(int i, int n) {
        return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
    }

    /** The type for rows that are not a multiple of 256 (same bits per weight or more), or null. */
    static GgmlType fallback(GgmlType t) {
        return switch (t) {
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            case Q6_K -> GgmlType.Q8_0;
            default -> null;
        };
    }
}
