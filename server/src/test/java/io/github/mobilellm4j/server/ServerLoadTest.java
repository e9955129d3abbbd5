package io.github.mobilellm4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.chat.ChatMessage;
import io.github.mobilellm4j.hub.TestCheckpoints;
import io.github.mobilellm4j.service.SessionPool;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A bounded load on loopback: {@value #CLIENTS} concurrent SDK clients x {@value #REQUESTS} chat requests each, two
 * sessions serving them. Every request must be answered, once, with the greedy reply the core API gives for its own
 * prompt. Latencies are printed, never asserted: the same load against any server, with its numbers, is the load
 * tool ({@link ChatLoad#main}, server/load-test.sh). About 30 s on two shared cores.
 */
class ServerLoadTest {
    static final int CLIENTS = 64, REQUESTS = 20, MAX_TOKENS = 8;

    @Test
    void everyRequestUnderLoadGetsTheReplyToItsOwnPrompt() throws Exception {
        try (Model model = Model.load(TestCheckpoints.demoChatGguf(), ModelOptions.builder().threads(1).build());
             // the queue wait is bounded, and long enough that no request is turned away: this test counts on every one answered
             SessionPool pool = SessionPool.builder(model).maxSessions(2).acquireTimeout(Duration.ofMinutes(5)).build();
             OpenAiServer server = OpenAiServer.builder().service(pool).port(0).build().start()) {
            OpenAiServerTest.model = model;
            Map<String, String> expected = new LinkedHashMap<>();
            for (String prompt : ChatLoad.PROMPTS) {
                expected.put(prompt, OpenAiServerTest.answer(OpenAiServerTest.directChat(List.of(ChatMessage.user(prompt)), MAX_TOKENS)));
            }
            assertThat(Set.copyOf(expected.values())).as("distinct answers, so that a reply given to the wrong prompt shows: %s", expected)
                    .hasSize(ChatLoad.PROMPTS.size());

            OpenAIClient client = ChatLoad.client("http://127.0.0.1:" + server.port() + "/v1", "unused");
            ChatLoad.Result r = ChatLoad.run(client, server.modelName(), ChatLoad.PROMPTS, CLIENTS, REQUESTS, MAX_TOKENS);
            client.close();
            System.out.print(ChatLoad.report(r, CLIENTS, REQUESTS, MAX_TOKENS));

            assertThat(r.errors()).isEmpty();
            // each (client, request) answered exactly once
            assertThat(r.replies().stream().map(x -> x.client() + "/" + x.request()).collect(Collectors.toSet())).hasSize(CLIENTS * REQUESTS);
            assertThat(r.replies()).hasSize(CLIENTS * REQUESTS);
            for (ChatLoad.Reply reply : r.replies()) {
                assertThat(reply.answer()).as("client %d request %d ('%s')", reply.client(), reply.request(), reply.prompt())
                        .isEqualTo(expected.get(reply.prompt()));
            }

            String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("mobilellm_requests_total{endpoint=\"/v1/chat/completions\"} " + CLIENTS * REQUESTS + "\n")
                    .contains("mobilellm_completion_tokens_total " + r.replies().stream().mapToLong(ChatLoad.Reply::completionTokens).sum() + "\n")
                    .contains("mobilellm_requests_in_flight 0\n")
                    .doesNotContain("mobilellm_errors_total{");
        } finally {
            OpenAiServerTest.model = null;
        }
    }
}
