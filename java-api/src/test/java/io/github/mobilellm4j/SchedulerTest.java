package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link Scheduler}: every sequence generated with others (joining and leaving between steps, prompts read in
 * chunks beside other sequences' decoding) gives exactly what {@link Session#generate} gives it alone, greedy
 * tokens, text and stop reason; one sequence's failure, cancellation or timeout ends only that sequence.
 */
class SchedulerTest extends ReferenceModelFixture {
    static Generation alone(int[] p, GenerateOptions o) {
        return aloneWithPosition(p, o, new int[1]);
    }

    /** The generation alone, and in position[0] where its session ends. */
    static Generation aloneWithPosition(int[] p, GenerateOptions o, int[] position) {
        try (Session s = model.newSession(SessionOptions.builder().contextLength(8192).build())) {
            Generation g = s.generate(p, o, null);
            position[0] = s.position();
            return g;
        }
    }

    /** Prompts of several lengths, one longer than the steps below (read in several chunks). */
    static List<int[]> prompts() {
        int[] longPrompt = new int[3 * prompt.length + 5];
        for (int i = 0; i < longPrompt.length; i++) longPrompt[i] = prompt[i % prompt.length];
        return List.of(prompt, Arrays.copyOf(prompt, 3), Arrays.copyOfRange(prompt, 2, prompt.length), longPrompt,
                new int[] {prompt[0]}, Arrays.copyOf(prompt, 5));
    }

    @Test
    void sequencesGeneratedTogetherEqualEachAlone() {
        List<int[]> prompts = prompts();
        List<GenerateOptions> options = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            GenerateOptions.Builder b = GenerateOptions.builder().greedy().maxTokens(4 + 3 * i).ignoreEos(i % 2 == 0);
            if (i == 2) b.stopStrings(alone(prompts.get(i), b.build()).text().substring(3, 5)); // stops part-way
            options.add(b.build());
        }
        List<Session> sessions = new ArrayList<>();
        List<CompletableFuture<Generation>> futures = new ArrayList<>();
        List<List<GeneratedToken>> streamed = new ArrayList<>();
        // 3 places for 6 sequences (the others wait), 8 tokens a step: the long prompt takes several steps
        try (Scheduler scheduler = Scheduler.create(model, 3, 8)) {
            for (int i = 0; i < prompts.size(); i++) {
                Session s = model.newSession();
                sessions.add(s);
                List<GeneratedToken> got = new ArrayList<>();
                streamed.add(got);
                futures.add(scheduler.submit(s, prompts.get(i), options.get(i), got::add));
            }
            for (int i = 0; i < prompts.size(); i++) {
                Generation g = futures.get(i).join();
                int[] refPosition = new int[1];
                Generation ref = aloneWithPosition(prompts.get(i), options.get(i), refPosition);
                assertThat(g.tokens()).as("sequence %d", i).isEqualTo(ref.tokens());
                assertThat(g.text()).as("sequence %d", i).isEqualTo(ref.text());
                assertThat(g.stopReason()).as("sequence %d", i).isEqualTo(ref.stopReason());
                assertThat(streamed.get(i).stream().map(GeneratedToken::text).reduce("", String::concat))
                        .isEqualTo(ref.text());
                // (a generation ended by its token limit or a stop string has not evaluated its last token)
                assertThat(sessions.get(i).position()).as("sequence %d", i).isEqualTo(refPosition[0]);
            }
            assertThat(futures.get(2).join().stopReason()).isEqualTo(StopReason.STOP_STRING);
        } finally {
            sessions.forEach(Session::close);
        }
    }

    @Test
    void aSequenceThatOverflowsItsContextFailsAlone() {
        GenerateOptions o = GenerateOptions.builder().greedy().maxTokens(12).ignoreEos(true).build();
        try (Scheduler scheduler = Scheduler.create(model, 4, 64);
                Session small = model.newSession(SessionOptions.builder().contextLength(prompt.length + 4).build());
                Session other = model.newSession()) {
            CompletableFuture<Generation> failing = scheduler.submit(small, prompt, o, null);
            CompletableFuture<Generation> ok = scheduler.submit(other, prompt, o, null);
            assertThatThrownBy(failing::join).isInstanceOf(CompletionException.class)
                    .cause().isInstanceOf(MobileLlmException.class)
                    .satisfies(e -> assertThat(((MobileLlmException) e).status())
                            .isEqualTo(MobileLlmException.Status.CONTEXT_FULL));
            assertThat(ok.join().tokens()).isEqualTo(alone(prompt, o).tokens());
            assertThat(small.position()).isBetween(prompt.length, prompt.length + 4); // usable, holding what fit
            small.reset();
            small.eval(prompt);
        }
    }

    @Test
    void cancellingOneFutureEndsThatSequenceOnly() throws Exception {
        GenerateOptions endless = GenerateOptions.builder().greedy().maxTokens(100_000).ignoreEos(true).build();
        GenerateOptions shortRun = GenerateOptions.builder().greedy().maxTokens(10).ignoreEos(true).build();
        try (Scheduler scheduler = Scheduler.create(model);
                Session a = model.newSession(SessionOptions.builder().contextLength(4096).build());
                Session b = model.newSession()) {
            int[] count = new int[1];
            CompletableFuture<Generation> cancelled = scheduler.submit(a, prompt, endless, t -> count[0]++);
            CompletableFuture<Generation> ok = scheduler.submit(b, prompt, shortRun, null);
            assertThat(ok.get(30, TimeUnit.SECONDS).tokens()).isEqualTo(alone(prompt, shortRun).tokens());
            assertThat(cancelled.cancel(true)).isTrue();
            assertThatThrownBy(cancelled::join).isInstanceOf(CancellationException.class);
            // the session is handed back at the next step, holding the tokens evaluated so far
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            Integer position = null;
            while (position == null && System.nanoTime() < end) {
                try {
                    position = a.position();
                } catch (IllegalStateException stillRunning) {
                    Thread.sleep(5);
                }
            }
            assertThat(position).isNotNull().isBetween(prompt.length + 1, 4096);
        }
    }

    @Test
    void aTimeoutEndsTheSequenceWithTheTokensSoFar() {
        GenerateOptions o = GenerateOptions.builder().greedy().maxTokens(100_000).ignoreEos(true)
                .timeout(Duration.ofMillis(300)).build();
        try (Scheduler scheduler = Scheduler.create(model);
                Session s = model.newSession(SessionOptions.builder().contextLength(8192).build())) {
            Generation g = scheduler.submit(s, prompt, o, null).join();
            assertThat(g.stopReason()).isEqualTo(StopReason.TIMEOUT);
            assertThat(g.tokens()).isNotEmpty();
            assertThat(s.position()).isEqualTo(prompt.length + g.tokens().length);
            GenerateOptions greedy = GenerateOptions.builder().greedy().maxTokens(g.tokens().length).ignoreEos(true).build();
            assertThat(g.tokens()).isEqualTo(alone(prompt, greedy).tokens());
        }
    }

    @Test
    void sessionCancelEndsTheSequenceWithEveryReturnedTokenEvaluated() throws Exception {
        GenerateOptions endless = GenerateOptions.builder().greedy().maxTokens(100_000).ignoreEos(true).build();
        try (Scheduler scheduler = Scheduler.create(model);
                Session s = model.newSession(SessionOptions.builder().contextLength(4096).build())) {
            java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
            CompletableFuture<Generation> f = scheduler.submit(s, prompt, endless, t -> started.countDown());
            assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
            s.cancel(); // from this thread, while the scheduler's thread runs the sequence
            Generation g = f.get(30, TimeUnit.SECONDS);
            assertThat(g.stopReason()).isEqualTo(StopReason.CANCELLED);
            assertThat(g.tokens()).isNotEmpty();
            assertThat(s.position()).isEqualTo(prompt.length + g.tokens().length);
            GenerateOptions greedy = GenerateOptions.builder().greedy().maxTokens(g.tokens().length).ignoreEos(true).build();
            assertThat(g.tokens()).isEqualTo(alone(prompt, greedy).tokens());
        }
    }

    @Test
    void closingEndsWhatRunsAndWaitsAndLeavesTheSessionsUsable() {
        GenerateOptions endless = GenerateOptions.builder().greedy().maxTokens(100_000).ignoreEos(true).build();
        List<Session> sessions = new ArrayList<>();
        List<CompletableFuture<Generation>> futures = new ArrayList<>();
        try {
            Scheduler scheduler = Scheduler.create(model, 2, 64);
            for (int i = 0; i < 4; i++) {
                Session s = model.newSession(SessionOptions.builder().contextLength(4096).build());
                sessions.add(s);
                futures.add(scheduler.submit(s, prompt, endless, null));
            }
            scheduler.close();
            for (CompletableFuture<Generation> f : futures) {
                assertThatThrownBy(f::join).isInstanceOf(CancellationException.class);
            }
            for (Session s : sessions) s.eval(prompt);
            assertThatThrownBy(() -> scheduler.submit(sessions.get(0), prompt, endless, null))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        } finally {
            sessions.forEach(Session::close);
        }
    }

    @Test
    void blockingGenerateCallsBackOnTheCallersThreadAndStopsWhenTheCallbackThrows() {
        GenerateOptions o = GenerateOptions.builder().greedy().maxTokens(12).ignoreEos(true).build();
        try (Scheduler scheduler = Scheduler.create(model); Session s = model.newSession()) {
            Thread caller = Thread.currentThread();
            List<GeneratedToken> got = new ArrayList<>();
            Generation g = scheduler.generate(s, prompt, o, t -> {
                assertThat(Thread.currentThread()).isSameAs(caller);
                got.add(t);
            });
            assertThat(g.tokens()).isEqualTo(alone(prompt, o).tokens());
            assertThat(got.stream().mapToInt(GeneratedToken::id).toArray()).isEqualTo(g.tokens());
            s.reset();
            assertThatThrownBy(() -> scheduler.generate(s, prompt, o, t -> {
                if (t.index() == 2) throw new IllegalStateException("enough");
            })).hasMessage("enough");
            // handed back before the call returned: usable at once from this thread
            assertThat(s.position()).isBetween(prompt.length, prompt.length + 12);
            s.reset();
            assertThat(scheduler.generate(s, prompt, o, null).tokens()).isEqualTo(g.tokens());
        }
    }

    @Test
    void misuseThrows() {
        GenerateOptions o = GenerateOptions.builder().maxTokens(2).build();
        assertThatThrownBy(() -> Scheduler.create(model, 0, 64)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxSequences");
        assertThatThrownBy(() -> Scheduler.create(model, 8, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("stepTokens");
        try (Scheduler scheduler = Scheduler.create(model); Session s = model.newSession()) {
            assertThatThrownBy(() -> scheduler.submit(s, new int[0], o, null))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> scheduler.submit(s, new int[] {-1}, o, null))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out of range");
            Session closed = model.newSession();
            closed.close();
            assertThatThrownBy(() -> scheduler.submit(closed, prompt, o, null))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
            try (Model other = Model.load(TestFiles.checkpoint("llama-f32", "f32"));
                    Session foreign = other.newSession()) {
                assertThatThrownBy(() -> scheduler.submit(foreign, prompt, o, null))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("another model");
            }
        }
    }
}
