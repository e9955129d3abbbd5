package io.github.mobilellm4j.spring.ai;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.StopReason;
import io.github.mobilellm4j.chat.ChatReply;
import io.github.mobilellm4j.sampling.SamplerOptions;
import io.github.mobilellm4j.service.GenerationService;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.metadata.ChatGenerationMetadata;
import org.springframework.ai.chat.metadata.ChatResponseMetadata;
import org.springframework.ai.chat.metadata.DefaultUsage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.content.MediaContent;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.scheduler.Schedulers;

/**
 * A Spring AI {@link ChatModel} over a mobilellm4j model with a chat template: the prompt's messages are rendered with
 * the template and the reply generated until the end-of-turn token, a stop sequence or maxTokens. Options come from
 * the prompt, else from this model's defaults; a temperature of 0 picks the most likely token each step. Responses
 * carry the token usage and the finish reason ({@code STOP} or {@code LENGTH}). {@link #stream} emits the answer as
 * it is generated, then a last response with the finish reason and usage; cancelling the subscription ends the
 * generation.
 *
 * <pre>{@code
 * ChatModel chat = MobileLlmChatModel.builder().service(SessionPool.of(model))
 *         .defaultOptions(ChatOptions.builder().temperature(0.7).maxTokens(256).build()).build();
 * String answer = chat.call("What is MobileLLM?");
 * }</pre>
 */
public class MobileLlmChatModel implements ChatModel {
    /** Tokens generated when neither the prompt nor the defaults say (maxTokens). */
    public static final int DEFAULT_MAX_TOKENS = 512;

    private final GenerationService service;
    private final ChatOptions defaultOptions;
    private final String modelName;

