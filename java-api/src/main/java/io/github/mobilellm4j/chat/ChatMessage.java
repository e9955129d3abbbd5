package io.github.mobilellm4j.chat;

import java.util.Objects;

/**
 * One message of a conversation: a role ("system", "user", "assistant", "tool", ...) and its text.
 * Templates see it as {@code message['role']} / {@code message.content}.
 */
public record ChatMessage(String role, String content) {
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        if (role.isBlank()) throw new IllegalArgumentException("the role is blank");
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }
}
