package io.github.mobilellm4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.StopReason;
import io.github.mobilellm4j.chat.ChatMessage;
import io.github.mobilellm4j.chat.ChatTemplate;
import io.github.mobilellm4j.hub.TestCheckpoints;
import io.github.mobilellm4j.service.SessionPool;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A request's time limit reaches the engine: a prompt that takes far longer than the limit is stopped part-way (within
 * a layer with a session per request, within a step of the batched scheduler) and answered 408 long before the prompt
 * alone would have taken, after which the server answers as before; a reply under way when the limit passes comes
 * back as far as it got, with finish_reason "length", as the start of the reply it would have had. Times are measured
 * against the same work done directly through the Java API in this JVM, so a busy machine slows both sides alike.
 */
class RequestTimeoutTest {
    static final String BASE_PROMPT = "This License applies to";
    /** The context of the sessions: room for a prompt that takes seconds, so that the limits below dwarf a short request. */
    static final int CONTEXT = 4096;
    static final List<ChatMessage> SHORT_CONVERSATION = List.of(ChatMessage.user("Which licence?"));
    static Model model;
    static HttpClient http;
    /** A conversation whose prompt fills most of the context, and how long its prompt takes directly. */
    static List<ChatMessage> longConversation;
    static long longPromptNanos;
    OpenAiServer server;
    SessionPool pool;

    @BeforeAll
    static void load() {
        model = Model.load(TestCheckpoints.demoChatGguf(), ModelOptions.builder().threads(1).contextLength(CONTEXT).build());
        http = HttpClient.newHttpClient();
        ChatTemplate template = ChatTemplate.from(model);
        StringBuilder text = new StringBuilder();
        String sentence = "Each contributor grants you a licence to the work under these terms. ";
        while (tokens(template, text + sentence) < CONTEXT - 16) text.append(sentence);
        longConversation = List.of(ChatMessage.user(text.toString()));
        OpenAiServerTest.directChat(model, SHORT_CONVERSATION, 4); // the Java side compiled before the measurement
        long start = System.nanoTime();
        OpenAiServerTest.directChat(model, longConversation, 1);
        longPromptNanos = System.nanoTime() - start;
        System.out.printf("long prompt: %d tokens, %d ms directly%n", tokens(template, text.toString()), longPromptNanos / 1_000_000);
    }

    static int tokens(ChatTemplate template, String userText) {
        return model.tokenizer().encode(template.render(List.of(ChatMessage.user(userText)), true), false, true).length;
    }

    @AfterAll
    static void unload() {
        http.close();
        model.close();
    }

    @AfterEach
    void stop() {
        if (server != null) server.close();
        if (pool != null) pool.close();
    }

    void start(boolean batched, Duration requestTimeout) {
        pool = SessionPool.builder(model).maxSessions(2).batched(batched).build();
        server = OpenAiServer.builder().service(pool).port(0).requestTimeout(requestTimeout).build().start();
    }

    OpenAIClient client() {
        return OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("unused").maxRetries(0).build();
    }

    HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static String chatBody(List<ChatMessage> messages, int maxTokens, boolean stream) {
        var body = OpenAiServer.JSON.createObjectNode().put("max_tokens", maxTokens).put("temperature", 0).put("stream", stream);
        var array = body.putArray("messages");
        for (ChatMessage m : messages) array.addObject().put("role", m.role()).put("content", m.content());
        return body.toString();
    }

