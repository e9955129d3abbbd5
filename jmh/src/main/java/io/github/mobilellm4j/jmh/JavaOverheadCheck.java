package io.github.mobilellm4j.jmh;

import static io.github.mobilellm4j.bindings.mobilellm_h.*;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.SessionOptions;
import io.github.mobilellm4j.bindings.mllm_model_params;
import io.github.mobilellm4j.bindings.mllm_sampler_params;
import io.github.mobilellm4j.bindings.mllm_session_params;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Interleaved A/B of Session.generate (the engine's loop stepped from Java) against mllm_generate (the same loop
 * run to the end in one call) in one JVM: the same 16-token prompt and
 * 64 greedy tokens through mllm_generate (called through the bindings, on a second copy of the model) and
 * Session.generate (per-token callback), alternating which goes first, medians of 15 after 50 warm-ups.
 * Complements JavaOverheadBenchmark, whose separate forks are more exposed to machine noise.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp jmh/target/benchmarks.jar io.github.mobilellm4j.jmh.JavaOverheadCheck MODEL.gguf THREADS</pre>
 */
public class JavaOverheadCheck {
    /** Warm-up generations per side: enough calls (over 3000 tokens) for the JIT to compile the Java side
     * and its downcalls; interpreted FFM downcalls cost tens of microseconds each. */
    private static final int WARMUP = 50;

    /**
     * The engine's own loop, with the work Session.generate does per call around it: a fresh greedy sampler and
     * streaming detokenizer, every token's text decoded (after the loop: no Java runs between tokens).
     */
    private static final class EngineLoop implements AutoCloseable {
        private final Arena arena = Arena.ofConfined();
        private final MemorySegment model;
        private final MemorySegment session;
        /** The last generation's text (kept so that decoding it cannot be optimised away). */
        String lastText;

        EngineLoop(Path file, int threads, int contextLength) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            MemorySegment mp = mllm_model_params.allocate(arena);
            mllm_model_params_init(mp);
            mllm_model_params.n_threads(mp, threads);
            check(mllm_model_load(arena.allocateFrom(file.toString()), mp, out), "load");
            model = out.get(ValueLayout.ADDRESS, 0);
            MemorySegment sp = mllm_session_params.allocate(arena);
            mllm_session_params_init(sp);
            mllm_session_params.n_ctx(sp, contextLength);
            check(mllm_session_create(model, sp, out), "session");
            session = out.get(ValueLayout.ADDRESS, 0);
        }

        double timeMs(int[] prompt, int maxTokens, int vocab) {
            check(mllm_session_reset(session), "reset");
            long t0 = System.nanoTime();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment handle = a.allocate(ValueLayout.ADDRESS);
                MemorySegment p = mllm_sampler_params.allocate(a);
                mllm_sampler_params_init(p);
                mllm_sampler_params.greedy(p, 1);
                check(mllm_sampler_create(p, vocab, handle), "sampler");
                MemorySegment sampler = handle.get(ValueLayout.ADDRESS, 0);
                check(mllm_detokenizer_create(model, 0, handle), "detokenizer");
                MemorySegment detok = handle.get(ValueLayout.ADDRESS, 0);
                MemorySegment tokens = a.allocate(ValueLayout.JAVA_INT, maxTokens);
                MemorySegment n = a.allocate(ValueLayout.JAVA_INT);
                check(mllm_generate(session, sampler, a.allocateFrom(ValueLayout.JAVA_INT, prompt), prompt.length,
                        maxTokens, 1, tokens, n, MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL), "generate");
                MemorySegment buf = a.allocate(256);
                ByteArrayOutputStream text = new ByteArrayOutputStream();
                for (int i = 0; i < n.get(ValueLayout.JAVA_INT, 0); i++) {
                    int len = mllm_detokenizer_push(detok, tokens.getAtIndex(ValueLayout.JAVA_INT, i), buf, 256);
                    text.write(buf.asSlice(0, Math.max(0, len)).toArray(ValueLayout.JAVA_BYTE), 0, Math.max(0, len));
                }
                lastText = text.toString(StandardCharsets.UTF_8);
                mllm_detokenizer_free(detok);
                mllm_sampler_free(sampler);
            }
            return (System.nanoTime() - t0) / 1e6;
        }

        private static void check(int status, String what) {
            if (status != MLLM_OK()) {
                throw new IllegalStateException(what + ": " + mllm_last_error().reinterpret(Long.MAX_VALUE).getString(0));
            }
        }

        @Override
        public void close() {
            mllm_session_free(session);
            mllm_model_free(model);
            arena.close();
        }
    }

    private static double timeJava(Session s, int[] prompt, GenerateOptions o) {
        s.reset();
        long t0 = System.nanoTime();
        s.generate(prompt, o, t -> {});
        return (System.nanoTime() - t0) / 1e6;
    }

    public static void main(String[] a) {
        if (a.length != 2) {
            System.err.println("usage: JavaOverheadCheck MODEL.gguf THREADS");
            System.exit(2);
        }
        int threads = Integer.parseInt(a[1]);
        try (Model m = Model.load(Path.of(a[0]), ModelOptions.builder().threads(threads).build());
             Session s = m.newSession(SessionOptions.builder().contextLength(256).build());
             EngineLoop engine = new EngineLoop(Path.of(a[0]), threads, 256)) {
            int[] prompt = new int[16];
            for (int i = 0; i < 16; i++) prompt[i] = 100 + i * 37;
            GenerateOptions o = GenerateOptions.builder().greedy().ignoreEos(true).maxTokens(64).build();
            int reps = 15;
            double[] c = new double[reps], j = new double[reps];
            for (int r = -WARMUP; r < reps; r++) {
                // the order alternates (C first, then Java first): the second run of a pair is measurably
                // faster on this machine, which would otherwise count as Java overhead or gain
                double tc = 0, tj = 0;
                for (int k = 0; k < 2; k++) {
                    if ((r + k) % 2 == 0) tc = engine.timeMs(prompt, o.maxTokens(), m.info().vocabulary().size());
                    else tj = timeJava(s, prompt, o);
                }
                if (r >= 0) { c[r] = tc; j[r] = tj; }
            }
            Arrays.sort(c); Arrays.sort(j);
            System.out.printf("threads %d: mllm_generate median %.2f ms, Session.generate median %.2f ms per 16+64 tokens -> %+.2f%% (%.1f us/token)%n",
                threads, c[reps / 2], j[reps / 2], 100 * (j[reps / 2] / c[reps / 2] - 1), 1000 * (j[reps / 2] - c[reps / 2]) / 64);
        }
    }
}
