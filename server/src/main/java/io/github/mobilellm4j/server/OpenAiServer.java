package io.github.mobilellm4j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.MobileLlmException;
import io.github.mobilellm4j.Pooling;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.StopReason;
import io.github.mobilellm4j.chat.ChatMessage;
import io.github.mobilellm4j.chat.ChatReply;
import io.github.mobilellm4j.service.GenerationService;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpException;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.RejectedExecutionException;

/**
 * An OpenAI-compatible HTTP server over a {@link GenerationService}: {@code POST /v1/chat/completions} (with
 * {@code "stream": true} as server-sent events), {@code POST /v1/completions}, {@code POST /v1/embeddings},
 * {@code GET /v1/models}, {@code GET /health} and {@code GET /metrics} (Prometheus' text format). Errors come as OpenAI's {@code {"error": {...}}} objects.
 *
 * <p>Bounds: request bodies of at most {@link Builder#maxRequestBytes} (413 beyond), at most
 * {@link Builder#maxTokens} tokens per reply, prompt and reply within the {@link Builder#contextLength context}
 * (400 {@code context_length_exceeded} beyond), {@link Builder#requestTimeout} per request (the engine stops the
 * generation then, a prompt being read within a layer or a batched step), and as many generations at once as the service has sessions: a request that finds none free within the
 * service's wait is answered 503 with {@code Retry-After}, as is one beyond {@link Builder#maxConnections}. A
 * streaming client that disconnects ends its generation at the next token. With an API key, requests without {@code Authorization: Bearer KEY} are answered 401.
 *
 * <p>Built on Helidon's web server, which runs each request on a virtual thread: a request blocks its own thread for
 * the whole generation, which is cheap, and needs no callbacks or event loop.
 */
