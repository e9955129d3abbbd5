package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.*;

import java.lang.foreign.Arena;
import java.util.Objects;

/**
 * The native engine in this JVM: its version and the CPU kernels it runs. Any method loads the
 * native library first (see {@code io.github.mobilellm4j.bindings.NativeLibrary}).
 */
public final class Engine {
    private Engine() {
    }

    /** The engine library's version, e.g. {@code 0.1.0}. */
    public static String version() {
        return Native.string(mllm_version());
    }

    /** The CPU features the engine detected, e.g. {@code sse4.2 avx avx2 fma f16c}. */
    public static String cpuFeatures() {
        return Native.string(mllm_cpu_features());
    }

    /** The kernel level in use: {@code scalar}, {@code avx2}, {@code avxvnni} (AVX2 with AVX-VNNI, no AVX-512),
     * {@code avx512}, {@code avx512vnni}, {@code amx}, {@code neon} or {@code neon-dotprod}. */
    public static String cpuLevel() {
        return Native.string(mllm_cpu_level());
    }

    /**
     * Uses a lower kernel level (no higher than the CPU supports) from now on, e.g. to compare results.
     *
     * @throws MobileLlmException if the level is unknown or this CPU does not support it
     */
    public static void setCpuLevel(String level) {
        Objects.requireNonNull(level, "level");
        try (Arena arena = Arena.ofConfined()) {
            Native.check(mllm_set_cpu_level(arena.allocateFrom(level)), "set CPU level '" + level + "'");
        }
    }
}
