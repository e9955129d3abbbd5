package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A stream (like its session) belongs to one thread at a time, not to the thread that created it: it can be
 * handed to another thread between tokens. Use from two threads at once throws IllegalStateException.
 */
class StreamThreadingTest extends ReferenceModelFixture {
    static final Duration LIMIT = Duration.ofSeconds(60);
    static int[] expected;

    final ExecutorService other = Executors.newSingleThreadExecutor();

    @BeforeAll
    static void generateAlone() {
        try (Session s = model.newSession()) {
            expected = s.generate(prompt, ApiBehaviourTest.greedy(8), null).tokens();
        }
    }

    @AfterEach
    void stopThread() {
        other.shutdownNow();
    }

    static int[] ids(List<GeneratedToken> tokens) {
        return tokens.stream().mapToInt(GeneratedToken::id).toArray();
    }

    @Test
    void streamCreatedOnOneThreadIsConsumedOnAnother() {
        try (Session s = model.newSession(); Stream<GeneratedToken> stream = s.stream(prompt, ApiBehaviourTest.greedy(8))) {
            Future<List<GeneratedToken>> f = other.submit(() -> stream.toList());
            assertThat(f).succeedsWithin(LIMIT);
            assertThat(ids(f.resultNow())).containsExactly(expected);
        }
    }

    @Test
    void streamContinuesOnAnotherThreadAndClosesOnTheFirst() {
        try (Session s = model.newSession(); Stream<GeneratedToken> stream = s.stream(prompt, ApiBehaviourTest.greedy(8))) {
            Iterator<GeneratedToken> it = stream.iterator();
            List<GeneratedToken> got = new ArrayList<>();
            for (int i = 0; i < 3; i++) got.add(it.next());
            Future<?> rest = other.submit(() -> it.forEachRemaining(got::add));
            assertThat(rest).succeedsWithin(LIMIT);
            assertThat(ids(got)).containsExactly(expected);
        }
    }

    @Test
    void useFromTwoThreadsAtOnceThrows() throws Exception {
        try (Session s = model.newSession()) {
            Stream<GeneratedToken> stream = s.stream(prompt, ApiBehaviourTest.greedy(4));
            Iterator<GeneratedToken> it = stream.iterator();
            CountDownLatch inside = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            // another thread is inside the session (its token callback blocks) while this one pulls the stream
            Future<Generation> busy = other.submit(() -> s.generate(new int[] {1}, ApiBehaviourTest.greedy(1), t -> {
                inside.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            assertThat(inside.await(60, TimeUnit.SECONDS)).isTrue();
            assertThatThrownBy(it::next).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("one thread at a time");
            release.countDown();
            assertThat(busy).succeedsWithin(LIMIT);
            // free again: the stream continues on this thread
            List<GeneratedToken> rest = new ArrayList<>();
            it.forEachRemaining(rest::add);
            assertThat(rest).hasSize(4);
            stream.close();
        }
    }
}
