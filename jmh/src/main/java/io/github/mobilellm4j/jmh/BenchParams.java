package io.github.mobilellm4j.jmh;

import io.github.mobilellm4j.Backend;
import io.github.mobilellm4j.ModelOptions;
import java.nio.file.Path;
import java.util.Locale;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The parameters every model benchmark shares, and the model file they select. Benchmark scope: one per
 * trial, shared by all benchmark threads. Setup makes the synthetic GGUF on first use (see {@link BenchModels}).
 *
 * <ul>
 *   <li>{@code shape}: every MobileLLM shape, 125M, 350M, 600M, 1B and 1.5B; a few with {@code -p shape=125M,350M}
 *       (the larger files take minutes to make the first time and up to 3.2 GB of disk at F16);</li>
 *   <li>{@code type}: weight type of the file, F16, Q8_0 and Q4_0 by default; any other type the converter
 *       can write (BF16, F32, ...) with {@code -p type=...};</li>
 *   <li>{@code threads}: engine threads, a number or {@code all} (the engine's default: every core);
 *       {@code -p threads=1,2,all};</li>
 *   <li>{@code backend}: CPU; VULKAN or AUTO where a GPU backend is built in.</li>
 * </ul>
 */
@State(Scope.Benchmark)
public class BenchParams {
    @Param({"125M", "350M", "600M", "1B", "1.5B"})
    public String shape;

    @Param({"F16", "Q8_0", "Q4_0"})
    public String type;

    @Param({"1", "all"})
    public String threads;

    @Param({"CPU"})
    public String backend;

    /** The GGUF file of this shape and type. */
    public Path path;

    @Setup(Level.Trial)
    public void resolve() {
        path = BenchModels.model(shape, type);
    }

    /** Engine thread count: 0 means every core. */
    public int threadCount() {
        return parseThreads(threads);
    }

    public Backend backendValue() {
        return Backend.valueOf(backend.trim().toUpperCase(Locale.ROOT));
    }

    public ModelOptions modelOptions(boolean memoryMap) {
        return ModelOptions.builder().threads(threadCount()).memoryMap(memoryMap).backend(backendValue()).build();
    }

    static int parseThreads(String threads) {
        String t = threads.trim().toLowerCase(Locale.ROOT);
        if (t.equals("all") || t.equals("0")) return 0;
        int n = Integer.parseInt(t);
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1 or 'all', got " + threads);
        return n;
    }
}
