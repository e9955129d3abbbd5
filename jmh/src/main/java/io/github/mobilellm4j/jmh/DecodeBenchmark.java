package io.github.mobilellm4j.jmh;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.SessionOptions;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Decode speed at batch 1, the number people quote as "tokens/s": steady-state generation after a prompt.
 *
 * <p>The session holds a {@code promptTokens}-token prompt, evaluated once at setup. Each operation rewinds the
 * sequence to the end of that prompt and generates {@code genTokens} tokens through the public API
 * ({@code Session.generate}, greedy sampling, EOS ignored): every token is one single-token forward pass,
 * sampling and incremental detokenization, so every operation does the same work at the same positions.
 * Read the secondary result {@code decode:tokens} (tokens/s); the primary score is operations/s.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = BenchDefaults.NATIVE_ACCESS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class DecodeBenchmark {

    @State(Scope.Thread)
    public static class DecodeSession {
        @Param({"128"})
        public int promptTokens;

        @Param({"64"})
        public int genTokens;

        Session session;
        int[] next;
        GenerateOptions options;

        @Setup(Level.Trial)
        public void setUp(LoadedModel loaded) {
            int vocab = loaded.model.info().vocabulary().size();
            session = loaded.model.newSession(SessionOptions.builder()
                    .contextLength(promptTokens + genTokens + 16)
                    .batchSize(Math.max(1, promptTokens))
                    .build());
            int[] prompt = BenchDefaults.tokens(promptTokens, vocab, 1);
            session.prefill(prompt);
            next = BenchDefaults.tokens(1, vocab, 2);
            options = GenerateOptions.builder().maxTokens(genTokens).greedy().ignoreEos(true).build();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            session.close();
        }
    }

    @Benchmark
    public Generation decode(DecodeSession s, TokenCounter counter) {
        s.session.truncate(s.promptTokens);
        Generation g = s.session.generate(s.next, s.options, null);
        counter.tokens += g.tokens().length;
        return g;
    }
}
