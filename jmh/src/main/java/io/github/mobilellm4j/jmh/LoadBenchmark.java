package io.github.mobilellm4j.jmh;

import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelInfo;
import java.nio.file.Path;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Model load time (average, milliseconds): {@code Model.load} plus {@code close}, memory-mapped
 * ({@code mmap=true}: validation and mapping, the pages are touched later by inference) or read into memory
 * ({@code mmap=false}: the whole file is copied). Warm page cache: the warm-up iterations read the file first,
 * so this is the time of a load that does not wait for the disk.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = BenchDefaults.NATIVE_ACCESS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class LoadBenchmark {

    @State(Scope.Benchmark)
    public static class LoadParams {
        @Param({"125M", "350M", "600M", "1B", "1.5B"})
        public String shape;

        @Param({"F16", "Q8_0", "Q4_0"})
        public String type;

        @Param({"true", "false"})
        public boolean mmap;

        Path path;

        @Setup(Level.Trial)
        public void resolve() {
            path = BenchModels.model(shape, type);
        }
    }

    @Benchmark
    public ModelInfo load(LoadParams p) {
        try (Model model = Model.load(p.path, io.github.mobilellm4j.ModelOptions.builder().memoryMap(p.mmap).build())) {
            return model.info();
        }
    }
}
