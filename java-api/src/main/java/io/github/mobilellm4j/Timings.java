package io.github.mobilellm4j;

/**
 * Wall-clock timings of one generation.
 *
 * @param promptTokens tokens of the prompt
 * @param generatedTokens tokens generated
 * @param promptSeconds time spent on the prompt
 * @param generateSeconds time spent generating after the prompt
 * @param draftedTokens with speculative decoding ({@link GenerateOptions.Builder#draft}), the tokens the draft
 *     model proposed; 0 otherwise
 * @param acceptedDraftTokens the proposed tokens the generating model accepted
 */
public record Timings(int promptTokens, int generatedTokens, double promptSeconds, double generateSeconds,
        int draftedTokens, int acceptedDraftTokens) {

    /** Timings of a generation without a draft model. */
    public Timings(int promptTokens, int generatedTokens, double promptSeconds, double generateSeconds) {
        this(promptTokens, generatedTokens, promptSeconds, generateSeconds, 0, 0);
    }

    /** Prompt processing speed; 0 when nothing was timed. */
    public double promptTokensPerSecond() {
        return promptSeconds > 0 ? promptTokens / promptSeconds : 0;
    }

    /** Generation speed; 0 when nothing was timed. */
    public double tokensPerSecond() {
        return generateSeconds > 0 ? generatedTokens / generateSeconds : 0;
    }

    /** The share of the draft's proposals that were accepted, in [0, 1]; 0 when nothing was proposed. */
    public double acceptanceRate() {
        return draftedTokens > 0 ? (double) acceptedDraftTokens / draftedTokens : 0;
    }
}
