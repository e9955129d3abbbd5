package io.github.mobilellm4j.jmh;

import io.github.mobilellm4j.Logits;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * Prompt processing speed: each operation evaluates a whole prompt of {@code promptLength} tokens from an empty
 * sequence in one batch, with the last token's logits (what generation needs next). Read the secondary result
 * {@code prompt:tokens} (tokens/s).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = BenchDefaults.NATIVE_ACCESS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class PromptBenchmark {

    @State(Scope.Thread)
    public static class PromptSession {
        @Param({"32", "128", "512"})
        public int promptLength;

        Session session;
        int[] prompt;

        @Setup(Level.Trial)
        public void setUp(LoadedModel loaded) {
            prompt = BenchDefaults.tokens(promptLength, loaded.model.info().vocabulary().size(), 3);
            session = loaded.model.newSession(SessionOptions.builder()
                    .contextLength(promptLength + 16)
                    .batchSize(promptLength)
                    .build());
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            session.close();
        }
    }

    @Benchmark
    public void prompt(PromptSession s, TokenCounter counter, Blackhole bh) {
        s.session.reset();
        Logits logits = s.session.eval(s.prompt);
        bh.consume(logits.get(0, 0));
        counter.tokens += s.prompt.length;
    }
}
