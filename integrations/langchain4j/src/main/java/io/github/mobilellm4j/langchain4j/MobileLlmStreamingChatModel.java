package io.github.mobilellm4j.langchain4j;

import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.PartialThinkingContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.chat.ChatMessage;
import io.github.mobilellm4j.chat.ChatReply;
import io.github.mobilellm4j.service.GenerationService;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * A LangChain4j {@link StreamingChatModel}: as {@link MobileLlmChatModel}, with the reply handed to the handler
 * piece by piece as it is generated (answer through onPartialResponse, reasoning through onPartialThinking), then
 * the complete response with its token usage and finish reason. Requests run on the builder's executor (default: a
 * new virtual thread each). The handler may cancel through the context's streaming handle: generation stops after
 * the current token and nothing more is called.
 */
public class MobileLlmStreamingChatModel implements StreamingChatModel {
    private final GenerationService service;
    private final MobileLlmChatRequestParameters defaults;
    private final List<ChatModelListener> listeners;
    private final Executor executor;

    private MobileLlmStreamingChatModel(Builder b) {
        this.service = b.buildService();
        this.defaults = b.buildParameters(service);
        this.listeners = List.copyOf(b.listeners);
        this.executor = b.executor;
        if (service.chatTemplate().isEmpty()) {
            throw new IllegalArgumentException("the model " + defaults.modelName() + " has no chat template: give one with"
                    + " chatTemplate(...), or use MobileLlmStreamingLanguageModel for a base model");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        List<ChatMessage> messages;
        GenerateOptions options;
        try {
            messages = Requests.messages(request.messages());
            options = Requests.options(request.parameters(), defaults.modelName());
        } catch (RuntimeException e) {
            handler.onError(e);
            return;
        }
        Streaming.Handle handle = new Streaming.Handle();
        Streaming.run(executor, handler::onError, handle, () -> {
            ChatReply reply = service.chat(messages, options, chunk -> {
                if (!chunk.reasoning().isEmpty()) {
                    handler.onPartialThinking(new PartialThinking(chunk.reasoning()), new PartialThinkingContext(handle));
                }
                handle.check();
                if (!chunk.answer().isEmpty()) {
                    handler.onPartialResponse(new PartialResponse(chunk.answer()), new PartialResponseContext(handle));
                }
                handle.check();
            });
            handler.onCompleteResponse(MobileLlmChatModel.response(reply, defaults.modelName()));
        });
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
        private Executor executor = Streaming.VIRTUAL_THREADS;

        public Builder listeners(List<ChatModelListener> listeners) {
            this.listeners = listeners == null ? List.of() : listeners;
            return this;
        }

        /** Where requests run (default: a new virtual thread each). */
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        public MobileLlmStreamingChatModel build() {
            return new MobileLlmStreamingChatModel(this);
        }
    }
}
