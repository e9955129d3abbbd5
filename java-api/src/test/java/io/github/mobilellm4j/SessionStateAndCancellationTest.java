package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Session state and cancellation through the Java API: a restored state (bytes or file) and a copied prefix
 * continue with the logits of the uninterrupted session, bit for bit (the CPU backend computes the same rows
 * the same way); bad states are refused with the session unchanged; an interrupt or {@link Session#cancel()}
 * stops a long call, leaving the session usable; cancelling a {@link CompletableFuture} stops its generation.
 */
class SessionStateAndCancellationTest extends ReferenceModelFixture {
    @Test
    void restoredStateContinuesAsTheSavedSession(@TempDir Path dir) {
        try (Session a = model.newSession(); Session b = model.newSession(); Session c = model.newSession()) {
            a.eval(prompt);
            byte[] state = a.saveState();
            Path file = dir.resolve("state.bin");
            a.saveState(file);
            b.restoreState(state);
            c.restoreState(file);
            assertThat(b.position()).isEqualTo(prompt.length);
            assertThat(b.logits().toArray(0)).isEqualTo(a.logits().toArray(0));
            float[] next = a.eval(7).toArray(0);
            assertThat(b.eval(7).toArray(0)).isEqualTo(next);
            assertThat(c.eval(7).toArray(0)).isEqualTo(next);
        }
    }

    @Test
    void badStatesAreRefusedAndTheSessionIsUnchanged(@TempDir Path dir) throws Exception {
        try (Session a = model.newSession(); Session b = model.newSession()) {
            a.eval(prompt);
            b.eval(1, 2);
            byte[] state = a.saveState();
            byte[] damaged = state.clone();
            damaged[damaged.length / 2] ^= 1;
            assertThatThrownBy(() -> b.restoreState(damaged)).isInstanceOf(MobileLlmException.class)
                    .hasMessageContaining("checksum");
            byte[] otherVersion = state.clone();
            otherVersion[8] = 42;
            assertThatThrownBy(() -> b.restoreState(otherVersion)).isInstanceOf(MobileLlmException.class)
                    .hasMessageContaining("version 42");
            Path notAState = Files.writeString(dir.resolve("x.bin"), "hello");
            assertThatThrownBy(() -> b.restoreState(notAState)).isInstanceOf(MobileLlmException.class)
                    .hasMessageContaining("not a session state");
            assertThat(b.position()).isEqualTo(2);
            assertThat(b.logits().rows()).isEqualTo(1);
        }
    }

    @Test
    void aCopiedPrefixContinuesAsTheSource() {
        try (Session a = model.newSession(); Session b = model.newSession(); Session ref = model.newSession()) {
            int k = prompt.length - 2;
            a.eval(prompt);
            b.copyPrefixFrom(a, k);
            assertThat(b.position()).isEqualTo(k);
            ref.prefill(java.util.Arrays.copyOf(prompt, k));
            int[] rest = {prompt[k], prompt[k + 1]};
            assertThat(b.eval(rest).toArray(0)).isEqualTo(ref.eval(rest).toArray(0));
            assertThatThrownBy(() -> b.copyPrefixFrom(a, prompt.length + 5)).isInstanceOf(MobileLlmException.class)
                    .hasMessageContaining("n_past");
        }
    }

    /**
     * Reads a long prompt over and over (resetting in between) until a call fails, at most 30 s; returns that
     * failure and the milliseconds from {@code stopAt} (set by the other thread) to it.
     */
    static MobileLlmException prefillUntilStopped(Session s, long[] stopAt) {
        int[] tokens = new int[s.contextLength() - 8];
        for (int i = 0; i < tokens.length; i++) tokens[i] = prompt[i % prompt.length];
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < end) {
            try {
                s.prefill(tokens);
                s.reset();
            } catch (MobileLlmException e) {
                stopAt[1] = System.nanoTime();
                return e;
            }
        }
        return null;
    }

    @Test
    void anInterruptStopsALongCallAndTheSessionGoesOn() throws Exception {
        try (Session s = model.newSession(SessionOptions.builder().contextLength(2048).build())) {
            Thread caller = Thread.currentThread();
            long[] times = new long[2];
            Thread interrupter = Thread.ofPlatform().start(() -> {
                sleep(100);
                times[0] = System.nanoTime();
                caller.interrupt();
            });
            MobileLlmException e;
            boolean stillInterrupted;
            try {
                e = prefillUntilStopped(s, times);
                stillInterrupted = Thread.currentThread().isInterrupted();
            } finally {
                interrupter.join();
                Thread.interrupted();
            }
            assertThat(e).isNotNull();
            assertThat(e.status()).isEqualTo(MobileLlmException.Status.CANCELLED);
            assertThat(stillInterrupted).as("the interrupt status is kept").isTrue();
            // loose bound for a shared machine: a layer of this model over 2040 tokens takes a few milliseconds
            assertThat(TimeUnit.NANOSECONDS.toMillis(times[1] - times[0])).isLessThan(1_000);
            assertThat(s.position()).isZero();
            s.eval(prompt);
            assertThat(s.position()).isEqualTo(prompt.length);
        }
    }

    @Test
    void cancelFromAnotherThreadStopsTheCall() throws Exception {
        try (Session s = model.newSession(SessionOptions.builder().contextLength(2048).build())) {
            long[] times = new long[2];
            Thread canceller = Thread.ofPlatform().start(() -> {
                sleep(100);
                times[0] = System.nanoTime();
                s.cancel();
            });
            MobileLlmException e;
            try {
                e = prefillUntilStopped(s, times);
            } finally {
                canceller.join();
            }
            assertThat(e).isNotNull();
            assertThat(e.status()).isEqualTo(MobileLlmException.Status.CANCELLED);
            assertThat(TimeUnit.NANOSECONDS.toMillis(times[1] - times[0])).isLessThan(1_000);
            assertThat(s.position()).isZero();
            s.eval(prompt);
        }
    }

    @Test
    void cancellingTheFutureStopsTheGeneration() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Session s = model.newSession(SessionOptions.builder().contextLength(2048).build())) {
            GenerateOptions o = GenerateOptions.builder().maxTokens(2000).ignoreEos(true).build();
            CompletableFuture<Generation> f = s.generateAsync(prompt, o, pool);
            Thread.sleep(100);
            assertThat(f.cancel(true)).isTrue();
            assertThatThrownBy(f::join).isInstanceOf(CancellationException.class);
            // the generation stops: the session is free again soon, holding what was generated so far
            int position = pool.submit(s::position).get(10, TimeUnit.SECONDS);
            assertThat(position).isBetween(prompt.length, prompt.length + 1999);
            // the executor's thread is not left interrupted
            assertThat(pool.submit(() -> Thread.currentThread().isInterrupted()).get()).isFalse();
            Generation g = s.generateAsync(prompt, GenerateOptions.builder().maxTokens(3).ignoreEos(true).build(), pool)
                    .get(30, TimeUnit.SECONDS);
            assertThat(g.tokens()).hasSize(3);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aTimeoutEndsAGenerationWithTheTokensSoFar() {
        try (Session s = model.newSession(SessionOptions.builder().contextLength(8192).build())) {
            GenerateOptions o = GenerateOptions.builder().greedy().maxTokens(100_000).ignoreEos(true)
                    .timeout(java.time.Duration.ofMillis(200)).build();
            Generation g = s.generate(prompt, o, null);
            assertThat(g.stopReason()).isEqualTo(StopReason.TIMEOUT);
            assertThat(g.tokens()).isNotEmpty().hasSizeLessThan(8192 - prompt.length);
            assertThat(s.position()).isEqualTo(prompt.length + g.tokens().length);
        }
    }

    @Test
    void aTimeoutStopsAPromptPartWayAndLeavesTheSessionAsBefore() {
        try (Session s = model.newSession(SessionOptions.builder().contextLength(2048).build())) {
            int[] tokens = new int[2000];
            for (int i = 0; i < tokens.length; i++) tokens[i] = prompt[i % prompt.length];
            long t0 = System.nanoTime();
            s.prefill(tokens);
            long full = System.nanoTime() - t0;
            s.reset();
            s.eval(1, 2);
            // a quarter of the prompt's own time: the deadline passes while the prompt is being read
            GenerateOptions o = GenerateOptions.builder().maxTokens(5)
                    .timeout(java.time.Duration.ofNanos(Math.max(1, full / 4))).build();
            Generation g = s.generate(tokens, o, null);
            assertThat(g.stopReason()).isEqualTo(StopReason.TIMEOUT);
            assertThat(g.tokens()).isEmpty();
            assertThat(s.position()).as("the prompt was taken back").isEqualTo(2);
            s.eval(3);
        }
    }

    @Test
    void aCallTimeoutStopsALongCallAndTheSessionGoesOn() {
        int[] tokens = new int[2000];
        for (int i = 0; i < tokens.length; i++) tokens[i] = prompt[i % prompt.length];
        long full;
        try (Session s = model.newSession(SessionOptions.builder().contextLength(2048).build())) {
            long t0 = System.nanoTime();
            s.prefill(tokens);
            full = System.nanoTime() - t0;
        }
        // a quarter of the prompt's own time: the limit passes while the prompt is being read
        SessionOptions limited = SessionOptions.builder().contextLength(2048)
                .callTimeout(java.time.Duration.ofNanos(Math.max(1, full / 4))).build();
        try (Session s = model.newSession(limited)) {
            s.eval(1, 2);
            assertThatThrownBy(() -> s.prefill(tokens)).isInstanceOf(MobileLlmException.class)
                    .hasMessageContaining("call timeout")
                    .satisfies(e -> assertThat(((MobileLlmException) e).status()).isEqualTo(MobileLlmException.Status.CANCELLED));
            assertThat(s.position()).isEqualTo(2);
            assertThatThrownBy(() -> s.score(tokens)).hasMessageContaining("call timeout");
            assertThat(s.eval(3).rows()).isEqualTo(1); // a short call fits the limit
        }
        assertThatThrownBy(() -> SessionOptions.builder().callTimeout(java.time.Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("callTimeout");
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
