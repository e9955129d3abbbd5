package io.github.mobilellm4j;

import java.util.Arrays;

/** The result of a blocking generation. Arrays are copies owned by the caller. */
public record Generation(String text, int[] promptTokens, int[] tokens, StopReason stopReason, Timings timings) {
    @Override
    public String toString() {
        return "Generation[text=" + text + ", promptTokens=" + Arrays.toString(promptTokens) + ", tokens="
                + Arrays.toString(tokens) + ", stopReason=" + stopReason + ", timings=" + timings + "]";
    }
}
