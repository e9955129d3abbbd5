package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Lifetimes, threading rules, errors and generation semantics of the Java API. */
class ApiBehaviourTest extends ReferenceModelFixture {
    static GenerateOptions greedy(int n) {
        return GenerateOptions.builder().greedy().ignoreEos(true).maxTokens(n).build();
    }

    @Test
    void useAfterCloseThrows() {
        Model m = Model.load(model.path());
        Session s = m.newSession();
        Logits logits = s.eval(m.tokenizer().encode(PROMPT));
        m.close();
        assertThat(s.isClosed()).as("closing the model closes its sessions").isTrue();
        assertThatThrownBy(m::tokenizer).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(m::newSession).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> s.eval(1)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> logits.get(0, 0)).isInstanceOf(IllegalStateException.class);
        m.close(); // idempotent
        s.close();
    }

    @Test
    void sessionUsedByTwoThreadsAtOnceThrows() throws Exception {
        try (Session s = model.newSession()) {
            CountDownLatch inside = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            ExecutorService ex = Executors.newSingleThreadExecutor();
            Future<Generation> f = ex.submit(() -> s.generate(model.tokenizer().encode(PROMPT), greedy(3), t -> {
                inside.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            assertThat(inside.await(30, TimeUnit.SECONDS)).as("the generating thread reached its callback").isTrue();
            assertThatThrownBy(() -> s.eval(1)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("one thread at a time");
            release.countDown();
            assertThat(f.get(30, TimeUnit.SECONDS).tokens()).hasSize(3);
            ex.shutdown();
            s.eval(1); // free again: handing a session to another thread is fine
        }
    }

    @Test
    void staleLogitsThrow() {
        try (Session s = model.newSession()) {
            Logits a = s.eval(model.tokenizer().encode(PROMPT));
            float v = a.get(0, 5);
            assertThat(s.logits().get(0, 5)).isEqualTo(v);
            s.eval(7);
            assertThatThrownBy(() -> a.get(0, 5)).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void badFilesGiveClearErrors(@TempDir Path dir) throws IOException {
        assertThatThrownBy(() -> Model.load(dir.resolve("nope.gguf")))
                .isInstanceOfSatisfying(MobileLlmException.class,
                        e -> assertThat(e.status()).isEqualTo(MobileLlmException.Status.IO))
                .hasMessageContaining("nope.gguf");

        Path garbage = dir.resolve("garbage.gguf");
        Files.writeString(garbage, "definitely not a GGUF file, just some text that is long enough");
        assertThatThrownBy(() -> Model.load(garbage))
                .isInstanceOfSatisfying(MobileLlmException.class,
                        e -> assertThat(e.status()).isEqualTo(MobileLlmException.Status.FORMAT))
                .message().containsIgnoringCase("magic");

        Path truncated = dir.resolve("truncated.gguf");
        byte[] whole = Files.readAllBytes(model.path());
        Files.write(truncated, java.util.Arrays.copyOf(whole, whole.length / 2));
        assertThatThrownBy(() -> Model.load(truncated)).isInstanceOfSatisfying(MobileLlmException.class,
                e -> assertThat(e.status()).isEqualTo(MobileLlmException.Status.FORMAT));
    }

    @Test
    void invalidArgumentsThrowBeforeReachingTheEngine() {
        try (Session s = model.newSession()) {
            assertThatThrownBy(() -> s.eval()).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> s.eval(-1)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> s.eval(model.info().vocabulary().size())).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> model.tokenizer().decode(1 << 20)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void generationStopsForEachReason() {
        int[] prompt = model.tokenizer().encode(PROMPT);
        Generation g;
        try (Session s = model.newSession()) {
            g = s.generate(prompt, greedy(12), null);
        }
        assertThat(g.stopReason()).isEqualTo(StopReason.MAX_TOKENS);
        assertThat(g.tokens()).hasSize(12);
        // the text is the continuation as it appends to the prompt (a leading space is kept)
        int[] all = java.util.stream.IntStream.concat(java.util.Arrays.stream(prompt), java.util.Arrays.stream(g.tokens()))
                .toArray();
        assertThat(model.tokenizer().decode(prompt) + g.text()).isEqualTo(model.tokenizer().decode(all));

        // a stop string taken from the middle of the greedy text: generation ends right before it
        String text = g.text();
        String stop = text.substring(text.length() / 2, text.length() / 2 + 3);
        assertThat(stop).as("pick a visible stop string: " + text).isNotBlank();
        try (Session s = model.newSession()) {
            Generation stopped = s.generate(prompt, GenerateOptions.builder().greedy().ignoreEos(true).maxTokens(12)
                    .stopStrings(stop).build(), null);
            assertThat(stopped.stopReason()).isEqualTo(StopReason.STOP_STRING);
            assertThat(stopped.text()).isEqualTo(text.substring(0, text.indexOf(stop)));
        }
        // EOS: DecodeContractTest.anEndOfTurnStopHasEvaluatedEveryReturnedToken names a token of the greedy
        // continuation an end-of-turn token, so that the stop surely happens: this checkpoint's greedy continuation
        // of the prompt holds no EOS
    }

    @Test
    void streamYieldsTheSameTokensAsBlockingGeneration() {
        int[] prompt = model.tokenizer().encode(PROMPT);
        Generation g;
        try (Session s = model.newSession()) {
            g = s.generate(prompt, greedy(10), null);
        }
        List<GeneratedToken> streamed;
        try (Session s = model.newSession(); var stream = s.stream(prompt, greedy(10))) {
            streamed = stream.toList();
        }
        assertThat(streamed.stream().mapToInt(GeneratedToken::id).toArray()).isEqualTo(g.tokens());
        StringBuilder sb = new StringBuilder();
        streamed.forEach(t -> sb.append(t.text()));
        assertThat(sb.toString()).isEqualTo(g.text());
    }

    @Test
    void aStreamLeftPartWayEndsWhenItsSessionIsUsedAgain() {
        int[] prompt = model.tokenizer().encode(PROMPT);
        int[] alone;
        try (Session s = model.newSession()) {
            alone = s.generate(prompt, greedy(10), null).tokens();
        }
        try (Session s = model.newSession()) {
            var stream = s.stream(prompt, greedy(10));
            var it = stream.iterator();
            assertThat(new int[] {it.next().id(), it.next().id()}).containsExactly(alone[0], alone[1]);
            // the stream's sequence still holds the session in the engine's loop; the next call ends it first,
            // keeping what was evaluated (the prompt and both tokens handed out; the third was only sampled)
            assertThat(s.position()).isEqualTo(prompt.length + 2);
            assertThat(it.hasNext()).isFalse();
            s.reset();
            assertThat(s.generate(prompt, greedy(10), null).tokens()).isEqualTo(alone);
            stream.close();
        }
    }

    @Test
    void sessionGenerateGivesWhatTheEnginesGenerateCallGives() {
        int[] prompt = model.tokenizer().encode(PROMPT);
        for (GenerateOptions o : new GenerateOptions[] {greedy(10), GenerateOptions.builder().greedy().maxTokens(64).build(),
                GenerateOptions.builder().maxTokens(12).ignoreEos(true).sampler(io.github.mobilellm4j.sampling.SamplerOptions
                        .builder().temperature(0.9f).seed(5).build()).build()}) {
            Generation java;
            Generation c;
            try (Session s = model.newSession()) {
                java = s.generate(prompt, o, null);
            }
            try (Session s = model.newSession()) {
                c = s.generateNative(prompt, o);
            }
            assertThat(c.tokens()).isEqualTo(java.tokens());
            assertThat(c.text()).isEqualTo(java.text());
            assertThat(c.stopReason()).isEqualTo(java.stopReason());
        }
    }

    @Test
    void seededSamplingIsReproducible() {
        int[] prompt = model.tokenizer().encode(PROMPT);
        GenerateOptions o = GenerateOptions.builder().maxTokens(16).ignoreEos(true)
                .sampler(io.github.mobilellm4j.sampling.SamplerOptions.builder().temperature(1.0f).topK(0).topP(1f)
                        .minP(0f).seed(1234).build())
                .build();
        int[] a;
        int[] b;
        try (Session s = model.newSession()) {
            a = s.generate(prompt, o, null).tokens();
        }
        try (Session s = model.newSession()) {
            b = s.generate(prompt, o, null).tokens();
        }
        assertThat(b).isEqualTo(a);
    }

    @Test
    void scoreAgreesWithLogSoftmaxOfLogits() {
        int[] ids = model.tokenizer().encode(PROMPT);
        float[] nll;
        try (Session s = model.newSession(SessionOptions.builder().kvCacheType(KvCacheType.F32).build())) {
            nll = s.score(ids);
        }
        try (Session s = model.newSession(SessionOptions.builder().kvCacheType(KvCacheType.F32).build())) {
            Logits l = s.evalAll(ids);
            for (int i = 0; i < ids.length - 1; i++) {
                float[] row = l.toArray(i);
                double max = Double.NEGATIVE_INFINITY;
                for (float v : row) max = Math.max(max, v);
                double sum = 0;
                for (float v : row) sum += Math.exp(v - max);
                double expected = max + Math.log(sum) - row[ids[i + 1]];
                // float32 log-softmax of ~1000 logits: 1e-4 absolute covers rounding in both computations
                assertThat((double) nll[i]).as("nll at " + i).isCloseTo(expected, within(1e-4));
            }
        }
    }

    @Test
    void embeddingsArePooledAndNormalised() {
        float[] mean = model.embed(PROMPT, Pooling.MEAN, true);
        float[] last = model.embed(PROMPT, Pooling.LAST, true);
        float[] raw = model.embed(PROMPT, Pooling.MEAN, false);
        assertThat(mean).hasSize(model.info().shape().embeddingLength());
        // the engine normalises in float32: 1e-5 (about 80 float ulps at 1.0) leaves room for the rounding of
        // its sum of squares
        assertThat(norm(mean)).isCloseTo(1.0, within(1e-5));
        assertThat(norm(last)).isCloseTo(1.0, within(1e-5));
        double n = norm(raw);
        // the same division done here in double: unit-vector components agree to float32 rounding (same bound)
        for (int i = 0; i < raw.length; i++) {
            assertThat(raw[i] / n).as("component %d", i).isCloseTo(mean[i], within(1e-5));
        }
        assertThat(last).isNotEqualTo(mean);
    }

    @Test
    void sessionsOnOneModelRunInParallel() throws Exception {
        int[] prompt = model.tokenizer().encode(PROMPT);
        int[] expected;
        try (Session s = model.newSession()) {
            expected = s.generate(prompt, greedy(8), null).tokens();
        }
        ExecutorService ex = Executors.newFixedThreadPool(3);
        List<Future<int[]>> fs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            fs.add(ex.submit(() -> {
                try (Session s = model.newSession()) {
                    return s.generate(prompt, greedy(8), null).tokens();
                }
            }));
        }
        for (Future<int[]> f : fs) assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(expected);
        ex.shutdown();
    }

    @Test
    void contextFullIsAnErrorOrAShift() {
        int[] prompt = model.tokenizer().encode(PROMPT);
        try (Session s = model.newSession(SessionOptions.builder().contextLength(16).build())) {
            s.eval(prompt);
            AtomicReference<MobileLlmException> err = new AtomicReference<>();
            for (int i = 0; i < 32 && err.get() == null; i++) {
                try {
                    s.eval(5);
                } catch (MobileLlmException e) {
                    err.set(e);
                }
            }
            assertThat(err.get()).isNotNull();
            assertThat(err.get().status()).isEqualTo(MobileLlmException.Status.CONTEXT_FULL);
        }
        try (Session s = model.newSession(SessionOptions.builder().contextLength(16).contextShift(true).keep(1).build())) {
            s.eval(prompt);
            for (int i = 0; i < 32; i++) s.eval(5);
            assertThat(s.position()).isLessThanOrEqualTo(16);
        }
    }

    static double norm(float[] v) {
        double s = 0;
        for (float x : v) s += (double) x * x;
        return Math.sqrt(s);
    }
}
