package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Closing a model or a session from inside generation (a token callback or a stream's consumer) ends the
 * generation after the callback returns, with StopReason.CANCELLED, and frees everything; it never waits for
 * a lock its own thread holds. Each case runs on a worker thread with a timeout, so a deadlock fails the test
 * instead of hanging the build.
 */
class CloseFromCallbackTest {
    static final Duration LIMIT = Duration.ofSeconds(60);
    /** Generous maxTokens: generation must end because of the close, long before this. */
    static final GenerateOptions LONG = ApiBehaviourTest.greedy(40);

    final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "close-from-callback-test");
        t.setDaemon(true); // a deadlocked worker must not keep the test JVM alive
        return t;
    });

    @AfterEach
    void stopWorker() {
        worker.shutdownNow();
    }

    static Model load() {
        return ReferenceModelFixture.load(2);
    }

    <T> T onWorker(Callable<T> task) {
        Future<T> f = worker.submit(task);
        assertThat(f).succeedsWithin(LIMIT);
        return f.resultNow();
    }

    @Test
    void modelClosedFromATokenCallback() {
        Model m = load();
        Session s = m.newSession();
        int[] prompt = m.tokenizer().encode(ApiBehaviourTest.PROMPT);
        List<Integer> seen = new ArrayList<>();
        Generation g = onWorker(() -> s.generate(prompt, LONG, t -> {
            seen.add(t.id());
            if (seen.size() == 3) m.close();
        }));
        assertThat(g.stopReason()).isEqualTo(StopReason.CANCELLED);
        assertThat(g.tokens()).hasSize(3).containsExactly(seen.stream().mapToInt(Integer::intValue).toArray());
        assertThat(m.isClosed()).isTrue();
        assertThat(s.isClosed()).isTrue();
        assertThatThrownBy(() -> s.eval(1)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(m::newSession).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void sessionClosedFromATokenCallback() {
        try (Model m = load()) {
            Session s = m.newSession();
            int[] prompt = m.tokenizer().encode(ApiBehaviourTest.PROMPT);
            Generation g = onWorker(() -> s.generate(prompt, LONG, t -> {
                if (t.index() == 1) s.close();
            }));
            assertThat(g.stopReason()).isEqualTo(StopReason.CANCELLED);
            assertThat(g.tokens()).hasSize(2);
            assertThat(s.isClosed()).isTrue();
            assertThat(m.isClosed()).isFalse();
            // the model is still fully usable
            try (Session other = m.newSession()) {
                assertThat(other.generate(prompt, ApiBehaviourTest.greedy(2), null).tokens()).hasSize(2);
            }
        }
    }

    @Test
    void modelAndSessionClosedFromAStreamConsumer() {
        for (boolean closeModel : new boolean[] {true, false}) {
            Model m = load();
            Session s = m.newSession();
            int[] prompt = m.tokenizer().encode(ApiBehaviourTest.PROMPT);
            List<GeneratedToken> got = onWorker(() -> {
                List<GeneratedToken> tokens = new ArrayList<>();
                try (Stream<GeneratedToken> stream = s.stream(prompt, LONG)) {
                    stream.forEach(t -> {
                        tokens.add(t);
                        if (tokens.size() == 2) {
                            if (closeModel) m.close();
                            else s.close();
                        }
                    });
                }
                return tokens;
            });
            assertThat(got).as("the stream ends after the consumer closes the %s", closeModel ? "model" : "session")
                    .hasSize(2);
            assertThat(s.isClosed()).isTrue();
            assertThat(m.isClosed()).isEqualTo(closeModel);
            m.close();
        }
    }

    @Test
    void modelClosedByAnotherThreadDuringACallbackEndsTheGeneration() throws Exception {
        Model m = load();
        Session s = m.newSession();
        int[] prompt = m.tokenizer().encode(ApiBehaviourTest.PROMPT);
        CountDownLatch inCallback = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        Future<Generation> f = worker.submit(() -> s.generate(prompt, LONG, t -> {
            if (t.index() == 0) {
                inCallback.countDown();
                try {
                    closed.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }));
        assertThat(inCallback.await(60, TimeUnit.SECONDS)).isTrue();
        m.close(); // must not wait for the callback, which waits for this close
        closed.countDown();
        assertThat(f).succeedsWithin(LIMIT).extracting(Generation::stopReason).isEqualTo(StopReason.CANCELLED);
        assertThat(f.resultNow().tokens()).hasSize(1);
    }
}
