package io.github.mobilellm4j.jmh;

import io.github.mobilellm4j.convert.ConversionException;
import io.github.mobilellm4j.convert.ConvertOptions;
import io.github.mobilellm4j.convert.Converter;
import io.github.mobilellm4j.convert.OutputType;
import io.github.mobilellm4j.convert.ProgressListener;
import io.github.mobilellm4j.convert.Shape;
import io.github.mobilellm4j.convert.SyntheticCheckpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The benchmark models: synthetic checkpoints of the exact MobileLLM shapes, converted to GGUF with the
 * project's converter, and cached between runs. Speed does not depend on the values of the weights, so these
 * files measure what the real models would.
 *
 * <p>Cache folder: system property {@value #CACHE_PROPERTY}, else environment variable {@value #CACHE_ENV},
 * else {@code ~/.cache/mobilellm4j/bench}. It holds one synthetic Hugging Face folder per shape
 * ({@code hf-125m/}) and one GGUF per shape and weight type ({@code mobilellm-125m-q8_0.gguf}). Files are
 * written to temporary names and renamed, and creation runs under a file lock, so benchmark forks (or
 * several JVMs) that start together build each file once.
 */
public final class BenchModels {
    public static final String CACHE_PROPERTY = "mobilellm.bench.cache";
    public static final String CACHE_ENV = "MOBILELLM_BENCH_CACHE";
    /** Seed of the synthetic weights (any value gives the same speed; fixed so files are reproducible). */
    public static final long SEED = 20241028L;
    /** Bumped when the way files are made changes, so stale caches are not reused. */
    static final int LAYOUT_VERSION = 1;

    /** Serialises creation inside one JVM (a FileLock is per process and throws when taken twice). */
    private static final ReentrantLock JVM_LOCK = new ReentrantLock();

    private BenchModels() {
    }

    /** The cache folder (created if missing). */
    public static Path cacheDir() {
        String dir = System.getProperty(CACHE_PROPERTY);
        if (dir == null || dir.isBlank()) dir = System.getenv(CACHE_ENV);
        if (dir == null || dir.isBlank()) dir = System.getProperty("user.home") + "/.cache/mobilellm4j/bench";
        Path p = Path.of(dir).toAbsolutePath();
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the benchmark model cache " + p, e);
        }
        return p;
    }

    /** Parses a shape label of a @Param ("125M", "350M", "600M", "1B", "1.5B"). */
    public static Shape shape(String label) {
        return Shape.preset(label);
    }

    /** Parses a weight type of a @Param ("F16", "Q8_0", "Q4_0", and any other type the converter knows). */
    public static OutputType type(String name) {
        return OutputType.parse(name);
    }

    /** Where the GGUF of this shape and type lives in the cache (whether or not it exists yet). */
    public static Path ggufPath(String shape, String type) {
        return cacheDir().resolve("mobilellm-" + fileLabel(shape(shape)) + "-" + type(type).lowerName() + "-v"
                + LAYOUT_VERSION + ".gguf");
    }

    /**
     * The GGUF of this shape and weight type, created (synthetic checkpoint, then conversion) when missing.
     * Safe to call from concurrent JVMs.
     */
    public static Path model(String shape, String type) {
        Shape s = shape(shape);
        OutputType t = type(type);
        Path gguf = ggufPath(shape, type);
        if (Files.isRegularFile(gguf)) return gguf;
        JVM_LOCK.lock();
        try (FileChannel lockFile = FileChannel.open(cacheDir().resolve(".lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
             FileLock ignored = lockFile.lock()) {
            if (Files.isRegularFile(gguf)) return gguf; // another JVM made it while we waited
            Path hf = syntheticCheckpoint(s);
            long t0 = System.nanoTime();
            log("converting " + hf.getFileName() + " to " + t.lowerName() + " -> " + gguf);
            Converter.convert(hf, gguf, ConvertOptions.defaults().withType(t).withForce(true)
                    .withListener(new Log()));
            log(String.format(Locale.ROOT, "%s ready (%.1f MB, %.1f s)", gguf.getFileName(), Files.size(gguf) / 1e6,
                    (System.nanoTime() - t0) / 1e9));
            return gguf;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create benchmark model " + gguf, e);
        } catch (ConversionException e) {
            throw new IllegalStateException("cannot create benchmark model " + gguf + ": " + e.getMessage(), e);
        } finally {
            JVM_LOCK.unlock();
        }
    }

    /** The synthetic Hugging Face folder of a shape; caller holds the lock. */
    private static Path syntheticCheckpoint(Shape s) throws ConversionException, IOException {
        // the folder name becomes general.name of the GGUF files
        Path dir = cacheDir().resolve("mobilellm-" + fileLabel(s) + "-synthetic-v" + LAYOUT_VERSION);
        Path done = dir.resolve(".complete");
        if (Files.isRegularFile(done)) return dir;
        long t0 = System.nanoTime();
        log("writing synthetic " + s.name() + " checkpoint -> " + dir);
        SyntheticCheckpoint.write(s, false, dir, SEED, true);
        Files.writeString(done, "seed " + SEED + "\n");
        log(String.format(Locale.ROOT, "synthetic %s checkpoint ready (%.1f s)", s.name(), (System.nanoTime() - t0) / 1e9));
        return dir;
    }

    /** "125M" becomes "125m", "1.5B" becomes "1_5b". */
    static String fileLabel(Shape s) {
        return s.name().toLowerCase(Locale.ROOT).replace('.', '_');
    }

    static void log(String message) {
        System.err.println("[mobilellm4j-bench] " + message);
    }

    /** Prints warnings only: conversions are routine here. */
    private static final class Log implements ProgressListener {
        @Override
        public void warn(String message) {
            log("converter warning: " + message);
        }
    }
}
