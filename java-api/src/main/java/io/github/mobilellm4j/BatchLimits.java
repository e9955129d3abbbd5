package io.github.mobilellm4j;

/**
 * How many tokens and sequences one forward pass of {@link Model#embedAll} or {@link Model#scoreAll} takes.
 * Larger passes read the weights fewer times per text; their activation memory grows with {@code maxTokens}
 * (for scoring: one row of logits per token, {@code maxTokens} x vocabulary floats). A text longer than
 * {@code maxTokens} (or than a default session's context) runs alone, as {@link Model#embed} or
 * {@link Session#score} would run it.
 *
 * @param maxTokens tokens of one pass, 1..65536
 * @param maxSequences texts of one pass, 1..256
 */
public record BatchLimits(int maxTokens, int maxSequences) {
    /** 512 tokens of up to 16 texts per pass. */
    public static final BatchLimits DEFAULT = new BatchLimits(512, 16);

    public BatchLimits {
        if (maxTokens < 1 || maxTokens > 65536) throw new IllegalArgumentException("maxTokens must be in 1..65536, got " + maxTokens);
        if (maxSequences < 1 || maxSequences > 256) {
            throw new IllegalArgumentException("maxSequences must be in 1..256, got " + maxSequences);
        }
    }
}
