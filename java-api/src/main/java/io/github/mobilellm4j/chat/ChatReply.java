package io.github.mobilellm4j.chat;

import io.github.mobilellm4j.Generation;

/**
 * An assistant reply: the answer, the reasoning the model wrote between {@code <think>} and
 * {@code </think>} (empty if none), and the underlying generation (tokens, stop reason, timings). The
 * generation's prompt tokens are the whole rendered conversation; its timings count the prompt tokens
 * evaluated, which leave out the prefix the session's cache already held.
 */
public record ChatReply(String answer, String reasoning, Generation generation) {
    /** The reply as a message to append to the conversation. */
    public ChatMessage message() {
        return ChatMessage.assistant(answer);
    }
}
