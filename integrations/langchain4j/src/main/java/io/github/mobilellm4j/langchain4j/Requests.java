package io.github.mobilellm4j.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.StopReason;
import io.github.mobilellm4j.chat.ChatMessage;
import io.github.mobilellm4j.sampling.SamplerOptions;
import java.util.ArrayList;
import java.util.List;

/** LangChain4j's requests in mobilellm4j's terms, and mobilellm4j's results in LangChain4j's. */
final class Requests {
    /** Tokens generated when a request does not say (maxOutputTokens). */
    static final int DEFAULT_MAX_TOKENS = 512;

    private Requests() {
    }

    /**
     * What to generate: maxOutputTokens, stop sequences and the sampler (temperature 0 = greedy, top-p, top-k, and
     * our seed, min-p and repetition penalty). Parameters LangChain4j has that the engine does not honour are
     * refused rather than ignored.
     */
    static GenerateOptions options(ChatRequestParameters p, String modelName) {
        if (p.modelName() != null && !p.modelName().equals(modelName)) {
            throw new UnsupportedFeatureException("this model is '" + modelName + "'; it cannot serve model '" + p.modelName() + "'");
        }
        if (p.frequencyPenalty() != null || p.presencePenalty() != null) {
            throw new UnsupportedFeatureException("frequencyPenalty and presencePenalty are not supported by mobilellm4j;"
                    + " use MobileLlmChatRequestParameters.repeatPenalty");
        }
        if (p.toolSpecifications() != null && !p.toolSpecifications().isEmpty()
                || p.toolChoice() != null && p.toolChoice() != ToolChoice.AUTO) {
            throw new UnsupportedFeatureException("tools are not supported by mobilellm4j");
        }
        if (p.responseFormat() != null && p.responseFormat().type() == ResponseFormatType.JSON) {
            throw new UnsupportedFeatureException("the JSON response format is not supported by mobilellm4j");
        }
        SamplerOptions sampler;
        if (p.temperature() != null && p.temperature() == 0) {
            sampler = SamplerOptions.greedy();
        } else {
            SamplerOptions.Builder s = SamplerOptions.builder();
            if (p.temperature() != null) s.temperature(p.temperature().floatValue());
            if (p.topP() != null) s.topP(p.topP().floatValue());
            if (p.topK() != null) s.topK(p.topK());
            if (p instanceof MobileLlmChatRequestParameters m) {
                if (m.seed() != null) s.seed(m.seed());
                if (m.minP() != null) s.minP(m.minP().floatValue());
                if (m.repeatPenalty() != null) s.repeatPenalty(m.repeatPenalty().floatValue());
            }
            sampler = s.build();
        }
        return GenerateOptions.builder()
                .maxTokens(p.maxOutputTokens() != null ? p.maxOutputTokens() : DEFAULT_MAX_TOKENS)
                .stopStrings(p.stopSequences() == null ? List.of() : p.stopSequences())
                .sampler(sampler)
                .build();
    }

    /** The conversation as chat-template messages; what the model cannot read (images, tool calls) is refused. */
    static List<ChatMessage> messages(List<dev.langchain4j.data.message.ChatMessage> messages) {
        List<ChatMessage> out = new ArrayList<>(messages.size());
        for (dev.langchain4j.data.message.ChatMessage m : messages) out.add(message(m));
        return out;
    }

    static ChatMessage message(dev.langchain4j.data.message.ChatMessage m) {
        if (m instanceof SystemMessage s) return ChatMessage.system(s.text());
        if (m instanceof UserMessage u) {
            if (!u.hasSingleText()) throw new UnsupportedFeatureException("mobilellm4j models read text only, not " + u.contents());
            return ChatMessage.user(u.singleText());
        }
        if (m instanceof AiMessage a) {
            if (a.hasToolExecutionRequests()) throw new UnsupportedFeatureException("tools are not supported by mobilellm4j");
            return ChatMessage.assistant(a.text() == null ? "" : a.text());
        }
        throw new UnsupportedFeatureException("messages of type " + m.type() + " are not supported by mobilellm4j");
    }

    static TokenUsage usage(Generation g) {
        return new TokenUsage(g.promptTokens().length, g.tokens().length);
    }

    static FinishReason finishReason(StopReason reason) {
        return switch (reason) {
            case EOS, STOP_STRING -> FinishReason.STOP;
            case MAX_TOKENS, TIMEOUT -> FinishReason.LENGTH; // cut short: the text is incomplete
            case CANCELLED -> FinishReason.OTHER;
        };
    }
}
