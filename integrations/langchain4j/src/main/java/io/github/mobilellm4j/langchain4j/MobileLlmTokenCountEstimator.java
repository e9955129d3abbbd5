package io.github.mobilellm4j.langchain4j;

import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.model.TokenCountEstimator;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.chat.ChatTemplate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Counts tokens with the model's own tokenizer (exact, not estimated). Messages are counted as the chat model sees
 * them: rendered with the chat template (with the assistant's turn opened), so the count of a conversation equals the
 * input tokens its reply reports; without a template, the tokens of the texts.
 */
public class MobileLlmTokenCountEstimator implements TokenCountEstimator {
    private final Model model;
    private final ChatTemplate template;

    private MobileLlmTokenCountEstimator(Builder b) {
        this.model = Objects.requireNonNull(b.model, "a model is required");
        this.template = b.chatTemplate != null ? b.chatTemplate : ChatTemplate.find(model).orElse(null);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Tokens of the text alone (no BOS). */
    @Override
    public int estimateTokenCountInText(String text) {
        return model.tokenizer().encode(text, false, false).length;
    }

    @Override
    public int estimateTokenCountInMessage(ChatMessage message) {
        return estimateTokenCountInMessages(List.of(message));
    }

    @Override
    public int estimateTokenCountInMessages(Iterable<ChatMessage> messages) {
        List<ChatMessage> list = new ArrayList<>();
        messages.forEach(list::add);
        List<io.github.mobilellm4j.chat.ChatMessage> ours = Requests.messages(list);
        if (template == null) {
            int n = 0;
            for (io.github.mobilellm4j.chat.ChatMessage m : ours) n += estimateTokenCountInText(m.content());
            return n;
        }
        return model.tokenizer().encode(template.render(ours, true), false, true).length;
    }

    public static class Builder {
        private Model model;
        private ChatTemplate chatTemplate;

        public Builder model(Model model) {
            this.model = Objects.requireNonNull(model, "model");
            return this;
        }

        /** The template the chat model uses, if not the model's own. */
        public Builder chatTemplate(ChatTemplate chatTemplate) {
            this.chatTemplate = Objects.requireNonNull(chatTemplate, "chatTemplate");
            return this;
        }

        public MobileLlmTokenCountEstimator build() {
            return new MobileLlmTokenCountEstimator(this);
        }
    }
}
