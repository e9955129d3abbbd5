package io.github.mobilellm4j.jmh;

import static io.github.mobilellm4j.bindings.mobilellm_h.*;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.SessionOptions;
import io.github.mobilellm4j.bindings.mllm_model_info;
import io.github.mobilellm4j.bindings.mllm_model_params;
import io.github.mobilellm4j.bindings.mllm_sampler_params;
import io.github.mobilellm4j.bindings.mllm_session_params;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * What the Java layer costs. Both benchmarks do the same work on the same file with the same threads: from an
 * empty sequence, evaluate a {@code overheadPrompt}-token prompt and generate {@code genTokens} greedy tokens (EOS
 * ignored): each but the last is evaluated in a single-token forward pass (the last one's logits are never needed,
 * in both loops). The {@code :tokens} counters count those forward passes.
 * <ul>
 *   <li>{@code cLoop}: the engine's own loop, {@code mllm_generate} called once through the bindings with a NULL
 *       callback and a greedy sampler: no Java code runs between tokens;</li>
 *   <li>{@code javaApi}: {@code Session.generate} with a per-token {@code Consumer}: the same engine loop stepped
 *       from Java (one downcall per step, an upcall per token for its text and the stop strings, the callback).</li>
 * </ul>
 * The report turns the two into Java overhead per token, (1/javaApi - 1/cLoop) / genTokens, and a percentage.
 * Each benchmark runs in its own fork, so the two never share a JVM, a JIT profile or a thread pool.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = BenchDefaults.NATIVE_ACCESS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class JavaOverheadBenchmark {

    /** The shared workload definition. */
    @State(Scope.Benchmark)
    public static class Workload {
        @Param({"16"})
        public int overheadPrompt;

        @Param({"64"})
        public int genTokens;

        int[] prompt(int vocab) {
            return BenchDefaults.tokens(overheadPrompt, vocab, 5);
        }

        int contextLength() {
            return overheadPrompt + genTokens + 16;
        }
    }

    /** Model, session and sampler made directly through the bindings (no Java API object involved). */
    @State(Scope.Thread)
    public static class NativeLoop {
        private Arena arena;
        private MemorySegment model = MemorySegment.NULL;
        private MemorySegment session = MemorySegment.NULL;
        private MemorySegment sampler = MemorySegment.NULL;
        MemorySegment prompt;
        MemorySegment out;
        MemorySegment nOut;
        int promptLength;
        int genTokens;

        @Setup(Level.Trial)
        public void setUp(BenchParams params, Workload w) {
            arena = Arena.ofShared();
            MemorySegment mp = mllm_model_params.allocate(arena);
            mllm_model_params_init(mp);
            mllm_model_params.n_threads(mp, params.threadCount());
            mllm_model_params.use_mmap(mp, 1);
            mllm_model_params.backend(mp, backendCode(params.backend));
            MemorySegment handle = arena.allocate(ValueLayout.ADDRESS);
            check(mllm_model_load(arena.allocateFrom(params.path.toString()), mp, handle), "mllm_model_load");
            model = handle.get(ValueLayout.ADDRESS, 0);

            MemorySegment info = mllm_model_info.allocate(arena);
            check(mllm_model_get_info(model, info), "mllm_model_get_info");
            int vocab = mllm_model_info.n_vocab(info);

            MemorySegment sp = mllm_session_params.allocate(arena);
            mllm_session_params_init(sp);
            mllm_session_params.n_ctx(sp, w.contextLength());
            mllm_session_params.n_batch(sp, Math.max(1, w.overheadPrompt));
            check(mllm_session_create(model, sp, handle), "mllm_session_create");
            session = handle.get(ValueLayout.ADDRESS, 0);

            MemorySegment smp = mllm_sampler_params.allocate(arena);
            mllm_sampler_params_init(smp);
            mllm_sampler_params.greedy(smp, 1);
            check(mllm_sampler_create(smp, vocab, handle), "mllm_sampler_create");
            sampler = handle.get(ValueLayout.ADDRESS, 0);

            promptLength = w.overheadPrompt;
            genTokens = w.genTokens;
            prompt = arena.allocateFrom(ValueLayout.JAVA_INT, w.prompt(vocab));
            out = arena.allocate(ValueLayout.JAVA_INT, Math.max(1, genTokens));
            nOut = arena.allocate(ValueLayout.JAVA_INT);
        }

        int generate() {
            check(mllm_session_reset(session), "mllm_session_reset");
            check(mllm_generate(session, sampler, prompt, promptLength, genTokens, 1, out, nOut, MemorySegment.NULL,
                    MemorySegment.NULL, MemorySegment.NULL), "mllm_generate");
            return nOut.get(ValueLayout.JAVA_INT, 0);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            mllm_sampler_free(sampler);
            mllm_session_free(session);
            mllm_model_free(model);
            arena.close();
        }

        private static int backendCode(String backend) {
            return switch (backend.trim().toUpperCase(java.util.Locale.ROOT)) {
                case "CPU" -> MLLM_BACKEND_CPU();
                case "VULKAN" -> MLLM_BACKEND_VULKAN();
                case "AUTO" -> MLLM_BACKEND_AUTO();
                default -> throw new IllegalArgumentException("unknown backend " + backend);
            };
        }

        private static void check(int status, String what) {
            if (status != MLLM_OK()) {
                String msg = mllm_last_error().reinterpret(Long.MAX_VALUE).getString(0);
                throw new IllegalStateException(what + " failed: " + mllm_status_name(status)
                        .reinterpret(Long.MAX_VALUE).getString(0) + ": " + msg);
            }
        }
    }

    /** A session of the Java API over the trial's {@link LoadedModel}. */
    @State(Scope.Thread)
    public static class JavaLoop {
        Session session;
        int[] prompt;
        GenerateOptions options;

        @Setup(Level.Trial)
        public void setUp(LoadedModel loaded, Workload w) {
            session = loaded.model.newSession(SessionOptions.builder()
                    .contextLength(w.contextLength())
                    .batchSize(Math.max(1, w.overheadPrompt))
                    .build());
            prompt = w.prompt(loaded.model.info().vocabulary().size());
            options = GenerateOptions.builder().maxTokens(w.genTokens).greedy().ignoreEos(true).build();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            session.close();
        }
    }

    @Benchmark
    public void cLoop(NativeLoop loop, TokenCounter counter) {
        counter.tokens += loop.generate() - 1; // forward passes after the prompt
    }

    @Benchmark
    public Generation javaApi(JavaLoop loop, TokenCounter counter, Blackhole bh) {
        loop.session.reset();
        Generation g = loop.session.generate(loop.prompt, loop.options, bh::consume);
        counter.tokens += g.tokens().length - 1; // forward passes after the prompt, as in cLoop
        return g;
    }
}
