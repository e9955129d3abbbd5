package io.github.mobilellm4j.server;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;

/**
 * Concurrent chat clients (the official OpenAI Java SDK) against an OpenAI-compatible server: each client sends its
 * requests one after the other, every other one streamed, all greedy (temperature 0) so that every answer to a prompt
 * must be the same. Client c's request r asks prompt (c + r) mod the number of prompts, so one client's answers differ
 * from request to request and a reply handed to the wrong request shows.
 *
 * <p>{@link #main} is the load tool: {@code server/load-test.sh --url http://127.0.0.1:8080/v1 --clients 64 --requests 20}
 * prints latency percentiles and throughput, and exits 1 on an error or when one prompt got different answers.
 */
public final class ChatLoad {
    static final List<String> PROMPTS = List.of("Which licence?", "Hello", "What may I do with the software?", "Who wrote it?");

    /** One answered request: its client, its index in that client's sequence, what it asked and got, and how long it took. */
    record Reply(int client, int request, String prompt, String answer, long completionTokens, long nanos) {
    }

    record Result(List<Reply> replies, List<String> errors, long wallNanos) {
        long[] sortedLatencies() {
            long[] l = replies.stream().mapToLong(Reply::nanos).toArray();
            Arrays.sort(l);
            return l;
        }

        /** The latency below which the fraction p of the requests finished (nearest rank); zero when none was answered. */
        Duration percentile(double p) {
            long[] l = sortedLatencies();
            if (l.length == 0) return Duration.ZERO;
            return Duration.ofNanos(l[Math.max(0, (int) Math.ceil(p * l.length) - 1)]);
        }

        double requestsPerSecond() {
            return replies.size() / (wallNanos / 1e9);
        }

        double tokensPerSecond() {
            return replies.stream().mapToLong(Reply::completionTokens).sum() / (wallNanos / 1e9);
        }

        /** The distinct answers each prompt got. */
        Map<String, Set<String>> answersByPrompt() {
            return replies.stream().collect(Collectors.groupingBy(Reply::prompt, TreeMap::new, Collectors.mapping(Reply::answer, Collectors.toCollection(TreeSet::new))));
        }
    }

    private ChatLoad() {
    }

    static OpenAIClient client(String baseUrl, String apiKey) {
        return client(baseUrl, apiKey, true);
    }

    /**
     * The SDK's client without its retries (a load test must see every failure); keepAlive false opens a connection
     * per request, for servers that close a kept-alive connection after a stream (llama-server does).
     */
    static OpenAIClient client(String baseUrl, String apiKey, boolean keepAlive) {
        OpenAIOkHttpClient.Builder b = OpenAIOkHttpClient.builder().baseUrl(baseUrl).apiKey(apiKey).maxRetries(0).timeout(Duration.ofMinutes(10));
        if (!keepAlive) b.maxIdleConnections(0).keepAliveDuration(Duration.ofSeconds(1)); // nothing kept idle
        return b.build();
    }

    static Result run(OpenAIClient client, String model, List<String> prompts, int clients, int requests, int maxTokens) {
        ConcurrentLinkedQueue<Reply> replies = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        long start = System.nanoTime();
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < clients; c++) {
                int id = c;
                threads.submit(() -> {
                    for (int r = 0; r < requests; r++) {
                        String prompt = prompts.get((id + r) % prompts.size());
                        try {
                            replies.add(ask(client, model, id, r, prompt, maxTokens, r % 2 == 1));
                        } catch (RuntimeException e) {
                            errors.add("client " + id + " request " + r + ": " + e);
                        }
                    }
                });
            }
        }
        return new Result(List.copyOf(replies), List.copyOf(errors), System.nanoTime() - start);
    }

    private static Reply ask(OpenAIClient client, String model, int id, int r, String prompt, int maxTokens, boolean stream) {
        ChatCompletionCreateParams.Builder p = ChatCompletionCreateParams.builder().model(model).addUserMessage(prompt)
                .maxCompletionTokens(maxTokens).temperature(0.0);
        long t0 = System.nanoTime();
        if (!stream) {
            ChatCompletion c = client.chat().completions().create(p.build());
            return new Reply(id, r, prompt, c.choices().get(0).message().content().orElse(""),
                    c.usage().orElseThrow().completionTokens(), System.nanoTime() - t0);
        }
        StringBuilder answer = new StringBuilder();
        long[] tokens = {-1};
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
                p.streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            s.stream().forEach(ch -> {
                ch.choices().forEach(x -> x.delta().content().ifPresent(answer::append));
                ch.usage().ifPresent(u -> tokens[0] = u.completionTokens());
            });
        }
        if (tokens[0] < 0) throw new IllegalStateException("the stream ended without its usage chunk");
        return new Reply(id, r, prompt, answer.toString(), tokens[0], System.nanoTime() - t0);
    }

    static String report(Result r, int clients, int requests, int maxTokens) {
        return String.format("""
                %d clients x %d requests (max_tokens %d, every other one streamed): %d answered, %d errors in %.1f s
                latency p50 %d ms, p90 %d ms, p99 %d ms, max %d ms
                throughput %.1f requests/s, %.1f generated tokens/s
                """, clients, requests, maxTokens, r.replies().size(), r.errors().size(), r.wallNanos() / 1e9,
                r.percentile(0.50).toMillis(), r.percentile(0.90).toMillis(), r.percentile(0.99).toMillis(), r.percentile(1.0).toMillis(),
                r.requestsPerSecond(), r.tokensPerSecond());
    }

    public static void main(String[] args) {
        String url = "http://127.0.0.1:8080/v1";
        String key = System.getenv().getOrDefault("MOBILELLM_API_KEY", "none");
        int clients = 64, requests = 20, maxTokens = 8;
        boolean keepAlive = true;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--no-keep-alive")) {
                keepAlive = false;
                continue;
            }
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--url" -> url = v;
                case "--api-key" -> key = v;
                case "--clients" -> clients = Integer.parseInt(v);
                case "--requests" -> requests = Integer.parseInt(v);
                case "--max-tokens" -> maxTokens = Integer.parseInt(v);
                default -> {
                    System.err.println("usage: load-test.sh [--url BASE_URL (default " + url + ")] [--api-key KEY] [--clients N (64)] [--requests N (20)] [--max-tokens N (8)] [--no-keep-alive]");
                    System.exit(2);
                }
            }
            if (v == null) {
                System.err.println(args[i] + " needs a value");
                System.exit(2);
            }
            i++;
        }
        OpenAIClient client = client(url, key, keepAlive);
        String model = client.models().list().data().get(0).id();
        // one request per prompt first: the model's first use (loading, caches) is not part of the load
        run(client, model, PROMPTS, PROMPTS.size(), 1, maxTokens);
        Result r = run(client, model, PROMPTS, clients, requests, maxTokens);
        System.out.print("server " + url + ", model " + model + "\n" + report(r, clients, requests, maxTokens));
        r.errors().stream().limit(10).forEach(e -> System.out.println("error: " + e));
        List<String> mixed = new ArrayList<>();
        r.answersByPrompt().forEach((prompt, answers) -> {
            if (answers.size() > 1) mixed.add("'" + prompt + "' got " + answers.size() + " different answers: " + answers);
        });
        mixed.forEach(m -> System.out.println("inconsistent: " + m));
        client.close();
        System.exit(r.errors().isEmpty() && mixed.isEmpty() && r.replies().size() == clients * requests ? 0 : 1);
    }
}
