package io.github.mobilellm4j.jmh;

import io.github.mobilellm4j.BatchLimits;
import io.github.mobilellm4j.Pooling;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.SessionOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Embeddings per second: {@code Session.embed} of a {@code embedTokens}-token text (mean pooling, L2-normalised),
 * one embedding per operation, so the primary score is embeddings/s. The secondary {@code embed:tokens} is the
 * tokens/s this amounts to. {@code embedBatched} embeds {@value #BATCH} such texts per call through
 * {@code Model.embedAll} (several texts per forward pass), counted as {@value #BATCH} operations, so its score is
 * embeddings/s too.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = BenchDefaults.NATIVE_ACCESS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class EmbeddingBenchmark {
    /** Texts per embedAll call: 16 texts of 128 tokens fill 4 passes of the default limits (512 tokens). */
    static final int BATCH = 16;

    @State(Scope.Thread)
    public static class EmbedSession {
        @Param({"128"})
        public int embedTokens;

        Session session;
        int[] text;

        @Setup(Level.Trial)
        public void setUp(LoadedModel loaded) {
            int vocab = loaded.model.info().vocabulary().size();
            text = BenchDefaults.tokens(embedTokens, vocab, 4);
            text[0] = Math.max(0, loaded.model.info().vocabulary().bosToken());
            session = loaded.model.newSession(SessionOptions.builder()
                    .contextLength(embedTokens + 16)
                    .batchSize(embedTokens)
                    .build());
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            session.close();
        }
    }

    /** BATCH texts of embedTokens tokens, each different. */
    @State(Scope.Thread)
    public static class EmbedTexts {
        @Param({"128"})
        public int embedTokens;

        List<int[]> texts;

        @Setup(Level.Trial)
        public void setUp(LoadedModel loaded) {
            int vocab = loaded.model.info().vocabulary().size();
            texts = new ArrayList<>();
            for (int i = 0; i < BATCH; i++) {
                int[] text = BenchDefaults.tokens(embedTokens, vocab, 4 + i);
                text[0] = Math.max(0, loaded.model.info().vocabulary().bosToken());
                texts.add(text);
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public List<float[]> embedBatched(LoadedModel loaded, EmbedTexts t, TokenCounter counter) {
        List<float[]> v = loaded.model.embedAllTokens(t.texts, Pooling.MEAN, true, BatchLimits.DEFAULT);
        counter.tokens += (long) BATCH * t.embedTokens;
        return v;
    }

    @Benchmark
    public float[] embed(EmbedSession s, TokenCounter counter) {
        float[] v = s.session.embed(s.text, Pooling.MEAN, true);
        counter.tokens += s.text.length;
        return v;
    }
}
