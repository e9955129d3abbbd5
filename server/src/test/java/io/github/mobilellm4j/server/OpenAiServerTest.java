package io.github.mobilellm4j.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.GeneratedToken;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.Pooling;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.chat.ChatMessage;
import io.github.mobilellm4j.chat.ChatReply;
import io.github.mobilellm4j.chat.ChatSession;
import io.github.mobilellm4j.chat.ChatTemplate;
import io.github.mobilellm4j.hub.TestCheckpoints;
import io.github.mobilellm4j.service.GenerationService;
import io.github.mobilellm4j.service.SessionPool;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The server driven by the official OpenAI Java SDK (and, for what the SDK hides, by the JDK's HTTP client), on the
 * demo checkpoint with a chat template. Replies are checked against the same generation done directly with the core
 * API (the chat template rendered, the prompt generated greedily in a fresh session), embeddings against
 * {@link Model#embed}.
 */
class OpenAiServerTest {
    static Model model;
    OpenAiServer server;
    GenerationService service;

    @BeforeAll
    static void load() {
        model = Model.load(TestCheckpoints.demoChatGguf(), ModelOptions.builder().threads(1).build());
    }

    @AfterAll
    static void unload() {
        model.close();
    }

    @AfterEach
    void stop() {
        if (server != null) server.close();
        if (service != null) service.close();
    }

    OpenAiServer start(GenerationService s, Consumer<OpenAiServer.Builder> settings) {
        service = s;
        OpenAiServer.Builder b = OpenAiServer.builder().service(s).port(0);
        settings.accept(b);
        server = b.build().start();
        return server;
    }

    OpenAIClient client(String key) {
        return OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey(key).maxRetries(0).build();
    }

    static Generation directChat(List<ChatMessage> messages, int maxTokens) {
        return directChat(model, messages, maxTokens);
    }

    /** The chat template of model rendered, and the prompt generated greedily in a fresh session. */
    static Generation directChat(Model model, List<ChatMessage> messages, int maxTokens) {
        String prompt = ChatTemplate.from(model).render(messages, true);
        try (Session s = model.newSession()) {
            return s.generate(model.tokenizer().encode(prompt, false, true), GenerateOptions.builder().maxTokens(maxTokens).greedy().build(), null);
        }
    }

    /** The answer as the chat API gives it: the text without the newlines that open it. */
    static String answer(Generation g) {
        return g.text().replaceFirst("^\n+", "");
    }

    static ChatCompletionCreateParams.Builder chat(int maxTokens) {
        return ChatCompletionCreateParams.builder().model("demo-chat").addSystemMessage("Be brief.").addUserMessage("Which licence?")
                .maxCompletionTokens(maxTokens).temperature(0.0);
    }

    @Test
    void chatCompletionsAnswerAsTheCoreApiDoes() throws Exception {
        start(SessionPool.of(model), b -> { });
        OpenAIClient client = client("unused");
        Generation expected = directChat(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Which licence?")), 12);

        ChatCompletion c = client.chat().completions().create(chat(12).build());
        assertThat(c.choices()).hasSize(1);
        assertThat(c.choices().get(0).message().content()).contains(answer(expected));
        assertThat(c.choices().get(0).finishReason().asString()).isEqualTo(expected.tokens().length == 12 ? "length" : "stop");
        assertThat(c.usage().orElseThrow().promptTokens()).isEqualTo(expected.promptTokens().length);
        assertThat(c.usage().orElseThrow().completionTokens()).isEqualTo(expected.tokens().length);
        assertThat(c.model()).isEqualTo("demo-chat");

        StringBuilder streamed = new StringBuilder();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
                chat(12).streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            s.stream().forEach(chunks::add);
        }
        chunks.forEach(ch -> ch.choices().forEach(choice -> choice.delta().content().ifPresent(streamed::append)));
        assertThat(chunks).hasSizeGreaterThan(3);
        assertThat(streamed.toString()).isEqualTo(answer(expected));
        assertThat(chunks.get(chunks.size() - 2).choices().get(0).finishReason().orElseThrow().asString())
                .isEqualTo(c.choices().get(0).finishReason().asString());
        assertThat(chunks.get(chunks.size() - 1).usage().orElseThrow().completionTokens()).isEqualTo(expected.tokens().length);

        assertThat(client.models().list().data()).extracting(m -> m.id()).containsExactly("demo-chat");

        // the metrics count the two generations and three requests above
        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("mobilellm_requests_total{endpoint=\"/v1/chat/completions\"} 2\n")
                .contains("mobilellm_requests_total{endpoint=\"/v1/models\"} 1\n")
                .contains("mobilellm_completion_tokens_total " + 2 * expected.tokens().length + "\n")
                .contains("mobilellm_prompt_tokens_total " + 2 * expected.promptTokens().length + "\n")
                .contains("mobilellm_requests_in_flight 0\n")
                .contains("# TYPE mobilellm_requests_total counter");
    }

    @Test
    void completionsAndEmbeddingsAnswerAsTheCoreApiDoes() {
        start(SessionPool.of(model), b -> { });
        OpenAIClient client = client("unused");
        Generation expected;
        try (Session s = model.newSession()) {
            expected = s.generate(model.tokenizer().encode("Permission is hereby granted"),
                    GenerateOptions.builder().maxTokens(10).greedy().build(), null);
        }
        Completion c = client.completions().create(CompletionCreateParams.builder().model("demo-chat").prompt("Permission is hereby granted")
                .maxTokens(10).temperature(0.0).build());
        assertThat(c.choices().get(0).text()).isEqualTo(expected.text()).isNotBlank();
        assertThat(c.usage().orElseThrow().completionTokens()).isEqualTo(expected.tokens().length);

        for (EmbeddingCreateParams.EncodingFormat format : List.of(EmbeddingCreateParams.EncodingFormat.FLOAT, EmbeddingCreateParams.EncodingFormat.BASE64)) {
            CreateEmbeddingResponse e = client.embeddings().create(EmbeddingCreateParams.builder().model("demo-chat")
                    .input("MIT License").encodingFormat(format).build());
            float[] direct = model.embed("MIT License", Pooling.MEAN, true);
            List<Float> got = e.data().get(0).embedding();
            assertThat(got).hasSize(direct.length);
            for (int i = 0; i < direct.length; i++) assertThat(got.get(i)).as("element %d (%s)", i, format).isEqualTo(direct[i]);
            assertThat(e.usage().promptTokens()).isEqualTo(model.tokenizer().encode("MIT License").length);
        }

        // many inputs go through batched passes: each vector as the text embedded alone, in input order
        List<String> texts = new java.util.ArrayList<>();
        for (int i = 0; i < 19; i++) texts.add("line " + i + " of the MIT License".repeat(1 + i % 3));
        CreateEmbeddingResponse many = client.embeddings().create(EmbeddingCreateParams.builder().model("demo-chat")
                .inputOfArrayOfStrings(texts).build());
        assertThat(many.data()).hasSize(texts.size());
        int tokens = 0;
        for (int t = 0; t < texts.size(); t++) {
            assertThat(many.data().get(t).index()).isEqualTo(t);
            float[] direct = model.embed(texts.get(t), Pooling.MEAN, true);
            List<Float> got = many.data().get(t).embedding();
            // unit vectors; a batched pass may round sums differently from a single text's: far below 1e-5
            for (int i = 0; i < direct.length; i++) assertThat(got.get(i)).as("text %d element %d", t, i).isCloseTo(direct[i], within(1e-5f));
            tokens += model.tokenizer().encode(texts.get(t)).length;
        }
        assertThat(many.usage().promptTokens()).isEqualTo(tokens);
    }

    @Test
    void badRequestsGetOpenAiErrors() throws Exception {
        start(SessionPool.of(model), b -> b.apiKey("sk-test").maxRequestBytes(4096).maxTokens(64));
        assertThatThrownBy(() -> client("wrong").chat().completions().create(chat(4).build()))
                .isInstanceOf(UnauthorizedException.class).hasMessageContaining("API key");
        OpenAIClient client = client("sk-test");
        assertThatThrownBy(() -> client.chat().completions().create(chat(4).temperature(5.0).build()))
                .isInstanceOf(BadRequestException.class).hasMessageContaining("temperature must be in [0, 2]");
        assertThatThrownBy(() -> client.chat().completions().create(chat(65).build()))
                .isInstanceOf(BadRequestException.class).hasMessageContaining("max_completion_tokens must be in [1, 64]");
        assertThatThrownBy(() -> client.chat().completions().create(chat(4).model("gpt-4o").build()))
                .isInstanceOf(NotFoundException.class).hasMessageContaining("'gpt-4o' does not exist");

        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> big = http.send(post("/v1/chat/completions", "sk-test", "{\"messages\":[{\"role\":\"user\",\"content\":\"" + "a".repeat(8000) + "\"}]}"),
                HttpResponse.BodyHandlers.ofString());
        assertThat(big.statusCode()).isEqualTo(413);
        HttpResponse<String> broken = http.send(post("/v1/chat/completions", "sk-test", "{\"messages\": ["), HttpResponse.BodyHandlers.ofString());
        assertThat(broken.statusCode()).isEqualTo(400);
        assertThat(broken.body()).contains("\"error\"").contains("not valid JSON");
        HttpResponse<String> nowhere = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/nowhere")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(nowhere.statusCode()).isEqualTo(404);
        assertThat(nowhere.body()).contains("\"type\":\"not_found_error\"");
        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        // 400: temperature, max_tokens, broken JSON; 404: the model, the path; 413 (answered before routing)
        assertThat(metrics).contains("mobilellm_errors_total{status=\"400\"} 3\n").contains("mobilellm_errors_total{status=\"401\"} 1\n")
                .contains("mobilellm_errors_total{status=\"404\"} 2\n").contains("mobilellm_errors_total{status=\"413\"} 1\n");
    }

    HttpRequest post(String path, String key, String body) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    /**
     * A pool that counts the chunks the first chat request to generate streamed until it ended (refused ones stream
     * none), and slows each chunk down, so that a client's disconnection comes long before the generation would end.
     */
    static final class CountingService implements GenerationService {
        final SessionPool pool;
        final Duration perChunk;
        final CompletableFuture<Integer> firstChatChunks = new CompletableFuture<>();

        CountingService(SessionPool pool, Duration perChunk) {
            this.pool = pool;
            this.perChunk = perChunk;
        }

        @Override
        public ChatReply chat(List<ChatMessage> messages, GenerateOptions options, Consumer<ChatSession.Chunk> onChunk) {
            AtomicInteger chunks = new AtomicInteger();
            try {
                return pool.chat(messages, options, c -> {
                    chunks.incrementAndGet();
                    onChunk.accept(c);
                    try {
                        Thread.sleep(perChunk);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                });
            } finally {
                if (chunks.get() > 0) firstChatChunks.complete(chunks.get());
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
        public Optional<ChatTemplate> chatTemplate() {
            return pool.chatTemplate();
        }

        @Override
        public void close() {
            pool.close();
        }
    }

    @Test
    void aBusyServerAnswers503AndADisconnectedStreamStops() throws Exception {
        // 20 ms a chunk: the full reply would stream for seconds, the client leaves after one event
        CountingService counting = new CountingService(SessionPool.builder(model).maxSessions(1).acquireTimeout(Duration.ZERO).build(),
                Duration.ofMillis(20));
        start(counting, b -> b.maxTokens(400));
        Generation full = directChat(List.of(ChatMessage.user("Hello")), 400);
        assertThat(full.tokens()).as("a reply long enough to be cut short").hasSizeGreaterThan(40);

        HttpClient http = HttpClient.newHttpClient();
        String streaming = "{\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"temperature\":0,\"max_tokens\":400,\"stream\":true}";
        HttpResponse<InputStream> open = http.send(post("/v1/chat/completions", "", streaming), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(open.statusCode()).isEqualTo(200);
        assertThat(open.headers().firstValue("Content-Type")).contains("text/event-stream");
        BufferedReader events = new BufferedReader(new InputStreamReader(open.body(), StandardCharsets.UTF_8));
        assertThat(events.readLine()).startsWith("data: {");

        // the only session is busy: the next request is refused at once
        HttpResponse<String> busy = http.send(post("/v1/chat/completions", "", streaming.replace("true", "false")), HttpResponse.BodyHandlers.ofString());
        assertThat(busy.statusCode()).isEqualTo(503);
        assertThat(busy.headers().firstValue("Retry-After")).contains("1");
        assertThat(busy.body()).contains("\"type\":\"server_error\"").contains("\"code\":\"server_busy\"");

        // the client goes away: the generation ends soon after, far before 400 tokens
        open.body().close();
        http.close();
        assertThat(counting.firstChatChunks.get(60, TimeUnit.SECONDS)).isLessThan(full.tokens().length / 2);
    }

    @Test
    void concurrentClientsEachGetTheirOwnReply() throws Exception {
        start(SessionPool.builder(model).maxSessions(2).acquireTimeout(Duration.ofSeconds(60)).build(), b -> { });
        int clients = 12, requests = 4;
        List<String> expected = new ArrayList<>();
        for (int c = 0; c < clients; c++) expected.add(answer(directChat(List.of(ChatMessage.user("Question " + c)), 6)));
        OpenAIClient client = client("unused");
        List<CompletableFuture<Void>> all = new ArrayList<>();
        try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < clients; c++) {
                int id = c;
                all.add(CompletableFuture.runAsync(() -> {
                    for (int r = 0; r < requests; r++) {
                        ChatCompletionCreateParams p = ChatCompletionCreateParams.builder().model("demo-chat")
                                .addUserMessage("Question " + id).maxCompletionTokens(6).temperature(0.0).build();
                        // every other request streams; each reply must be the one for this client's question
                        String got;
                        if (r % 2 == 0) {
                            got = client.chat().completions().create(p).choices().get(0).message().content().orElse("");
                        } else {
                            StringBuilder sb = new StringBuilder();
                            try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(p)) {
                                s.stream().forEach(ch -> ch.choices().forEach(x -> x.delta().content().ifPresent(sb::append)));
                            }
                            got = sb.toString();
                        }
                        assertThat(got).as("client %d request %d", id, r).isEqualTo(expected.get(id));
                    }
                }, threads));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(300, TimeUnit.SECONDS);
        }
    }
}
