package io.github.mobilellm4j;

import java.util.Arrays;
import java.util.Objects;

/**
 * The result of a blocking generation. Immutable: the token arrays are copied in, and each accessor returns a
 * fresh copy, so no caller can change what another one sees.
 *
 * @param text the generated text (cut before a stop string that ended it)
 * @param promptTokens the prompt's tokens
 * @param tokens the generated tokens (see {@link Session#generate(int[], GenerateOptions, java.util.function.Consumer)}
 *     for which of them the session has evaluated)
 * @param stopReason why the generation ended
 * @param timings how long the prompt and the generation took
 */
public record Generation(String text, int[] promptTokens, int[] tokens, StopReason stopReason, Timings timings) {
    public Generation {
        Objects.requireNonNull(text, "text");
        promptTokens = promptTokens.clone();
        tokens = tokens.clone();
    }

    /** A copy of the prompt's tokens. */
    @Override
    public int[] promptTokens() {
        return promptTokens.clone();
    }

    /** A copy of the generated tokens. */
    @Override
    public int[] tokens() {
        return tokens.clone();
    }

    // a record's generated equals/hashCode/toString would compare and print the arrays' identity
    @Override
    public boolean equals(Object o) {
        return o instanceof Generation g && text.equals(g.text) && Arrays.equals(promptTokens, g.promptTokens)
                && Arrays.equals(tokens, g.tokens) && stopReason == g.stopReason && Objects.equals(timings, g.timings);
    }

    @Override
    public int hashCode() {
        return Objects.hash(text, Arrays.hashCode(promptTokens), Arrays.hashCode(tokens), stopReason, timings);
    }

    @Override
    public String toString() {
        return "Generation[text=" + text + ", promptTokens=" + Arrays.toString(promptTokens) + ", tokens="
                + Arrays.toString(tokens) + ", stopReason=" + stopReason + ", timings=" + timings + "]";
    }
}
