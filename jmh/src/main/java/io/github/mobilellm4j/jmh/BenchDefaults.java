package io.github.mobilellm4j.jmh;

/**
 * Settings shared by the benchmarks. The annotation defaults are the full profile: one fork of its own per
 * parameter combination, 3 warm-up iterations of 2 s (the JIT compiles the Java side of the decode loop and the
 * page cache holds the model file after the first), then 5 measured iterations of 2 s. The smoke profile
 * ({@link SmokeRun}) shortens them.
 */
public final class BenchDefaults {
    /** Flags of every forked benchmark JVM: FFM downcalls without warnings, and room for the Java side. */
    public static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";

    /** Fixed pseudo-random token ids (a linear congruential sequence, stable across JDKs). */
    static int[] tokens(int n, int vocab, long seed) {
        int[] ids = new int[n];
        long x = seed;
        for (int i = 0; i < n; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            // skip the first few ids: control and byte tokens
            ids[i] = 259 + (int) Long.remainderUnsigned(x >>> 17, vocab - 259);
        }
        return ids;
    }

    private BenchDefaults() {
    }
}