    private MobileLlmChatModel(Builder b) {
        this.service = Objects.requireNonNull(b.service, "a service is required: service(GenerationService)");
        this.modelName = b.modelName != null ? b.modelName : service.modelName();
        this.defaultOptions = b.defaultOptions != null ? b.defaultOptions : ChatOptions.builder().build();
        if (service.chatTemplate().isEmpty()) {
            throw new IllegalArgumentException("the model " + modelName + " has no chat template: give the service one,"
                    + " or use the model for embeddings only (mobilellm.chat.enabled=false)");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public ChatResponse call(Prompt prompt) {
        ChatReply reply = service.chat(messages(prompt), options(prompt.getOptions()), null);
        return response(reply.answer(), reply);
    }

    @Override
    public Flux<ChatResponse> stream(Prompt prompt) {
        List<io.github.mobilellm4j.chat.ChatMessage> messages = messages(prompt);
        GenerateOptions options = options(prompt.getOptions());
        return Flux.<ChatResponse>create(sink -> {
            AtomicBoolean cancelled = new AtomicBoolean();
            sink.onDispose(() -> cancelled.set(true));
            try {
                ChatReply reply = service.chat(messages, options, chunk -> {
                    if (cancelled.get()) throw new StreamCancelled();
                    if (!chunk.answer().isEmpty()) sink.next(response(chunk.answer(), null));
                });
                sink.next(response("", reply));
                sink.complete();
            } catch (StreamCancelled e) {
                // the subscriber is gone: nothing more to send
            } catch (RuntimeException e) {
                sink.error(e);
            }
        }, FluxSink.OverflowStrategy.BUFFER).subscribeOn(Schedulers.boundedElastic());
    }

    @Override
    public ChatOptions getDefaultOptions() {
        return defaultOptions.mutate().build();
    }

    /** A response with the text; with the reply (the last of a stream, or a whole call) its finish reason and usage too. */
    private ChatResponse response(String text, ChatReply reply) {
        ChatGenerationMetadata.Builder meta = ChatGenerationMetadata.builder();
        ChatResponseMetadata.Builder responseMeta = ChatResponseMetadata.builder().model(modelName);
        if (reply != null) {
            meta.finishReason(reply.generation().stopReason() == StopReason.MAX_TOKENS ? "LENGTH" : "STOP");
            int in = reply.generation().promptTokens().length, out = reply.generation().tokens().length;
            responseMeta.usage(new DefaultUsage(in, out, in + out));
        }
        return new ChatResponse(List.of(new Generation(new AssistantMessage(text), meta.build())), responseMeta.build());
    }

    /** The prompt's options over the defaults, in the engine's terms; what the engine cannot honour is refused. */
    GenerateOptions options(ChatOptions requested) {
        ChatOptions o = requested == null ? defaultOptions : merge(requested);
        if (o.getModel() != null && !o.getModel().equals(modelName)) {
            throw new IllegalArgumentException("this model is '" + modelName + "'; it cannot serve model '" + o.getModel() + "'");
        }
        if (o.getFrequencyPenalty() != null || o.getPresencePenalty() != null) {
            throw new IllegalArgumentException("frequencyPenalty and presencePenalty are not supported by mobilellm4j");
        }
        SamplerOptions sampler;
        if (o.getTemperature() != null && o.getTemperature() == 0) {
            sampler = SamplerOptions.greedy();
        } else {
            SamplerOptions.Builder s = SamplerOptions.builder();
            if (o.getTemperature() != null) s.temperature(o.getTemperature().floatValue());
            if (o.getTopP() != null) s.topP(o.getTopP().floatValue());
            if (o.getTopK() != null) s.topK(o.getTopK());
            sampler = s.build();
        }
        return GenerateOptions.builder()
                .maxTokens(o.getMaxTokens() != null ? o.getMaxTokens() : DEFAULT_MAX_TOKENS)
                .stopStrings(o.getStopSequences() == null ? List.of() : o.getStopSequences())
                .sampler(sampler)
                .build();
    }

    private ChatOptions merge(ChatOptions r) {
        ChatOptions d = defaultOptions;
        return ChatOptions.builder()
                .model(r.getModel() != null ? r.getModel() : d.getModel())
                .temperature(r.getTemperature() != null ? r.getTemperature() : d.getTemperature())
                .topP(r.getTopP() != null ? r.getTopP() : d.getTopP())
                .topK(r.getTopK() != null ? r.getTopK() : d.getTopK())
                .maxTokens(r.getMaxTokens() != null ? r.getMaxTokens() : d.getMaxTokens())
                .stopSequences(r.getStopSequences() != null ? r.getStopSequences() : d.getStopSequences())
                .frequencyPenalty(r.getFrequencyPenalty() != null ? r.getFrequencyPenalty() : d.getFrequencyPenalty())
                .presencePenalty(r.getPresencePenalty() != null ? r.getPresencePenalty() : d.getPresencePenalty())
                .build();
    }

    /** The conversation as chat-template messages; what the model cannot read (media, tool calls) is refused. */
    static List<io.github.mobilellm4j.chat.ChatMessage> messages(Prompt prompt) {
        List<io.github.mobilellm4j.chat.ChatMessage> out = new ArrayList<>();
        for (Message m : prompt.getInstructions()) {
            if (m instanceof MediaContent c && !c.getMedia().isEmpty()) {
                throw new IllegalArgumentException("mobilellm4j models read text only, not media");
            }
            String text = m.getText() == null ? "" : m.getText();
            out.add(switch (m.getMessageType()) {
                case SYSTEM -> io.github.mobilellm4j.chat.ChatMessage.system(text);
                case USER -> io.github.mobilellm4j.chat.ChatMessage.user(text);
                case ASSISTANT -> {
                    if (((AssistantMessage) m).hasToolCalls()) throw new IllegalArgumentException("tools are not supported by mobilellm4j");
                    yield io.github.mobilellm4j.chat.ChatMessage.assistant(text);
                }
                case TOOL -> throw new IllegalArgumentException("tools are not supported by mobilellm4j");
            });
        }
        return out;
    }

    /** Thrown from the token callback to end a generation whose subscriber has gone. */
    private static final class StreamCancelled extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StreamCancelled() {
            super("cancelled", null, false, false);
        }
    }

    public static final class Builder {
        private GenerationService service;
        private ChatOptions defaultOptions;
        private String modelName;

        private Builder() {
        }

        /** The service that runs the requests, e.g. a {@link io.github.mobilellm4j.service.SessionPool}. */
        public Builder service(GenerationService service) {
            this.service = Objects.requireNonNull(service, "service");
            return this;
        }

        /** Options for every request (a prompt's own options win). */
        public Builder defaultOptions(ChatOptions defaultOptions) {
            this.defaultOptions = Objects.requireNonNull(defaultOptions, "defaultOptions");
            return this;
        }

        /** The name responses carry (default: the GGUF file's general.name, else its file name). */
        public Builder modelName(String modelName) {
            this.modelName = modelName;
            return this;
        }

        public MobileLlmChatModel build() {
            return new MobileLlmChatModel(this);
        }
    }
}
