package io.github.mobilellm4j.spark;

import java.io.Serializable;

/**
 * One row of {@link MobileLlmDatasets#score}: a text, its tokens after the first (BOS added per the model's
 * setting), the natural log-probability of each given the ones before it, and their sum; the columns of
 * {@code mobilellm_score}. A text of one token has nothing to score: empty arrays and a total of 0. For a null text
 * every other field is null.
 */
public class ScoredText implements Serializable {
    private static final long serialVersionUID = 1L;

    private String text;
    private int[] tokens;
    private float[] logprobs;
    private Double total;

    public ScoredText() {
    }

    ScoredText(String text, int[] tokens, float[] logprobs, Double total) {
        this.text = text;
        this.tokens = tokens;
        this.logprobs = logprobs;
        this.total = total;
    }

    /** The text scored. */
    public String getText() {
        return text;
    }

    public void setText(String text) {
        this.text = text;
    }

    /** The token ids scored: the text's tokens after the first. */
    public int[] getTokens() {
        return tokens;
    }

    public void setTokens(int[] tokens) {
        this.tokens = tokens;
    }

    /** ln p(token | the tokens before it), one per scored token. */
    public float[] getLogprobs() {
        return logprobs;
    }

    public void setLogprobs(float[] logprobs) {
        this.logprobs = logprobs;
    }

    /** The sum of the log-probabilities. */
    public Double getTotal() {
        return total;
    }

    public void setTotal(Double total) {
        this.total = total;
    }
}
