package io.github.mobilellm4j.spring.ai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Pooling;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.chat.ChatMessage;
import io.github.mobilellm4j.chat.ChatTemplate;
import io.github.mobilellm4j.hub.FakeHub;
import io.github.mobilellm4j.hub.TestCheckpoints;
import io.github.mobilellm4j.service.GenerationService;
import io.github.mobilellm4j.GeneratedToken;
import io.github.mobilellm4j.chat.ChatReply;
import io.github.mobilellm4j.chat.ChatSession;
import io.github.mobilellm4j.service.SessionPool;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.ai.chat.messages.SystemMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.document.Document;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.ai.embedding.EmbeddingResponse;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The auto-configuration in Spring application contexts made from properties, its beans driven through Spring AI's
 * interfaces. Replies are checked against the same generation done directly with the core API (the model's chat
 * template rendered, the prompt generated greedily in a fresh session), embeddings against {@link Model#embed}.
 */
class MobileLlmAutoConfigurationTest {
    static final Path DEMO_CHAT = TestCheckpoints.demoChatGguf();
    /** The demo model as published: a base model, no chat template. */
    static final Path DEMO_BASE = TestCheckpoints.repoRoot().resolve("demo-model/src/main/resources/io/github/mobilellm4j/demo/mobilellm-demo-q8_0.gguf");

    final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(MobileLlmAutoConfiguration.class))
            .withPropertyValues("mobilellm.threads=1");

    @TempDir
    Path tmp;

    static Generation direct(Model model, List<ChatMessage> messages, int maxTokens) {
        String prompt = ChatTemplate.from(model).render(messages, true);
        try (Session s = model.newSession()) {
            return s.generate(model.tokenizer().encode(prompt, false, true), GenerateOptions.builder().maxTokens(maxTokens).greedy().build(), null);
        }
    }

    /** The answer as the chat API gives it: the text without the newlines that open it. */
    static String answer(Generation g) {
        return g.text().replaceFirst("^\n+", "");
    }

    @Test
    void aModelFileBecomesChatAndEmbeddingBeans() {
        runner.withPropertyValues("mobilellm.model=" + DEMO_CHAT, "mobilellm.chat.temperature=0", "mobilellm.chat.max-tokens=12")
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(ChatModel.class).hasSingleBean(EmbeddingModel.class);
                    Model model = context.getBean(Model.class);
                    ChatModel chat = context.getBean(ChatModel.class);
                    Generation expected = direct(model, List.of(ChatMessage.system("Be brief."), ChatMessage.user("Which licence?")), 12);

                    ChatResponse r = chat.call(new Prompt(List.of(new SystemMessage("Be brief."), new UserMessage("Which licence?"))));
                    assertThat(r.getResult().getOutput().getText()).isEqualTo(answer(expected)).isNotBlank();
                    assertThat(r.getMetadata().getUsage().getPromptTokens()).isEqualTo(expected.promptTokens().length);
                    assertThat(r.getMetadata().getUsage().getCompletionTokens()).isEqualTo(expected.tokens().length);
                    assertThat(r.getResult().getMetadata().getFinishReason()).isEqualTo(expected.tokens().length == 12 ? "LENGTH" : "STOP");
                    assertThat(r.getMetadata().getModel()).isEqualTo("demo-chat");

                    // streamed: the pieces add up to the same answer; the last response carries finish reason and usage
                    List<ChatResponse> parts = chat.stream(new Prompt(List.of(new SystemMessage("Be brief."), new UserMessage("Which licence?"))))
                            .collectList().block(Duration.ofSeconds(60));
                    assertThat(parts).hasSizeGreaterThan(2);
                    StringBuilder text = new StringBuilder();
                    parts.forEach(p -> text.append(p.getResult().getOutput().getText()));
                    assertThat(text.toString()).isEqualTo(answer(expected));
                    ChatResponse last = parts.get(parts.size() - 1);
                    assertThat(last.getResult().getMetadata().getFinishReason()).isEqualTo(r.getResult().getMetadata().getFinishReason());
                    assertThat(last.getMetadata().getUsage().getCompletionTokens()).isEqualTo(expected.tokens().length);

                    // a prompt's options win over the properties
                    ChatResponse three = chat.call(new Prompt("Hello", ChatOptions.builder().maxTokens(3).build()));
                    assertThat(three.getMetadata().getUsage().getCompletionTokens()).isEqualTo(3);
                    assertThat(three.getResult().getMetadata().getFinishReason()).isEqualTo("LENGTH");
                    assertThatThrownBy(() -> chat.call(new Prompt("Hello", ChatOptions.builder().frequencyPenalty(0.5).build())))
                            .hasMessageContaining("frequencyPenalty");

                    EmbeddingModel embedder = context.getBean(EmbeddingModel.class);
                    assertThat(embedder.dimensions()).isEqualTo(model.info().shape().embeddingLength());
                    EmbeddingResponse e = embedder.embedForResponse(List.of("MIT License", "GNU General Public License"));
                    // both texts in one batched pass, which may sum its matmuls in another order: unit vectors move by ~1e-7
                    assertThat(e.getResults().get(0).getOutput())
                            .containsExactly(model.embed("MIT License", Pooling.MEAN, true), within(1e-5f));
                    assertThat(e.getResults().get(1).getOutput())
                            .containsExactly(model.embed("GNU General Public License", Pooling.MEAN, true), within(1e-5f));
                    assertThat(e.getMetadata().getUsage().getPromptTokens()).isEqualTo(
                            model.tokenizer().encode("MIT License").length + model.tokenizer().encode("GNU General Public License").length);
                    assertThat(embedder.embed(new Document("MIT License"))).containsExactly(model.embed("MIT License", Pooling.MEAN, true));
                });
    }

    /** The pool the auto-configuration would make, counting the chunks each chat request streamed until it ended. */
    static final class CountingService implements GenerationService {
        final GenerationService pool;
        final CompletableFuture<Integer> chunksOfFirstChat = new CompletableFuture<>();

        CountingService(Model model) {
            pool = SessionPool.of(model);
        }

        @Override
        public ChatReply chat(List<ChatMessage> messages, GenerateOptions options, Consumer<ChatSession.Chunk> onChunk) {
            AtomicInteger chunks = new AtomicInteger();
            try {
                return pool.chat(messages, options, c -> {
                    chunks.incrementAndGet();
                    if (onChunk != null) onChunk.accept(c);
                });
            } finally {
                chunksOfFirstChat.complete(chunks.get());
            }
        }

        @Override
        public Model model() {
            return pool.model();
        }

        @Override
        public Generation complete(String prompt, GenerateOptions options, Consumer<GeneratedToken> onToken) {
            return pool.complete(prompt, options, onToken);
        }

        @Override
        public float[] embed(String text, Pooling pooling, boolean normalize) {
            return pool.embed(text, pooling, normalize);
        }

        @Override
        public List<float[]> embedAll(List<String> texts, Pooling pooling, boolean normalize) {
            return pool.embedAll(texts, pooling, normalize);
        }

        @Override
        public Optional<ChatTemplate> chatTemplate() {
            return pool.chatTemplate();
        }

        @Override
        public void close() {
            pool.close();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class CountingServiceConfiguration {
        @Bean(destroyMethod = "close")
        CountingService countingService(Model model) {
            return new CountingService(model);
        }
    }

    @Test
    void aCancelledStreamStopsItsGeneration() {
        runner.withUserConfiguration(CountingServiceConfiguration.class)
                .withPropertyValues("mobilellm.model=" + DEMO_CHAT, "mobilellm.chat.temperature=0", "mobilellm.chat.max-tokens=200")
                .run(context -> {
                    // the application's service is the one the chat model uses
                    assertThat(context).hasSingleBean(GenerationService.class);
                    CountingService service = context.getBean(CountingService.class);
                    ChatModel chat = context.getBean(ChatModel.class);
                    Generation full = direct(service.model(), List.of(ChatMessage.user("Hello")), 200);
                    assertThat(full.tokens()).as("a reply long enough to be cut short").hasSizeGreaterThan(20);

                    assertThat(chat.stream(new Prompt("Hello")).take(2).collectList().block(Duration.ofSeconds(60))).hasSize(2);
                    // the generation ends at the next token after the cancellation, not after 200
                    assertThat(service.chunksOfFirstChat.get(60, TimeUnit.SECONDS)).isLessThan(10);
                });
    }

    @Test
    void aRepositoryNameIsPulledFromTheHub() throws Exception {
        try (FakeHub hub = new FakeHub()) {
            hub.add("test-org/demo-chat", FakeHub.folder(TestCheckpoints.demoChatCheckpoint(tmp.resolve("checkpoint"))),
                    List.of("model.safetensors", "tokenizer.model"), null);
            runner.withPropertyValues("mobilellm.model=test-org/demo-chat", "mobilellm.hub.endpoint=" + hub.endpoint(),
                    "mobilellm.hub.cache=" + tmp.resolve("hf"), "mobilellm.hub.model-cache=" + tmp.resolve("models"),
                    "mobilellm.chat.temperature=0", "mobilellm.chat.max-tokens=6").run(context -> {
                assertThat(context).hasNotFailed();
                Model model = context.getBean(Model.class);
                assertThat(model.path()).startsWith(tmp.resolve("models"));
                ChatResponse r = context.getBean(ChatModel.class).call(new Prompt("Hello"));
                assertThat(r.getResult().getOutput().getText()).isEqualTo(answer(direct(model, List.of(ChatMessage.user("Hello")), 6)));
            });
        }
    }

    @Test
    void aBaseModelServesEmbeddingsOnlyWhenChatIsTurnedOff() {
        runner.withPropertyValues("mobilellm.model=" + DEMO_BASE).run(context -> assertThat(context).hasFailed()
                .getFailure().rootCause().hasMessageContaining("has no chat template").hasMessageContaining("mobilellm.chat.enabled=false"));
        runner.withPropertyValues("mobilellm.model=" + DEMO_BASE, "mobilellm.chat.enabled=false").run(context -> {
            assertThat(context).hasNotFailed().doesNotHaveBean(ChatModel.class).hasSingleBean(EmbeddingModel.class);
            assertThat(context.getBean(EmbeddingModel.class).embed("MIT")).hasSize(context.getBean(Model.class).info().shape().embeddingLength());
        });
    }

    @Test
    void nothingIsMadeWithoutAModelAndAMissingFileIsNamed() {
        runner.run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(Model.class).doesNotHaveBean(GenerationService.class)
                .doesNotHaveBean(ChatModel.class));
        runner.withPropertyValues("mobilellm.model=" + tmp.resolve("missing.gguf")).run(context -> assertThat(context).hasFailed()
                .getFailure().rootCause().hasMessageContaining("missing.gguf"));
    }
}
