package io.github.mobilellm4j;

/** Why a generation ended. */
public enum StopReason {
    /** The model produced its end-of-sequence token. */
    EOS,
    /** The requested number of tokens was generated. */
    MAX_TOKENS,
    /** One of the stop strings appeared in the text. */
    STOP_STRING,
    /** The caller's callback asked to stop, or the stream was closed early. */
    CANCELLED,
    /** The generation's time limit ({@link GenerateOptions#timeout()}) passed; the text so far is returned. */
    TIMEOUT;

    /** Lower-case name used in JSON output, e.g. "max_tokens". */
    public String jsonName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
