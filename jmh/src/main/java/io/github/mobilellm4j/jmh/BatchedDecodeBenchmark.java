package io.github.mobilellm4j.jmh;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Scheduler;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.SessionOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
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
 * Aggregate decode speed of {@code sequences} users served together by a {@link Scheduler} (continuous
 * batching): the figure a multi-user service cares about. Each session holds its own {@code promptTokens}-token
 * prompt, evaluated once at setup; each operation rewinds every session to the end of its prompt and generates
 * {@code genTokens} tokens in each, all at once (greedy, EOS ignored), so every step is one forward pass over
 * {@code sequences} tokens. Read the secondary result {@code decode:tokens}: generated tokens/s of all sequences
 * together. {@code sequences = 1} is the single-user rate through the same path.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = BenchDefaults.NATIVE_ACCESS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class BatchedDecodeBenchmark {

    @State(Scope.Thread)
    public static class Users {
        @Param({"1", "2", "4", "8", "16"})
        public int sequences;

        @Param({"128"})
        public int promptTokens;

        @Param({"64"})
        public int genTokens;

        final List<Session> sessions = new ArrayList<>();
        final List<CompletableFuture<Generation>> running = new ArrayList<>();
        Scheduler scheduler;
        int[] next;
        GenerateOptions options;

        @Setup(Level.Trial)
        public void setUp(LoadedModel loaded) {
            int vocab = loaded.model.info().vocabulary().size();
            for (int i = 0; i < sequences; i++) {
                Session s = loaded.model.newSession(SessionOptions.builder()
                        .contextLength(promptTokens + genTokens + 16)
                        .batchSize(Math.max(1, promptTokens))
                        .build());
                s.prefill(BenchDefaults.tokens(promptTokens, vocab, 1 + i));
                sessions.add(s);
            }
            scheduler = Scheduler.create(loaded.model, sequences, Math.max(sequences, 256));
            next = BenchDefaults.tokens(1, vocab, 2);
            options = GenerateOptions.builder().maxTokens(genTokens).greedy().ignoreEos(true).build();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            scheduler.close();
            sessions.forEach(Session::close);
        }
    }

    @Benchmark
    public int decode(Users u, TokenCounter counter) {
        u.running.clear();
        for (Session s : u.sessions) {
            s.truncate(u.promptTokens);
            u.running.add(u.scheduler.submit(s, u.next, u.options, null));
        }
        int tokens = 0;
        for (CompletableFuture<Generation> f : u.running) tokens += f.join().tokens().length;
        counter.tokens += tokens;
        return tokens;
    }
}
