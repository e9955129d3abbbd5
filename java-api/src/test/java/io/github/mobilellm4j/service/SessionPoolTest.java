package io.github.mobilellm4j.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.Pooling;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.StopReason;
import io.github.mobilellm4j.chat.ChatMessage;
import io.github.mobilellm4j.chat.ChatReply;
import io.github.mobilellm4j.chat.ChatSession;
import io.github.mobilellm4j.chat.ChatTemplate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The session pool answers as the API does when called directly (a fresh session per request, greedy), bounds how
 * many requests run at once, and survives a request whose callback throws; all of it also when the pool is batched
 * (its generations stepping together through a Scheduler), where callbacks still run on the requesting thread.
 */
class SessionPoolTest {
    static final GenerateOptions GREEDY = GenerateOptions.builder().maxTokens(8).greedy().build();
    static final ChatTemplate TEMPLATE = ChatTemplate.of("""
            {% for m in messages %}<|{{ m.role }}|>
            {{ m.content }}{{ eos_token }}
            {% endfor %}{% if add_generation_prompt %}<|assistant|>
            {% endif %}""", "<s>", "</s>");
    static Model model;

    @BeforeAll
    static void load() {
        model = Model.loadDemo(ModelOptions.builder().threads(1).build());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @ParameterizedTest(name = "batched {0}")
    @ValueSource(booleans = {false, true})
    void requestsAnswerAsAFreshSessionDoes(boolean batched) {
        try (SessionPool pool = SessionPool.builder(model).chatTemplate(TEMPLATE).batched(batched).build();
                Session fresh = model.newSession()) {
            List<String> streamed = new ArrayList<>();
            Generation g = pool.complete("This License applies to", GREEDY, t -> streamed.add(t.text()));
            Generation direct = fresh.generate("This License applies to", GREEDY);
            assertThat(g.tokens()).isEqualTo(direct.tokens());
            assertThat(g.promptTokens()).isEqualTo(direct.promptTokens());
            assertThat(String.join("", streamed)).isEqualTo(direct.text());
            // the same session again: nothing of the first request is left in it
            assertThat(pool.complete("This License applies to", GREEDY, null).tokens()).isEqualTo(direct.tokens());

            List<ChatMessage> conv = new ArrayList<>(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Which licence?")));
            ChatReply reply = pool.chat(conv, GREEDY, null);
            fresh.reset();
            ChatReply directReply = new ChatSession(fresh, TEMPLATE).reply(conv, GREEDY, null);
            assertThat(reply.generation().tokens()).isEqualTo(directReply.generation().tokens());
            assertThat(reply.answer()).isEqualTo(directReply.answer());
            conv.add(reply.message());
            conv.add(ChatMessage.user("And then?"));
            ChatReply second = pool.chat(conv, GREEDY, null);
            assertThat(second.generation().timings().promptTokens()).as("only the new turn is evaluated")
                    .isLessThan(second.generation().promptTokens().length / 2);

            assertThat(pool.embed("GNU General Public License", Pooling.MEAN, true))
                    .containsExactly(model.embed("GNU General Public License", Pooling.MEAN, true));
        }
    }

    @ParameterizedTest(name = "batched {0}")
    @ValueSource(booleans = {false, true})
    void atMostMaxSessionsRunAndTheRestWaitThenAreRefused(boolean batched) throws Exception {
        try (SessionPool pool = SessionPool.builder(model).maxSessions(2).batched(batched)
                .acquireTimeout(Duration.ofMillis(200)).build();
                ExecutorService threads = Executors.newFixedThreadPool(2)) {
            CountDownLatch inside = new CountDownLatch(2);
            CountDownLatch release = new CountDownLatch(1);
            List<CompletableFuture<Generation>> busy = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                busy.add(CompletableFuture.supplyAsync(() -> pool.complete("This License", GREEDY, t -> {
                    inside.countDown();
                    await(release);
                }), threads));
            }
            assertThat(inside.await(30, TimeUnit.SECONDS)).as("two requests run at once").isTrue();
            assertThatThrownBy(() -> pool.complete("x", GREEDY, null))
                    .isInstanceOf(RejectedExecutionException.class).hasMessageContaining("all 2 sessions are busy");
            release.countDown();
            for (var f : busy) assertThat(f.get(60, TimeUnit.SECONDS).tokens()).hasSize(8);
            assertThat(pool.complete("x", GREEDY, null).tokens()).hasSize(8);
        }
    }

    @ParameterizedTest(name = "batched {0}")
    @ValueSource(booleans = {false, true})
    void aRequestsTimeoutIncludesItsWaitForASession(boolean batched) throws Exception {
        try (SessionPool pool = SessionPool.builder(model).maxSessions(1).batched(batched)
                .acquireTimeout(Duration.ofMinutes(5)).build();
                ExecutorService threads = Executors.newFixedThreadPool(2)) {
            CountDownLatch inside = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<Generation> busy = CompletableFuture.supplyAsync(() -> pool.complete("This License", GREEDY, t -> {
                inside.countDown();
                await(release);
            }), threads);
            assertThat(inside.await(30, TimeUnit.SECONDS)).isTrue();
            GenerateOptions limited = GREEDY.toBuilder().timeout(Duration.ofMillis(200)).build();
            CompletableFuture<Generation> waiting = CompletableFuture.supplyAsync(() -> pool.complete("x", limited, null), threads);
            try {
                // refused once its own 200 ms have passed, not after the pool's 5 minutes of acquireTimeout
                assertThatThrownBy(() -> waiting.get(30, TimeUnit.SECONDS))
                        .hasCauseInstanceOf(RejectedExecutionException.class).hasMessageContaining("all 1 sessions are busy");
            } finally {
                release.countDown();
            }
            assertThat(busy.get(60, TimeUnit.SECONDS).tokens()).hasSize(8);
            // a free session: the generation gets the time left, plenty for 8 tokens
            Generation g = pool.complete("This License", GREEDY.toBuilder().timeout(Duration.ofMinutes(1)).build(), null);
            assertThat(g.stopReason()).isEqualTo(StopReason.MAX_TOKENS);
            assertThat(g.tokens()).isEqualTo(busy.get().tokens());
        }
    }

    @ParameterizedTest(name = "batched {0}")
    @ValueSource(booleans = {false, true})
    void aCallbackThatThrowsEndsItsRequestOnly(boolean batched) {
        try (SessionPool pool = SessionPool.builder(model).batched(batched).build()) {
            Generation before = pool.complete("This License", GREEDY, null);
            assertThatThrownBy(() -> pool.complete("This License", GREEDY, t -> {
                if (t.index() == 3) throw new IllegalStateException("stop here");
            })).hasMessage("stop here");
            assertThat(pool.complete("This License", GREEDY, null).tokens()).isEqualTo(before.tokens());
            assertThat(pool.chatTemplate()).isEmpty();
            assertThatThrownBy(() -> pool.chat(List.of(ChatMessage.user("hi")), GREEDY, null))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("has no chat template");
        }
        SessionPool closed = SessionPool.of(model);
        closed.close();
        assertThatThrownBy(() -> closed.complete("x", GREEDY, null)).hasMessageContaining("the session pool is closed");
        assertThat(model.isClosed()).isFalse();
    }

    /** A request's generation, and for each callback whether it ran on the requesting thread. */
    record Answer(Generation generation, List<Boolean> onCaller) {
    }

    @Test
    void batchedRequestsFromManyThreadsAnswerAsAlone() throws Exception {
        List<String> prompts = List.of("This License applies to", "GNU General", "You may", "The source code",
                "Each contributor", "Distribution of");
        GenerateOptions longer = GenerateOptions.builder().maxTokens(16).greedy().build();
        try (SessionPool pool = SessionPool.builder(model).maxSessions(4).batched(true).build();
                ExecutorService threads = Executors.newFixedThreadPool(prompts.size())) {
            List<CompletableFuture<Answer>> answers = new ArrayList<>();
            for (String p : prompts) {
                answers.add(CompletableFuture.supplyAsync(() -> {
                    Thread caller = Thread.currentThread();
                    List<Boolean> onCaller = new ArrayList<>();
                    Generation g = pool.complete(p, longer, t -> onCaller.add(Thread.currentThread() == caller));
                    return new Answer(g, onCaller);
                }, threads));
            }
            for (int i = 0; i < prompts.size(); i++) {
                Answer a = answers.get(i).get(120, TimeUnit.SECONDS);
                Generation direct = model.generate(prompts.get(i), longer);
                assertThat(a.generation().tokens()).as(prompts.get(i)).isEqualTo(direct.tokens());
                assertThat(a.onCaller()).as("callbacks on the requesting thread").isNotEmpty().containsOnly(true);
            }
        }
    }

    static void await(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
