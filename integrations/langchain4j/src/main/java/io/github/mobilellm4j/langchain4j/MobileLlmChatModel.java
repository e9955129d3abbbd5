package io.github.mobilellm4j.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import io.github.mobilellm4j.chat.ChatReply;
import io.github.mobilellm4j.service.GenerationService;
import java.util.List;

/**
 * A LangChain4j {@link ChatModel} over a mobilellm4j model with a chat template (the GGUF file's, or one given):
 * the conversation is rendered with the template, the reply generated until the end-of-turn token, the stop
 * sequences or maxOutputTokens. Replies carry the token usage (prompt and generated tokens) and the finish reason
 * (STOP, LENGTH); reasoning written between {@code <think>} tags comes as the message's thinking. Tools, images and
 * JSON response formats are refused with {@link dev.langchain4j.exception.UnsupportedFeatureException}.
 *
 * <pre>{@code
 * ChatModel chat = MobileLlmChatModel.builder().model(model).temperature(0.7).maxTokens(256).build();
 * String answer = chat.chat("What is MobileLLM?");
 * }</pre>
 */
public class MobileLlmChatModel implements ChatModel {
    private final GenerationService service;
    private final MobileLlmChatRequestParameters defaults;
    private final List<ChatModelListener> listeners;

    private MobileLlmChatModel(Builder b) {
        this.service = b.buildService();
        this.defaults = b.buildParameters(service);
        this.listeners = List.copyOf(b.listeners);
        if (service.chatTemplate().isEmpty()) {
            throw new IllegalArgumentException("the model " + defaults.modelName() + " has no chat template: give one with"
                    + " chatTemplate(...), or use MobileLlmLanguageModel for a base model");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public ChatResponse doChat(ChatRequest request) {
        ChatReply reply = service.chat(Requests.messages(request.messages()),
                Requests.options(request.parameters(), defaults.modelName()), null);
        return response(reply, defaults.modelName());
    }

    static ChatResponse response(ChatReply reply, String modelName) {
        AiMessage message = AiMessage.builder().text(reply.answer())
                .thinking(reply.reasoning().isEmpty() ? null : reply.reasoning()).build();
        return ChatResponse.builder().aiMessage(message).modelName(modelName)
                .tokenUsage(Requests.usage(reply.generation()))
                .finishReason(Requests.finishReason(reply.generation().stopReason()))
                .build();
    }

    @Override
    public ChatRequestParameters defaultRequestParameters() {
        return defaults;
    }

    @Override
    public List<ChatModelListener> listeners() {
        return listeners;
    }

    @Override
    public ModelProvider provider() {
        return ModelProvider.OTHER;
    }

    public static class Builder extends MobileLlmModelBuilder<Builder> {
        private List<ChatModelListener> listeners = List.of();

        public Builder listeners(List<ChatModelListener> listeners) {
            this.listeners = listeners == null ? List.of() : listeners;
            return this;
        }

        public MobileLlmChatModel build() {
            return new MobileLlmChatModel(this);
        }
    }
}
