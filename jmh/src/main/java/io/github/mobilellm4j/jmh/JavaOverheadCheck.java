package io.github.mobilellm4j.jmh;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.SessionOptions;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Interleaved A/B of the Java decode loop against the engine's C loop on one model in one JVM: the same 16-token
 * prompt and 64 greedy tokens through Session.generateNative (mllm_generate) and Session.generate (per-token
 * callback), alternating which goes first, medians of 15 after 50 warm-ups. Complements JavaOverheadBenchmark, whose separate
 * forks are more exposed to machine noise.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp jmh/target/benchmarks.jar io.github.mobilellm4j.jmh.JavaOverheadCheck MODEL.gguf THREADS</pre>
 */
public class JavaOverheadCheck {
    /** Warm-up generations per side: enough calls (over 3000 tokens) for the JIT to compile the Java loop
     * and its downcalls; interpreted FFM downcalls cost tens of microseconds each. */
    private static final int WARMUP = 50;

    private static double timeNative(Session s, int[] prompt, GenerateOptions o) {
        s.reset();
        long t0 = System.nanoTime();
        s.generateNative(prompt, o);
        return (System.nanoTime() - t0) / 1e6;
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
             Session s = m.newSession(SessionOptions.builder().contextLength(256).build())) {
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
                    if ((r + k) % 2 == 0) tc = timeNative(s, prompt, o);
                    else tj = timeJava(s, prompt, o);
                }
                if (r >= 0) { c[r] = tc; j[r] = tj; }
            }
            Arrays.sort(c); Arrays.sort(j);
            System.out.printf("threads %d: C loop median %.2f ms, Java loop median %.2f ms per 16+64 tokens -> %+.2f%% (%.1f us/token)%n",
                threads, c[reps / 2], j[reps / 2], 100 * (j[reps / 2] / c[reps / 2] - 1), 1000 * (j[reps / 2] - c[reps / 2]) / 64);
        }
    }
}