public final class OpenAiServer implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Texts embedded per batched pass of an embeddings request: the passes read the weights once for the group, and
     * the request's time limit is checked between groups.
     */
    private static final int EMBEDDING_GROUP = 16;

    private final GenerationService service;
    private final String modelName;
    private final int maxTokens;
    private final int maxEmbeddingInputs;
    private final ContextWindow context;
    private final Duration requestTimeout;
    private final String apiKey;
    private final long created = System.currentTimeMillis() / 1000;
    private final ServerMetrics metrics = new ServerMetrics();
    private final WebServer server;

    private OpenAiServer(Builder b) {
        this.service = b.service;
        this.modelName = b.modelName != null ? b.modelName : service.modelName();
        this.maxTokens = b.maxTokens;
        this.maxEmbeddingInputs = b.maxEmbeddingInputs;
        this.requestTimeout = b.requestTimeout;
        this.apiKey = b.apiKey;
        this.context = new ContextWindow(b.contextLength > 0 ? b.contextLength : defaultContextLength(service));
        DirectHandler webServerErrors = new WebServerErrors(b.maxRequestBytes, b.maxConnections, metrics);
        DirectHandlers.Builder direct = DirectHandlers.builder();
        for (DirectHandler.EventType type : DirectHandler.EventType.values()) direct.addHandler(type, webServerErrors);
        this.server = WebServer.builder().host(b.host).port(b.port).maxPayloadSize(b.maxRequestBytes)
                .maxConcurrentRequests(b.maxConnections).directHandlers(direct.build()).routing(this::routes).build();
    }

    /** The tokens of a session the model makes with its default options (as a SessionPool without SessionOptions does). */
    private static int defaultContextLength(GenerationService service) {
        try (Session s = service.model().newSession()) {
            return s.contextLength();
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts listening; returns this. */
    public OpenAiServer start() {
        server.start();
        return this;
    }

    /** The port listened on (the one chosen when the builder asked for port 0). */
    public int port() {
        return server.port();
    }

    public String modelName() {
        return modelName;
    }

    /** The tokens a request's prompt and reply may hold together. */
    public int contextLength() {
        return context.tokens();
    }

    /** Stops listening; the service stays open (it belongs to the caller). */
    @Override
    public void close() {
        server.stop();
    }

    private void routes(HttpRouting.Builder r) {
        r.get("/health", (req, res) -> json(res, 200, JSON.createObjectNode().put("status", "ok")))
                .get("/metrics", (req, res) -> {
                    res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4");
                    res.send(metrics.text().getBytes(StandardCharsets.UTF_8));
                })
                .get("/v1/models", guarded("/v1/models", this::models))
                .post("/v1/chat/completions", guarded("/v1/chat/completions", this::chatCompletions))
                .post("/v1/completions", guarded("/v1/completions", this::completions))
                .post("/v1/embeddings", guarded("/v1/embeddings", this::embeddings))
                .any("/health", methodNotAllowed("GET"))
                .any("/metrics", methodNotAllowed("GET"))
                .any("/v1/models", methodNotAllowed("GET"))
                .any("/v1/chat/completions", methodNotAllowed("POST"))
                .any("/v1/completions", methodNotAllowed("POST"))
                .any("/v1/embeddings", methodNotAllowed("POST"))
                .error(ApiException.class, (req, res, e) -> error(res, e))
                .error(JsonProcessingException.class, (req, res, e) ->
                        error(res, ApiException.invalid(null, "the body is not valid JSON: " + e.getOriginalMessage())))
                .error(RejectedExecutionException.class, (req, res, e) -> {
                    res.header(HeaderNames.RETRY_AFTER, "1");
                    error(res, ApiException.busy("the server is busy: " + e.getMessage() + "; retry later"));
                })
                .error(HttpException.class, (req, res, e) -> error(res, new ApiException(e.status().code(),
                        e.status().code() == 404 ? "not_found_error" : "invalid_request_error", null, null, e.getMessage())))
                // the prompts are checked against the context first; this answers sessions made smaller than contextLength says
                .error(MobileLlmException.class, (req, res, e) -> error(res, e.status() == MobileLlmException.Status.CONTEXT_FULL
                        ? ContextWindow.exceeded(null, e.getMessage()) : serverError(e)))
                .error(RuntimeException.class, (req, res, e) -> error(res, serverError(e)));
    }

    private static ApiException serverError(RuntimeException e) {
        return new ApiException(500, "server_error", null, null, String.valueOf(e.getMessage()));
    }

    /** The answer to a known path asked with another method: 405 with the method it takes. */
    private Handler methodNotAllowed(String allowed) {
        return (req, res) -> {
            res.header(HeaderNames.ALLOW, allowed);
            error(res, new ApiException(405, "invalid_request_error", null, "method_not_allowed",
                    req.prologue().method().text() + " is not allowed on " + req.path().path() + "; use " + allowed));
        };
    }

    /** The handler of an endpoint behind the API key check, counted in the metrics. */
    private Handler guarded(String endpoint, Handler h) {
        return (req, res) -> {
            metrics.started(endpoint);
            try {
                if (apiKey != null && !req.headers().first(HeaderNames.AUTHORIZATION).orElse("").equals("Bearer " + apiKey)) {
                    throw new ApiException(401, "invalid_request_error", null, "invalid_api_key", "a valid API key is required (Authorization: Bearer KEY)");
                }
                h.handle(req, res);
            } finally {
                metrics.ended();
            }
        };
    }

    private void models(ServerRequest req, ServerResponse res) {
        ObjectNode list = JSON.createObjectNode().put("object", "list");
        list.putArray("data").addObject().put("id", modelName).put("object", "model").put("created", created).put("owned_by", "mobilellm4j");
        json(res, 200, list);
    }

    private JsonNode body(ServerRequest req) throws JsonProcessingException {
        if (!req.content().hasEntity()) throw ApiException.invalid(null, "the body must be a JSON object");
        JsonNode body = JSON.readTree(req.content().as(String.class));
        if (body == null || !body.isObject()) throw ApiException.invalid(null, "the body must be a JSON object");
        JsonNode model = body.get("model");
        if (model != null && !model.isNull() && !model.isTextual()) throw ApiException.invalid("model", "'model' must be a string");
        if (model != null && !model.isNull() && !model.asText().equals(modelName)) {
            throw new ApiException(404, "invalid_request_error", "model", "model_not_found",
                    "the model '" + model.asText() + "' does not exist; this server has '" + modelName + "'");
        }
        return body;
    }

    private void chatCompletions(ServerRequest req, ServerResponse res) throws JsonProcessingException {
        Deadline deadline = new Deadline(requestTimeout);
        JsonNode body = body(req);
        List<ChatMessage> messages = OpenAiRequests.messages(body);
        Integer asked = OpenAiRequests.maxTokens(body, maxTokens);
        boolean stream = OpenAiRequests.flag(body, "stream");
        boolean includeUsage = OpenAiRequests.includeUsage(body, stream);
        if (service.chatTemplate().isEmpty()) {
            throw ApiException.invalid("messages", "the model '" + modelName + "' has no chat template: use /v1/completions");
        }
        // the template writes BOS and special tokens itself, as the chat session encodes it
        int promptTokens = service.model().tokenizer().encode(service.chatTemplate().get().render(messages, true), false, true).length;
        GenerateOptions options = OpenAiRequests.options(body, context.replyTokens(promptTokens, asked, maxTokens, "messages"), deadline.left());
        String id = "chatcmpl-" + UUID.randomUUID();
        if (!stream) {
            ChatReply reply = service.chat(messages, options, null);
            deadline.checkAnswered(reply.generation());
            metrics.generated(reply.generation());
            ObjectNode out = head(id, "chat.completion");
            ObjectNode choice = out.putArray("choices").addObject().put("index", 0);
            choice.putObject("message").put("role", "assistant").put("content", reply.answer());
            choice.put("finish_reason", finishReason(reply.generation()));
            usage(out, reply.generation());
            json(res, 200, out);
            return;
        }
        EventStream events = new EventStream(res, id);
        ChatReply reply = service.chat(messages, options, chunk -> {
            if (events.sent == 0) events.delta("assistant", "", null);
            if (!chunk.answer().isEmpty()) events.delta(null, chunk.answer(), null);
        });
        deadline.checkAnswered(reply.generation());
        metrics.generated(reply.generation());
        if (events.sent == 0) events.delta("assistant", "", null);
        events.delta(null, null, finishReason(reply.generation()));
        if (includeUsage) events.usage("chat.completion.chunk", reply.generation());
        events.done();
    }

    private void completions(ServerRequest req, ServerResponse res) throws JsonProcessingException {
        Deadline deadline = new Deadline(requestTimeout);
        JsonNode body = body(req);
        String prompt = OpenAiRequests.prompt(body);
        Integer asked = OpenAiRequests.maxTokens(body, maxTokens);
        boolean stream = OpenAiRequests.flag(body, "stream");
        boolean includeUsage = OpenAiRequests.includeUsage(body, stream);
        GenerateOptions defaults = GenerateOptions.builder().build(); // BOS and special tokens as the service encodes the prompt
        int promptTokens = service.model().tokenizer().encode(prompt, defaults.addBos(), defaults.parseSpecial()).length;
        GenerateOptions options = OpenAiRequests.options(body, context.replyTokens(promptTokens, asked, maxTokens, "prompt"), deadline.left());
        String id = "cmpl-" + UUID.randomUUID();
        if (!stream) {
            Generation g = service.complete(prompt, options, null);
            deadline.checkAnswered(g);
            metrics.generated(g);
            ObjectNode out = head(id, "text_completion");
            out.putArray("choices").addObject().put("index", 0).put("text", g.text()).putNull("logprobs").put("finish_reason", finishReason(g));
            usage(out, g);
            json(res, 200, out);
            return;
        }
        EventStream events = new EventStream(res, id);
        Generation g = service.complete(prompt, options, t -> {
            if (!t.text().isEmpty()) events.write(completionChunk(id, t.text(), null));
        });
        deadline.checkAnswered(g);
        metrics.generated(g);
        events.write(completionChunk(id, "", finishReason(g)));
        if (includeUsage) events.usage("text_completion", g);
        events.done();
    }

    private ObjectNode completionChunk(String id, String text, String finishReason) {
        ObjectNode out = head(id, "text_completion");
        out.putArray("choices").addObject().put("index", 0).put("text", text).putNull("logprobs").put("finish_reason", finishReason);
        return out;
    }

    private void embeddings(ServerRequest req, ServerResponse res) throws JsonProcessingException {
        Deadline deadline = new Deadline(requestTimeout);
        JsonNode body = body(req);
        List<String> inputs = OpenAiRequests.inputs(body, maxEmbeddingInputs);
        String format = body.path("encoding_format").asText("float");
        if (!format.equals("float") && !format.equals("base64")) throw ApiException.invalid("encoding_format", "encoding_format must be float or base64");
        if (body.hasNonNull("dimensions") && body.get("dimensions").asInt() != service.model().info().shape().embeddingLength()) {
            throw ApiException.invalid("dimensions", "this model's embeddings have " + service.model().info().shape().embeddingLength() + " dimensions");
        }
        ObjectNode out = JSON.createObjectNode().put("object", "list");
        ArrayNode data = out.putArray("data");
        int tokens = 0;
        for (int i = 0; i < inputs.size(); i++) {
            int n = service.model().tokenizer().encode(inputs.get(i)).length; // as the service encodes it
            context.checkInput(n, inputs.size() == 1 ? "input" : "input[" + i + "]");
            tokens += n;
        }
        List<float[]> vectors = new ArrayList<>(inputs.size());
        for (int from = 0; from < inputs.size(); from += EMBEDDING_GROUP) {
            deadline.check();
            vectors.addAll(service.embedAll(inputs.subList(from, Math.min(inputs.size(), from + EMBEDDING_GROUP)), Pooling.MEAN, true));
        }
        for (int i = 0; i < inputs.size(); i++) {
            float[] v = vectors.get(i);
            ObjectNode e = data.addObject().put("object", "embedding").put("index", i);
            if (format.equals("base64")) {
                ByteBuffer bytes = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : v) bytes.putFloat(f);
                e.put("embedding", Base64.getEncoder().encodeToString(bytes.array()));
            } else {
                ArrayNode a = e.putArray("embedding");
                for (float f : v) a.add(f);
            }
        }
        out.put("model", modelName);
        out.putObject("usage").put("prompt_tokens", tokens).put("total_tokens", tokens);
        json(res, 200, out);
    }

    private ObjectNode head(String id, String object) {
        return JSON.createObjectNode().put("id", id).put("object", object).put("created", System.currentTimeMillis() / 1000).put("model", modelName);
    }

    private static void usage(ObjectNode out, Generation g) {
        out.putObject("usage").put("prompt_tokens", g.promptTokens().length).put("completion_tokens", g.tokens().length)
                .put("total_tokens", g.promptTokens().length + g.tokens().length);
    }

    /** "length" when the reply was cut short (by max_tokens or the time limit, as llama-server's t_max_predict_ms), else "stop". */
    private static String finishReason(Generation g) {
        return g.stopReason() == StopReason.MAX_TOKENS || g.stopReason() == StopReason.TIMEOUT ? "length" : "stop";
    }

    private static void json(ServerResponse res, int status, JsonNode body) {
        res.status(status).header(HeaderNames.CONTENT_TYPE, "application/json");
        try {
            res.send(JSON.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private void error(ServerResponse res, ApiException e) {
        metrics.failed(e.status);
        if (res.isSent()) return; // a stream already under way: the client sees it end early
        res.status(e.status).header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(e.body());
    }

    /**
     * A request's time limit, counted from its arrival. Generations get what is left of it as their timeout, so the
     * engine stops them in time however long the prompt; embeddings check it between groups of texts.
     */
    private static final class Deadline {
        private final long end;
        private final Duration limit;

        Deadline(Duration limit) {
            this.limit = limit;
            this.end = System.nanoTime() + limit.toNanos();
        }

        /** The time left (at least a nanosecond: a generation given it stops before evaluating anything). */
        Duration left() {
            return Duration.ofNanos(Math.max(1, end - System.nanoTime()));
        }

        void check() {
            if (System.nanoTime() - end > 0) throw timeout();
        }

        /** Refuses a generation the time limit ended before its first token: there is no reply to send. */
        void checkAnswered(Generation g) {
            if (g.stopReason() == StopReason.TIMEOUT && g.tokens().length == 0) throw timeout();
        }

        private ApiException timeout() {
            return new ApiException(408, "timeout", null, null, "the request reached its time limit of "
                    + limit.toMillis() / 1000.0 + " s (--timeout, requestTimeout) before anything could be answered");
        }
    }

    /**
     * Server-sent events of one completion on a response: opened at the first event; a write that fails (the client
     * has gone) ends the request.
     */
    private final class EventStream {
        private final ServerResponse res;
        private final String id;
        private OutputStream out;
        int sent;

        EventStream(ServerResponse res, String id) {
            this.res = res;
            this.id = id;
        }

        /** A chat.completion.chunk whose delta has the role and content given (null: left out). */
        void delta(String role, String content, String finishReason) {
            ObjectNode chunk = head(id, "chat.completion.chunk");
            ObjectNode choice = chunk.putArray("choices").addObject().put("index", 0);
            ObjectNode delta = choice.putObject("delta");
            if (role != null) delta.put("role", role);
            if (content != null) delta.put("content", content);
            choice.put("finish_reason", finishReason);
            write(chunk);
        }

        /** The last chunk of a stream that asked for the usage: no choices, the usage of the whole generation. */
        void usage(String object, Generation g) {
            ObjectNode last = head(id, object);
            last.putArray("choices");
            OpenAiServer.usage(last, g);
            write(last);
        }

        void write(JsonNode event) {
            try {
                raw("data: " + JSON.writeValueAsString(event) + "\n\n");
                sent++;
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        void done() {
            raw("data: [DONE]\n\n");
            try {
                out.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private void raw(String s) {
            try {
                if (out == null) {
                    res.status(200).header(HeaderNames.CONTENT_TYPE, "text/event-stream").header(HeaderNames.CACHE_CONTROL, "no-cache");
                    out = res.outputStream();
                }
                out.write(s.getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("the client has gone", e);
            }
        }
    }

    public static final class Builder {
        private GenerationService service;
        private String modelName;
        private String host = "127.0.0.1";
        private int port = 8080;
        private String apiKey;
        private long maxRequestBytes = 1 << 20;
        private int maxTokens = 2048;
        private int maxEmbeddingInputs = 64;
        private int maxConnections = 256;
        private int contextLength;
        private Duration requestTimeout = Duration.ofMinutes(5);

        private Builder() {
        }

        /** The service that runs the requests (e.g. a SessionPool: its sessions bound the generations at once). */
        public Builder service(GenerationService service) {
            this.service = Objects.requireNonNull(service, "service");
            return this;
        }

        /** The model id the API shows and accepts (default: the GGUF file's general.name, else its file name). */
        public Builder modelName(String modelName) {
            this.modelName = Objects.requireNonNull(modelName, "modelName");
            return this;
        }

        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /** The port; 0 picks a free one ({@link OpenAiServer#port()} tells which). */
        public Builder port(int port) {
            if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
            this.port = port;
            return this;
        }

        /** Requests must carry {@code Authorization: Bearer apiKey}; null for none (default). */
        public Builder apiKey(String apiKey) {
            this.apiKey = apiKey == null || apiKey.isEmpty() ? null : apiKey;
            return this;
        }

        /** Largest request body (default 1 MiB). */
        public Builder maxRequestBytes(long bytes) {
            if (bytes < 1024) throw new IllegalArgumentException("maxRequestBytes must be >= 1024, got " + bytes);
            this.maxRequestBytes = bytes;
            return this;
        }

        /** Most tokens per reply: the default of max_tokens and its ceiling (default 2048). */
        public Builder maxTokens(int maxTokens) {
            if (maxTokens < 1) throw new IllegalArgumentException("maxTokens must be >= 1, got " + maxTokens);
            this.maxTokens = maxTokens;
            return this;
        }

        /** Most texts per embeddings request (default 64). */
        public Builder maxEmbeddingInputs(int n) {
            if (n < 1) throw new IllegalArgumentException("maxEmbeddingInputs must be >= 1, got " + n);
            this.maxEmbeddingInputs = n;
            return this;
        }

        /** Most requests the server reads at once, waiting ones included (default 256). */
        public Builder maxConnections(int n) {
            if (n < 1) throw new IllegalArgumentException("maxConnections must be >= 1, got " + n);
            this.maxConnections = n;
            return this;
        }

        /**
         * Tokens a request's prompt and reply may hold together (default: those of a session the model makes with its
         * default options, as a SessionPool without SessionOptions makes them). Set it when the service's sessions
         * are made another size.
         */
        public Builder contextLength(int tokens) {
            if (tokens < 1) throw new IllegalArgumentException("contextLength must be >= 1, got " + tokens);
            this.contextLength = tokens;
            return this;
        }

        /**
         * How long one request may take, waiting for a session included (default 5 minutes). The engine gets what is
         * left as the generation's timeout: a reply under way then ends with finish_reason "length", a request with
         * nothing generated yet is answered 408.
         */
        public Builder requestTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("requestTimeout must be > 0, got " + timeout);
            this.requestTimeout = timeout;
            return this;
        }

        /** The server, not yet listening: call {@link OpenAiServer#start()}. */
        public OpenAiServer build() {
            if (service == null) throw new IllegalStateException("a service is required: service(GenerationService)");
            return new OpenAiServer(this);
        }
    }
}
