package io.github.mobilellm4j.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.StopReason;
import io.github.mobilellm4j.chat.ChatMessage;
import io.github.mobilellm4j.hub.TestCheckpoints;
import io.github.mobilellm4j.service.SessionPool;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every way a request can fail gets OpenAI's error object with the right status, whatever refuses it: the endpoints,
 * the web server below them (size limit, connection limit, unknown path or method), or the context length. Checked
 * with the official OpenAI Java SDK (which parses the error object into its exceptions) and the JDK's HTTP client
 * (for the raw status, headers and body); prompt token counts against what the engine reports for the same prompt.
 */
class ServerErrorsTest {
    /** The context length of the small-context model: the demo prompts below fill it. */
    static final int SMALL_CONTEXT = 32;
    static Model model;
    static Model small;
    static HttpClient http;
    OpenAiServer server;
    SessionPool pool;

    @BeforeAll
    static void load() {
        model = Model.load(TestCheckpoints.demoChatGguf(), ModelOptions.builder().threads(1).build());
        small = Model.load(TestCheckpoints.demoChatGguf(), ModelOptions.builder().threads(1).contextLength(SMALL_CONTEXT).build());
        http = HttpClient.newHttpClient();
    }

    @AfterAll
    static void unload() {
        http.close();
        small.close();
        model.close();
    }

    @AfterEach
    void stop() {
        if (server != null) server.close();
        if (pool != null) pool.close();
    }

    void start(SessionPool p, java.util.function.Consumer<OpenAiServer.Builder> settings) {
        pool = p;
        OpenAiServer.Builder b = OpenAiServer.builder().service(p).port(0);
        settings.accept(b);
        server = b.build().start();
    }

    OpenAIClient client() {
        return OpenAIOkHttpClient.builder().baseUrl(url("/v1")).apiKey("unused").maxRetries(0).build();
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.port() + path;
    }

