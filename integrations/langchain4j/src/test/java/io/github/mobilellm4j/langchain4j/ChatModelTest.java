package io.github.mobilellm4j.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.Result;
import dev.langchain4j.service.TokenStream;
import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.chat.ChatMessage;
import io.github.mobilellm4j.chat.ChatTemplate;
import io.github.mobilellm4j.hub.TestCheckpoints;
import io.github.mobilellm4j.sampling.SamplerOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The chat models driven through LangChain4j's own APIs (AiServices, blocking and streaming) on a small chat
 * model (the demo checkpoint with a chat template). Every reply is checked against the same generation done
 * directly with the core API: the model's template rendered, the prompt tokenized and generated in a fresh session
 * with the sampler the request's parameters describe.
 */
class ChatModelTest {
    static Model model;

    interface Assistant {
        @dev.langchain4j.service.SystemMessage("Be brief.")
        Result<String> chat(String message);
    }

    interface StreamingAssistant {
        @dev.langchain4j.service.SystemMessage("Be brief.")
        TokenStream chat(String message);
    }

    @BeforeAll
    static void load() {
        model = Model.load(TestCheckpoints.demoChatGguf(), ModelOptions.builder().threads(1).build());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** The reply generated directly: template, tokenizer, a fresh session. */
    static Generation direct(List<ChatMessage> messages, GenerateOptions options) {
        String prompt = ChatTemplate.from(model).render(messages, true);
        try (Session s = model.newSession()) {
            return s.generate(model.tokenizer().encode(prompt, false, true), options, null);
        }
    }

    /** The answer as ChatSession gives it: the text without the newlines that open it. */
    static String answer(Generation g) {
        return g.text().replaceFirst("^\n+", "");
    }

    @Test
    void anAiServiceIsAnsweredWithUsageAndFinishReason() {
        ChatModel chat = MobileLlmChatModel.builder().model(model).temperature(0.0).maxTokens(12).build();
        Assistant assistant = AiServices.create(Assistant.class, chat);
        Result<String> result = assistant.chat("Which licence is this?");

        Generation expected = direct(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Which licence is this?")),
                GenerateOptions.builder().maxTokens(12).greedy().build());
        assertThat(result.content()).isEqualTo(answer(expected));
        assertThat(result.tokenUsage().inputTokenCount()).isEqualTo(expected.promptTokens().length);
        assertThat(result.tokenUsage().outputTokenCount()).isEqualTo(expected.tokens().length);
        assertThat(result.finishReason()).isEqualTo(expected.tokens().length == 12 ? FinishReason.LENGTH : FinishReason.STOP);

        MobileLlmTokenCountEstimator counter = MobileLlmTokenCountEstimator.builder().model(model).build();
        assertThat(counter.estimateTokenCountInMessages(List.of(SystemMessage.from("Be brief."), UserMessage.from("Which licence is this?"))))
                .isEqualTo(result.tokenUsage().inputTokenCount());
        assertThat(counter.estimateTokenCountInText("GNU General Public License"))
                .isEqualTo(model.tokenizer().encode("GNU General Public License", false, false).length);
    }

    @Test
    void aStreamingAiServiceStreamsTheSameReply() throws Exception {
        StreamingChatModel chat = MobileLlmStreamingChatModel.builder().model(model).temperature(0.0).maxTokens(12).build();
        StreamingAssistant assistant = AiServices.create(StreamingAssistant.class, chat);
        List<String> pieces = new ArrayList<>();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        assistant.chat("Which licence is this?")
                .onPartialResponse(pieces::add)
                .onCompleteResponse(done::complete)
                .onError(done::completeExceptionally)
                .start();
        ChatResponse response = done.get(60, TimeUnit.SECONDS);

        Generation expected = direct(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Which licence is this?")),
                GenerateOptions.builder().maxTokens(12).greedy().build());
        assertThat(pieces).hasSizeGreaterThan(1);
        assertThat(String.join("", pieces)).isEqualTo(response.aiMessage().text()).isEqualTo(answer(expected));
        assertThat(response.tokenUsage().inputTokenCount()).isEqualTo(expected.promptTokens().length);
        assertThat(response.tokenUsage().outputTokenCount()).isEqualTo(expected.tokens().length);
        assertThat(response.modelName()).isEqualTo("demo-chat");
    }

    @Test
    void requestParametersChooseTheSampler() {
        ChatModel chat = MobileLlmChatModel.builder().model(model).build();
        ChatRequestParameters p = MobileLlmChatRequestParameters.builder().temperature(0.9).topP(0.8).topK(20)
                .maxOutputTokens(10).seed(7L).minP(0.02).repeatPenalty(1.1).build();
        ChatResponse r = chat.chat(ChatRequest.builder().messages(UserMessage.from("Hello")).parameters(p).build());
        Generation expected = direct(List.of(ChatMessage.user("Hello")), GenerateOptions.builder().maxTokens(10)
                .sampler(SamplerOptions.builder().temperature(0.9f).topP(0.8f).topK(20).seed(7).minP(0.02f).repeatPenalty(1.1f).build())
                .build());
        assertThat(r.aiMessage().text()).isEqualTo(answer(expected));
        assertThat(r.tokenUsage().outputTokenCount()).isEqualTo(expected.tokens().length);

        // a stop sequence taken from the greedy reply: the reply ends before it, finish reason STOP
        Generation greedy = direct(List.of(ChatMessage.user("Hello")), GenerateOptions.builder().maxTokens(24).greedy().build());
        String text = answer(greedy);
        String stop = text.substring(text.length() / 2, text.length() / 2 + 3);
        ChatResponse stopped = chat.chat(ChatRequest.builder().messages(UserMessage.from("Hello"))
                .parameters(ChatRequestParameters.builder().temperature(0.0).maxOutputTokens(24).stopSequences(stop).build()).build());
        assertThat(stopped.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(stopped.aiMessage().text()).isEqualTo(text.substring(0, text.indexOf(stop)));

        // the model's defaults, overridden by the request's
        ChatModel brief = MobileLlmChatModel.builder().model(model).temperature(0.0).maxTokens(3).build();
        assertThat(brief.chat(ChatRequest.builder().messages(UserMessage.from("Hello")).build()).tokenUsage().outputTokenCount()).isEqualTo(3);
        assertThat(brief.chat(ChatRequest.builder().messages(UserMessage.from("Hello"))
                .parameters(ChatRequestParameters.builder().maxOutputTokens(5).build()).build()).finishReason()).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void whatTheModelCannotDoIsRefused() {
        ChatModel chat = MobileLlmChatModel.builder().model(model).build();
        assertThatThrownBy(() -> chat.chat(ChatRequest.builder().messages(UserMessage.from("Hi"))
                .parameters(ChatRequestParameters.builder().frequencyPenalty(0.5).build()).build()))
                .isInstanceOf(UnsupportedFeatureException.class).hasMessageContaining("repeatPenalty");
        assertThatThrownBy(() -> chat.chat(ChatRequest.builder().messages(UserMessage.from("Hi"))
                .toolSpecifications(ToolSpecification.builder().name("weather").build()).build()))
                .isInstanceOf(UnsupportedFeatureException.class).hasMessageContaining("tools");
        assertThatThrownBy(() -> chat.chat(UserMessage.from(TextContent.from("What is this?"), ImageContent.from("https://example.com/a.png"))))
                .isInstanceOf(UnsupportedFeatureException.class).hasMessageContaining("text only");
        try (Model base = Model.loadDemo(ModelOptions.builder().threads(1).build())) {
            assertThatThrownBy(() -> MobileLlmChatModel.builder().model(base).build())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("has no chat template")
                    .hasMessageContaining("MobileLlmLanguageModel");
        }
    }

    @Test
    void aStreamCancelledByItsHandlerStops() throws Exception {
        StreamingChatModel chat = MobileLlmStreamingChatModel.builder().model(model).temperature(0.0).maxTokens(40).build();
        List<String> pieces = new ArrayList<>();
        CompletableFuture<Void> cancelled = new CompletableFuture<>();
        List<Object> after = new ArrayList<>();
        chat.chat(ChatRequest.builder().messages(UserMessage.from("Hello")).build(), new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
                pieces.add(partial.text());
                if (pieces.size() == 2) {
                    context.streamingHandle().cancel();
                    cancelled.complete(null);
                }
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                after.add(response);
            }

            @Override
            public void onError(Throwable error) {
                after.add(error);
            }
        });
        cancelled.get(60, TimeUnit.SECONDS);
        // the next request is served (by the same single session) only once the cancelled one has ended
        ChatResponse next = MobileLlmChatModel.builder().model(model).temperature(0.0).maxTokens(2).build().chat(
                ChatRequest.builder().messages(UserMessage.from("Hello")).build());
        assertThat(next.tokenUsage().outputTokenCount()).isEqualTo(2);
        assertThat(pieces).hasSize(2);
        assertThat(after).isEmpty();
    }
}
