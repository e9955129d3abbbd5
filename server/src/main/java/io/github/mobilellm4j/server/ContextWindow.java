package io.github.mobilellm4j.server;

/**
 * The tokens a session holds, prompt and reply together, and how a request's reply fits in them. As OpenAI's API
 * does: a prompt that leaves no room, or a max_tokens asked for that cannot fit after the prompt, is refused with
 * code {@code context_length_exceeded}; without max_tokens the reply may take what the prompt leaves.
 */
record ContextWindow(int tokens) {
    ContextWindow {
        if (tokens < 1) throw new IllegalArgumentException("contextLength must be >= 1, got " + tokens);
    }

    /**
     * The most tokens the reply may have.
     *
     * @param promptTokens the prompt's tokens, as the session will evaluate them
     * @param asked        max_tokens as the request gave it, null when absent
     * @param ceiling      the server's ceiling of max_tokens (its default when absent)
     * @param promptParam  what the prompt is called in the request: "messages" or "prompt"
     */
    int replyTokens(int promptTokens, Integer asked, int ceiling, String promptParam) {
        if (promptTokens >= tokens) {
            throw exceeded(promptParam, "This model's maximum context length is " + tokens + " tokens. However, your " + promptParam
                    + " resulted in " + promptTokens + " tokens, which leaves no room for the completion. Please reduce the length of the " + promptParam + ".");
        }
        if (asked == null) return Math.min(ceiling, tokens - promptTokens);
        if (promptTokens + asked > tokens) {
            throw exceeded(promptParam, "This model's maximum context length is " + tokens + " tokens. However, you requested " + (promptTokens + asked)
                    + " tokens (" + promptTokens + " in the " + promptParam + ", " + asked + " in the completion). Please reduce the length of the "
                    + promptParam + " or completion.");
        }
        return asked;
    }

    /** Checks that a text to embed, of this many tokens, fits; param names it in the request. */
    void checkInput(int inputTokens, String param) {
        if (inputTokens > tokens) {
            throw exceeded("input", "This model's maximum context length is " + tokens + " tokens. However, " + param + " has " + inputTokens
                    + " tokens. Please reduce the length of the input.");
        }
    }

    static ApiException exceeded(String param, String message) {
        return new ApiException(400, "invalid_request_error", param, "context_length_exceeded", message);
    }
}