    HttpResponse<String> send(String method, String path, HttpRequest.BodyPublisher body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url(path))).header("Content-Type", "application/json").method(method, body).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String body) throws Exception {
        return send("POST", path, HttpRequest.BodyPublishers.ofString(body));
    }

    /** The error object of a response, after checking that it is one: JSON with message, type, param and code. */
    static JsonNode error(HttpResponse<String> r) throws Exception {
        assertThat(r.headers().firstValue("Content-Type")).as(r.body()).contains("application/json");
        JsonNode error = OpenAiServer.JSON.readTree(r.body()).get("error");
        assertThat(error).as(r.body()).isNotNull();
        assertThat(error.get("message").asText()).isNotBlank();
        assertThat(error.has("type") && error.has("param") && error.has("code")).as(r.body()).isTrue();
        return error;
    }

    @Test
    void aBodyOverTheLimitGetsAnErrorObjectNamingTheLimit() throws Exception {
        start(SessionPool.of(model), b -> b.maxRequestBytes(4096));
        String big = "{\"messages\":[{\"role\":\"user\",\"content\":\"" + "a".repeat(8000) + "\"}]}";
        // with Content-Length (refused before the body is read), and chunked (refused as the body passes the limit)
        for (HttpRequest.BodyPublisher body : List.of(HttpRequest.BodyPublishers.ofString(big),
                HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8))))) {
            HttpResponse<String> r = send("POST", "/v1/chat/completions", body);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(413);
            JsonNode e = error(r);
            assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
            assertThat(e.get("code").asText()).isEqualTo("request_too_large");
            assertThat(e.get("message").asText()).contains("4096 bytes").contains("--max-request-bytes").contains("maxRequestBytes");
        }
        OpenAIServiceException sdk = catchThrowableOfType(OpenAIServiceException.class,
                () -> client().chat().completions().create(ChatCompletionCreateParams.builder().model("demo-chat").addUserMessage("a".repeat(8000)).build()));
        assertThat(sdk.statusCode()).isEqualTo(413);
        assertThat(sdk.code()).contains("request_too_large");
        assertThat(sdk).hasMessageContaining("limit of 4096 bytes");
    }

    /** The prompt's tokens as the engine counts them when it generates a reply to these messages. */
    static int enginePromptTokens(List<ChatMessage> messages) {
        return OpenAiServerTest.directChat(model, messages, 1).promptTokens().length;
    }

    @Test
    void aPromptLongerThanTheContextIsRefusedWithItsTokenCount() throws Exception {
        start(SessionPool.of(small), b -> { });
        assertThat(server.contextLength()).isEqualTo(SMALL_CONTEXT);
        String longText = "Permission is hereby granted, free of charge, to any person obtaining a copy of this software. ".repeat(4);
        int chatTokens = enginePromptTokens(List.of(ChatMessage.user(longText)));
        assertThat(chatTokens).as("a prompt longer than the context").isGreaterThan(SMALL_CONTEXT);

        BadRequestException chat = catchThrowableOfType(BadRequestException.class,
                () -> client().chat().completions().create(ChatCompletionCreateParams.builder().model("demo-chat").addUserMessage(longText).build()));
        assertThat(chat.code()).contains("context_length_exceeded");
        assertThat(chat.param()).contains("messages");
        assertThat(chat).hasMessageContaining("maximum context length is " + SMALL_CONTEXT + " tokens")
                .hasMessageContaining("your messages resulted in " + chatTokens + " tokens");

        int completionTokens;
        try (Session s = model.newSession()) {
            completionTokens = s.generate(model.tokenizer().encode(longText), GenerateOptions.builder().maxTokens(1).greedy().build(), null)
                    .promptTokens().length;
        }
        HttpResponse<String> completion = post("/v1/completions", "{\"prompt\":" + OpenAiServer.JSON.writeValueAsString(longText) + "}");
        assertThat(completion.statusCode()).isEqualTo(400);
        JsonNode e = error(completion);
        assertThat(e.get("code").asText()).isEqualTo("context_length_exceeded");
        assertThat(e.get("param").asText()).isEqualTo("prompt");
        assertThat(e.get("message").asText()).contains("your prompt resulted in " + completionTokens + " tokens");

        // a text to embed must fit in the context too
        HttpResponse<String> embedding = post("/v1/embeddings", "{\"input\":" + OpenAiServer.JSON.writeValueAsString(longText) + "}");
        assertThat(embedding.statusCode()).isEqualTo(400);
        JsonNode ee = error(embedding);
        assertThat(ee.get("code").asText()).isEqualTo("context_length_exceeded");
        assertThat(ee.get("param").asText()).isEqualTo("input");
        assertThat(ee.get("message").asText()).contains("input has " + model.tokenizer().encode(longText).length + " tokens");
    }

    @Test
    void maxTokensMustFitAfterThePromptAndItsDefaultTakesWhatIsLeft() throws Exception {
        start(SessionPool.of(small), b -> { });
        List<ChatMessage> question = List.of(ChatMessage.user("Which licence?"));
        int prompt = enginePromptTokens(question);
        int tooMany = SMALL_CONTEXT - prompt + 1;

        // an explicit max_tokens that cannot fit is refused, as OpenAI's API does
        BadRequestException e = catchThrowableOfType(BadRequestException.class, () -> client().chat().completions().create(
                ChatCompletionCreateParams.builder().model("demo-chat").addUserMessage("Which licence?").maxTokens(tooMany).temperature(0.0).build()));
        assertThat(e.code()).contains("context_length_exceeded");
        assertThat(e).hasMessageContaining("you requested " + (prompt + tooMany) + " tokens (" + prompt + " in the messages, " + tooMany
                + " in the completion)");
        // one token fewer fits exactly
        assertThat(client().chat().completions().create(ChatCompletionCreateParams.builder().model("demo-chat").addUserMessage("Which licence?")
                .maxTokens(tooMany - 1).temperature(0.0).build()).usage().orElseThrow().promptTokens()).isEqualTo(prompt);

        // without max_tokens the reply may take what the prompt leaves: the reply of a session of that size
        List<ChatMessage> hello = List.of(ChatMessage.user("Hello"));
        Generation direct = OpenAiServerTest.directChat(small, hello, SMALL_CONTEXT - enginePromptTokens(hello));
        assertThat(direct.stopReason()).as("a reply that fills the context").isEqualTo(StopReason.MAX_TOKENS);
        ChatCompletion c = client().chat().completions().create(ChatCompletionCreateParams.builder().model("demo-chat").addUserMessage("Hello").temperature(0.0).build());
        assertThat(c.choices().get(0).message().content()).contains(OpenAiServerTest.answer(direct));
        assertThat(c.choices().get(0).finishReason().asString()).isEqualTo("length");
        assertThat(c.usage().orElseThrow().completionTokens()).isEqualTo(direct.tokens().length);
        assertThat(c.usage().orElseThrow().totalTokens()).isEqualTo(SMALL_CONTEXT);
    }

    @Test
    void requestsBeyondMaxConnectionsGetAJsonBusyError() throws Exception {
        // 20 ms a chunk: the first request holds the server's one connection slot while the second arrives
        OpenAiServerTest.CountingService slow = new OpenAiServerTest.CountingService(SessionPool.of(model), Duration.ofMillis(20));
        pool = slow.pool;
        server = OpenAiServer.builder().service(slow).port(0).maxConnections(1).maxTokens(400).build().start();
        try (HttpClient streams = HttpClient.newHttpClient()) {
            String streaming = "{\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"temperature\":0,\"max_tokens\":400,\"stream\":true}";
            HttpResponse<InputStream> open = streams.send(HttpRequest.newBuilder(URI.create(url("/v1/chat/completions")))
                    .POST(HttpRequest.BodyPublishers.ofString(streaming)).build(), HttpResponse.BodyHandlers.ofInputStream());
            // closed however the checks end: the client then leaves the stream, which ends the generation
            try (InputStream events = open.body()) {
                assertThat(open.statusCode()).isEqualTo(200);
                assertThat(new BufferedReader(new InputStreamReader(events, StandardCharsets.UTF_8)).readLine()).startsWith("data: {");

                HttpResponse<String> busy = send("GET", "/v1/models", HttpRequest.BodyPublishers.noBody());
                assertThat(busy.statusCode()).isEqualTo(503);
                assertThat(busy.headers().firstValue("Retry-After")).contains("1");
                JsonNode e = error(busy);
                assertThat(e.get("type").asText()).isEqualTo("server_error");
                assertThat(e.get("code").asText()).isEqualTo("server_busy");
                assertThat(e.get("message").asText()).contains("maximum of 1 requests").contains("maxConnections");
            }
        }
        slow.firstChatChunks.get(60, TimeUnit.SECONDS);
    }

    @Test
    void everyOtherErrorPathAnswersTheErrorObject() throws Exception {
        start(SessionPool.of(model), b -> { });
        record Case(String method, String path, String body, int status, String type, String param) {
        }
        String chat = "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]";
        List<Case> cases = List.of(
                new Case("POST", "/v1/chat/completions", "{\"messages\": [", 400, "invalid_request_error", null),
                new Case("POST", "/v1/chat/completions", "[1, 2]", 400, "invalid_request_error", null),
                new Case("POST", "/v1/chat/completions", "", 400, "invalid_request_error", null),
                new Case("POST", "/v1/chat/completions", "{\"messages\":\"Hi\"}", 400, "invalid_request_error", "messages"),
                new Case("POST", "/v1/chat/completions", "{\"messages\":[\"Hi\"]}", 400, "invalid_request_error", "messages[0]"),
                new Case("POST", "/v1/chat/completions", "{\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}", 400, "invalid_request_error", "messages[0].role"),
                new Case("POST", "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", 400,
                        "invalid_request_error", "messages[0].content"),
                new Case("POST", "/v1/chat/completions", "{" + chat + ",\"model\":5}", 400, "invalid_request_error", "model"),
                new Case("POST", "/v1/chat/completions", "{" + chat + ",\"model\":\"gpt-4o\"}", 404, "invalid_request_error", "model"),
                new Case("POST", "/v1/chat/completions", "{" + chat + ",\"temperature\":\"hot\"}", 400, "invalid_request_error", "temperature"),
                new Case("POST", "/v1/chat/completions", "{" + chat + ",\"max_tokens\":1.5}", 400, "invalid_request_error", "max_tokens"),
                new Case("POST", "/v1/chat/completions", "{" + chat + ",\"max_tokens\":0}", 400, "invalid_request_error", "max_tokens"),
                new Case("POST", "/v1/chat/completions", "{" + chat + ",\"stream\":\"yes\"}", 400, "invalid_request_error", "stream"),
                new Case("POST", "/v1/chat/completions", "{" + chat + ",\"n\":2}", 400, "invalid_request_error", "n"),
                new Case("POST", "/v1/chat/completions", "{" + chat + ",\"n\":2,\"stream\":true}", 400, "invalid_request_error", "n"),
                new Case("POST", "/v1/chat/completions", "{" + chat + ",\"stop\":5}", 400, "invalid_request_error", "stop"),
                new Case("POST", "/v1/chat/completions", "{" + chat + ",\"tools\":[{\"type\":\"function\"}]}", 400, "invalid_request_error", "tools"),
                new Case("POST", "/v1/chat/completions", "{" + chat + ",\"logprobs\":true,\"stream\":true}", 400, "invalid_request_error", "logprobs"),
                new Case("POST", "/v1/chat/completions", "{" + chat + ",\"stream_options\":{\"include_usage\":true}}", 400,
                        "invalid_request_error", "stream_options"),
                new Case("POST", "/v1/chat/completions", "{" + chat + ",\"stream\":true,\"stream_options\":{\"include_obfuscation\":true}}", 400,
                        "invalid_request_error", "stream_options.include_obfuscation"),
                new Case("POST", "/v1/completions", "{\"prompt\":[1,2,3]}", 400, "invalid_request_error", "prompt"),
                new Case("POST", "/v1/completions", "{\"prompt\":\"Hi\",\"stream_options\":{\"include_usage\":true}}", 400,
                        "invalid_request_error", "stream_options"),
                new Case("POST", "/v1/embeddings", "{\"input\":[[1,2]]}", 400, "invalid_request_error", "input"),
                new Case("POST", "/v1/embeddings", "{\"input\":\"Hi\",\"encoding_format\":\"int8\"}", 400, "invalid_request_error", "encoding_format"),
                new Case("POST", "/v1/embeddings", "{\"input\":\"Hi\",\"dimensions\":3}", 400, "invalid_request_error", "dimensions"),
                new Case("GET", "/v1/nowhere", null, 404, "not_found_error", null),
                new Case("GET", "/v1/chat/completions", null, 405, "invalid_request_error", null),
                new Case("DELETE", "/v1/models", null, 405, "invalid_request_error", null),
                new Case("POST", "/health", "{}", 405, "invalid_request_error", null));
        List<String> wrong = new ArrayList<>();
        for (Case c : cases) {
            HttpResponse<String> r = send(c.method(), c.path(), c.body() == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(c.body()));
            JsonNode e = r.headers().firstValue("Content-Type").orElse("").startsWith("application/json")
                    ? OpenAiServer.JSON.readTree(r.body()).path("error") : null;
            String got = r.statusCode() + " " + (e == null ? r.body() : e.path("type").asText() + " " + (e.get("param").isNull() ? null : e.get("param").asText()));
            if (!got.equals(c.status() + " " + c.type() + " " + c.param()) || e.path("message").asText().isBlank()) {
                wrong.add(c.method() + " " + c.path() + " " + c.body() + ": got " + got + " " + r.body());
            }
        }
        assertThat(wrong).isEmpty();
        HttpResponse<String> get = send("GET", "/v1/chat/completions", HttpRequest.BodyPublishers.noBody());
        assertThat(get.headers().firstValue("Allow")).contains("POST");
        assertThat(error(get).get("message").asText()).contains("GET").contains("POST");
    }

    @Test
    void aStreamedCompletionEndsWithTheUsageWhenAsked() {
        start(SessionPool.of(model), b -> { });
        Generation direct;
        try (Session s = model.newSession()) {
            direct = s.generate(model.tokenizer().encode("Permission is hereby granted"), GenerateOptions.builder().maxTokens(6).greedy().build(), null);
        }
        List<Completion> chunks = new ArrayList<>();
        try (StreamResponse<Completion> s = client().completions().createStreaming(CompletionCreateParams.builder().model("demo-chat").prompt("Permission is hereby granted")
                .maxTokens(6).temperature(0.0).streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
                .build())) {
            s.stream().forEach(chunks::add);
        }
        StringBuilder text = new StringBuilder();
        chunks.forEach(c -> c.choices().forEach(choice -> text.append(choice.text())));
        assertThat(text.toString()).isEqualTo(direct.text());
        Completion last = chunks.get(chunks.size() - 1);
        assertThat(last.choices()).isEmpty();
        assertThat(last.usage().orElseThrow().promptTokens()).isEqualTo(direct.promptTokens().length);
        assertThat(last.usage().orElseThrow().completionTokens()).isEqualTo(direct.tokens().length);
    }

    @Test
    void startingTheServerPrintsNothingBeyondTheLogLevelSet() throws Exception {
        // a fresh JVM: the web server's logging set-up runs once per process, at its first start
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                ServerStart.class.getName(), TestCheckpoints.demoChatGguf().toString()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(err).isZero();
        assertThat(out).as("the server answered").isEqualTo("200\n");
        assertThat(err).isEmpty();
    }
}
