package io.github.mobilellm4j;

/** Wall-clock timings of one generation. */
public record Timings(int promptTokens, int generatedTokens, double promptSeconds, double generateSeconds) {
    /** Prompt processing speed; 0 when nothing was timed. */
    public double promptTokensPerSecond() {
        return promptSeconds > 0 ? promptTokens / promptSeconds : 0;
    }

    /** Generation speed; 0 when nothing was timed. */
    public double tokensPerSecond() {
        return generateSeconds > 0 ? generatedTokens / generateSeconds : 0;
    }
}
