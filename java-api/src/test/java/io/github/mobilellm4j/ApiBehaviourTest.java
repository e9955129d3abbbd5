package io.github.mobilellm4j;

import static org.junit.jupiter.api.Assertions.*;

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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Lifetimes, threading rules, errors and generation semantics of the Java API. */
class ApiBehaviourTest {
    static Model model;
    static final String PROMPT = "This License applies to any program";

    @BeforeAll
    static void load() {
        model = Model.load(TestFiles.checkpoint("llama-f32", "f32"), ModelOptions.builder().threads(2).build());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static GenerateOptions greedy(int n) {
        return GenerateOptions.builder().greedy().ignoreEos(true).maxTokens(n).build();
    }

    @Test
    void useAfterCloseThrows() {
        Model m = Model.load(model.path());
        Session s = m.newSession();
        Logits logits = s.eval(m.tokenizer().encode(PROMPT));
        m.close();
        assertTrue(s.isClosed(), "closing the model closes its sessions");
        assertThrows(IllegalStateException.class, m::tokenizer);
        assertThrows(IllegalStateException.class, m::newSession);
        assertThrows(IllegalStateException.class, () -> s.eval(1));
        assertThrows(IllegalStateException.class, () -> logits.get(0, 0));
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
            assertTrue(inside.await(30, TimeUnit.SECONDS));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.eval(1));
            assertTrue(e.getMessage().contains("one thread at a time"), e.getMessage());
            release.countDown();
            assertEquals(3, f.get(30, TimeUnit.SECONDS).tokens().length);
            ex.shutdown();
            s.eval(1); // free again: handing a session to another thread is fine
        }
    }

    @Test
    void staleLogitsThrow() {
        try (Session s = model.newSession()) {
            Logits a = s.eval(model.tokenizer().encode(PROMPT));
            float v = a.get(0, 5);
            assertEquals(v, s.logits().get(0, 5));
            s.eval(7);
            assertThrows(IllegalStateException.class, () -> a.get(0, 5));
        }
    }

    @Test
    void badFilesGiveClearErrors(@TempDir Path dir) throws IOException {
        MobileLlmException missing = assertThrows(MobileLlmException.class, () -> Model.load(dir.resolve("nope.gguf")));
        assertEquals(MobileLlmException.Status.IO, missing.status());
        assertTrue(missing.getMessage().contains("nope.gguf"), missing.getMessage());

        Path garbage = dir.resolve("garbage.gguf");
        Files.writeString(garbage, "definitely not a GGUF file, just some text that is long enough");
        MobileLlmException bad = assertThrows(MobileLlmException.class, () -> Model.load(garbage));
        assertEquals(MobileLlmException.Status.FORMAT, bad.status());
        assertTrue(bad.getMessage().toLowerCase().contains("magic"), bad.getMessage());

        Path truncated = dir.resolve("truncated.gguf");
        byte[] whole = Files.readAllBytes(model.path());
        Files.write(truncated, java.util.Arrays.copyOf(whole, whole.length / 2));
        MobileLlmException cut = assertThrows(MobileLlmException.class, () -> Model.load(truncated));
        assertEquals(MobileLlmException.Status.FORMAT, cut.status());
    }

    @Test
    void invalidArgumentsThrowBeforeReachingTheEngine() {
        try (Session s = model.newSession()) {
            assertThrows(IllegalArgumentException.class, () -> s.eval());
            assertThrows(IllegalArgumentException.class, () -> s.eval(-1));
            assertThrows(IllegalArgumentException.class, () -> s.eval(model.info().vocabSize()));
            assertThrows(IllegalArgumentException.class, () -> model.tokenizer().decode(1 << 20));
        }
    }

    @Test
    void generationStopsForEachReason() {
        int[] prompt = model.tokenizer().encode(PROMPT);
        Generation g;
        try (Session s = model.newSession()) {
            g = s.generate(prompt, greedy(12), null);
        }
        assertEquals(StopReason.MAX_TOKENS, g.stopReason());
        assertEquals(12, g.tokens().length);
        // the text is the continuation as it appends to the prompt (a leading space is kept)
        int[] all = java.util.stream.IntStream.concat(java.util.Arrays.stream(prompt), java.util.Arrays.stream(g.tokens()))
                .toArray();
        assertEquals(model.tokenizer().decode(all), model.tokenizer().decode(prompt) + g.text());

        // a stop string taken from the middle of the greedy text: generation ends right before it
        String text = g.text();
        String stop = text.substring(text.length() / 2, text.length() / 2 + 3);
        assertFalse(stop.isBlank(), "pick a visible stop string: " + text);
        try (Session s = model.newSession()) {
            Generation stopped = s.generate(prompt, GenerateOptions.builder().greedy().ignoreEos(true).maxTokens(12)
                    .stopStrings(stop).build(), null);
            assertEquals(StopReason.STOP_STRING, stopped.stopReason());
            assertEquals(text.substring(0, text.indexOf(stop)), stopped.text());
        }
        // EOS: force it by sampling with a vocabulary of one via a prompt? Instead check it is honoured when the
        // greedy continuation contains EOS: generate long enough and compare with ignoreEos.
        try (Session s = model.newSession()) {
            Generation longer = s.generate(prompt, greedy(64), null);
            int eos = model.info().eosToken();
            int at = -1;
            for (int i = 0; i < longer.tokens().length; i++) {
                if (longer.tokens()[i] == eos) {
                    at = i;
                    break;
                }
            }
            try (Session s2 = model.newSession()) {
                Generation honoured = s2.generate(prompt, GenerateOptions.builder().greedy().maxTokens(64).build(), null);
                if (at >= 0) {
                    assertEquals(StopReason.EOS, honoured.stopReason());
                    assertEquals(at, honoured.tokens().length);
                } else {
                    assertEquals(StopReason.MAX_TOKENS, honoured.stopReason());
                }
            }
        }
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
        assertArrayEquals(g.tokens(), streamed.stream().mapToInt(GeneratedToken::id).toArray());
        StringBuilder sb = new StringBuilder();
        streamed.forEach(t -> sb.append(t.text()));
        assertEquals(g.text(), sb.toString());
    }

    @Test
    void nativeLoopGivesTheSameGenerationAsTheJavaLoop() {
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
            assertArrayEquals(java.tokens(), c.tokens());
            assertEquals(java.text(), c.text());
            assertEquals(java.stopReason(), c.stopReason());
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
        assertArrayEquals(a, b);
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
                assertEquals(expected, nll[i], 1e-4, "nll at " + i);
            }
        }
    }

    @Test
    void embeddingsArePooledAndNormalised() {
        float[] mean = model.embed(PROMPT, Pooling.MEAN, true);
        float[] last = model.embed(PROMPT, Pooling.LAST, true);
        float[] raw = model.embed(PROMPT, Pooling.MEAN, false);
        assertEquals(model.info().embeddingLength(), mean.length);
        assertEquals(1.0, norm(mean), 1e-5);
        assertEquals(1.0, norm(last), 1e-5);
        double n = norm(raw);
        for (int i = 0; i < raw.length; i++) assertEquals(mean[i], raw[i] / n, 1e-5);
        assertFalse(java.util.Arrays.equals(mean, last));
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
        for (Future<int[]> f : fs) assertArrayEquals(expected, f.get(60, TimeUnit.SECONDS));
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
            assertNotNull(err.get());
            assertEquals(MobileLlmException.Status.CONTEXT_FULL, err.get().status());
        }
        try (Session s = model.newSession(SessionOptions.builder().contextLength(16).contextShift(true).keep(1).build())) {
            s.eval(prompt);
            for (int i = 0; i < 32; i++) s.eval(5);
            assertTrue(s.position() <= 16);
        }
    }

    static double norm(float[] v) {
        double s = 0;
        for (float x : v) s += (double) x * x;
        return Math.sqrt(s);
    }
}
