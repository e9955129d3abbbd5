package io.github.mobilellm4j.spark;

import java.io.Serializable;

/**
 * One row of {@link MobileLlmDatasets#generate}: a prompt and its continuation (a Java bean, so that
 * {@code Encoders.bean(GeneratedText.class)} maps it to the columns prompt, text, tokens and stopReason). For a
 * null prompt every other field is null.
 */
public class GeneratedText implements Serializable {
    private static final long serialVersionUID = 1L;

    private String prompt;
    private String text;
    private int[] tokens;
    private String stopReason;

    public GeneratedText() {
    }

    GeneratedText(String prompt, String text, int[] tokens, String stopReason) {
        this.prompt = prompt;
        this.text = text;
        this.tokens = tokens;
        this.stopReason = stopReason;
    }

    /** The text that was continued. */
    public String getPrompt() {
        return prompt;
    }

    public void setPrompt(String prompt) {
        this.prompt = prompt;
    }

    /** The continuation, as {@code Generation.text()}. */
    public String getText() {
        return text;
    }

    public void setText(String text) {
        this.text = text;
    }

    /** The generated token ids. */
    public int[] getTokens() {
        return tokens;
    }

    public void setTokens(int[] tokens) {
        this.tokens = tokens;
    }

    /** Why generation stopped: {@code eos}, {@code max_tokens} or {@code stop_string}. */
    public String getStopReason() {
        return stopReason;
    }

    public void setStopReason(String stopReason) {
        this.stopReason = stopReason;
    }
}