    @ParameterizedTest(name = "batched {0}")
    @ValueSource(booleans = {false, true})
    void aLongPromptIsStoppedByTheEngineAndTheServerStaysUsable(boolean batched) throws Exception {
        // a fifth of the prompt's time: the engine must stop it within a layer (12 layers, chunks of 512 tokens) or
        // a batched step (256 of its ~4000 tokens); the bound of half the prompt's time leaves room for HTTP and a
        // busy machine, and an engine that read the whole prompt (stopping at the first token) could not meet it
        Duration limit = Duration.ofNanos(longPromptNanos / 5);
        start(batched, limit);
        assertThat(post("/v1/chat/completions", chatBody(SHORT_CONVERSATION, 4, false)).statusCode())
                .as("a short request, which also warms the server up").isEqualTo(200);
        for (boolean stream : List.of(false, true)) {
            long begin = System.nanoTime();
            HttpResponse<String> r = post("/v1/chat/completions", chatBody(longConversation, 4, stream));
            long took = System.nanoTime() - begin;
            assertThat(r.statusCode()).as(r.body()).isEqualTo(408);
            assertThat(took).as("answered in %d ms, the prompt alone takes %d ms", took / 1_000_000, longPromptNanos / 1_000_000)
                    .isLessThan(longPromptNanos / 2);
            JsonNode error = ServerErrorsTest.error(r);
            assertThat(error.get("type").asText()).isEqualTo("timeout");
            assertThat(error.get("message").asText()).contains("time limit of " + limit.toMillis() / 1000.0 + " s");
        }
        // the sessions the timed-out prompts used answer the next requests as fresh ones do
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> r = post("/v1/chat/completions", chatBody(SHORT_CONVERSATION, 4, false));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode choice = OpenAiServer.JSON.readTree(r.body()).get("choices").get(0);
            assertThat(choice.get("message").get("content").asText())
                    .isEqualTo(OpenAiServerTest.answer(OpenAiServerTest.directChat(model, SHORT_CONVERSATION, 4)));
        }
    }

    @ParameterizedTest(name = "batched {0}")
    @ValueSource(booleans = {false, true})
    void aReplyCutByTheTimeLimitIsSentAsFarAsItGotWithLength(boolean batched) throws Exception {
        GenerateOptions options = GenerateOptions.builder().maxTokens(400).greedy().build();
        long begin = System.nanoTime();
        Generation whole = model.generate(BASE_PROMPT, options);
        long took = System.nanoTime() - begin;
        assertThat(whole.stopReason()).as("the demo model writes on to the token limit").isEqualTo(StopReason.MAX_TOKENS);
        // a quarter of the whole reply's time: the prompt (5 tokens) is read long before, so some tokens come, not all
        // (a factor of 4 on either side absorbs a busy machine's swings; seen failing with a factor of 8 at load 15)
        start(batched, Duration.ofNanos(took / 4));
        // the server's first request compiles its HTTP and JSON paths: warm them up, whatever this one answers
        post("/v1/completions", OpenAiServer.JSON.createObjectNode().put("prompt", BASE_PROMPT).put("max_tokens", 1).toString());
        Completion c = client().completions().create(CompletionCreateParams.builder().model("demo-chat").prompt(BASE_PROMPT)
                .maxTokens(400).temperature(0.0).build());
        assertThat(c.choices().get(0).finishReason().asString()).isEqualTo("length");
        long generated = c.usage().orElseThrow().completionTokens();
        assertThat(generated).isBetween(1L, 399L);
        assertThat(whole.text()).startsWith(c.choices().get(0).text());

        // streamed: the chunks so far, a last one with finish_reason length, then [DONE] as at any normal end
        HttpResponse<String> r = post("/v1/completions", OpenAiServer.JSON.createObjectNode().put("prompt", BASE_PROMPT)
                .put("max_tokens", 400).put("temperature", 0).put("stream", true).toString());
        assertThat(r.statusCode()).isEqualTo(200);
        List<String> events = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertThat(events.getLast()).isEqualTo("[DONE]");
        StringBuilder streamed = new StringBuilder();
        for (String e : events.subList(0, events.size() - 1)) {
            streamed.append(OpenAiServer.JSON.readTree(e).get("choices").get(0).get("text").asText());
        }
        JsonNode lastChoice = OpenAiServer.JSON.readTree(events.get(events.size() - 2)).get("choices").get(0);
        assertThat(lastChoice.get("finish_reason").asText()).isEqualTo("length");
        assertThat(streamed.length()).isLessThan(whole.text().length());
        assertThat(whole.text()).startsWith(streamed.toString());
    }
}
