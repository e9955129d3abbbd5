package io.github.mobilellm4j.convert;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Synthetic GGUF models of the exact MobileLLM shapes for benchmarks, cached in a folder: a random-weight
 * checkpoint ({@link SyntheticCheckpoint}) converted with {@link Converter}. Speed does not depend on the values
 * of the weights, so these files measure what the real models would.
 *
 * <p>The folder holds one synthetic Hugging Face folder per shape ({@code mobilellm-125m-synthetic-v1/}) and
 * one GGUF per shape and weight type ({@code mobilellm-125m-q8_0-v1.gguf}). Files are written to temporary names
 * and renamed, and creation runs under a file lock, so processes that start together build each file once.
 * {@code mobilellm bench --shape} and the JMH suite share the default folder.
 */
public final class SyntheticModels {
    /** Environment variable naming the cache folder. */
    public static final String CACHE_ENV = "MOBILELLM_BENCH_CACHE";
    /** Seed of the synthetic weights (any value gives the same speed; fixed so files are reproducible). */
    public static final long SEED = 20241028L;
    /** Bumped when the way files are made changes, so stale caches are not reused. */
    static final int LAYOUT_VERSION = 1;

    /** Serialises creation inside one JVM (a FileLock is per process and throws when taken twice). */
    private static final ReentrantLock JVM_LOCK = new ReentrantLock();

    private SyntheticModels() {
    }

    /** The default cache folder: {@value #CACHE_ENV}, else {@code ~/.cache/mobilellm4j/bench}. */
    public static Path defaultCache() {
        return defaultCache(System.getenv());
    }

    /** The default cache folder under these environment variables. */
    public static Path defaultCache(Map<String, String> env) {
        String dir = env.get(CACHE_ENV);
        if (dir == null || dir.isBlank()) dir = System.getProperty("user.home") + "/.cache/mobilellm4j/bench";
        return Path.of(dir).toAbsolutePath();
    }

    /** Where the GGUF of this shape and type lives in the cache (whether or not it exists yet). */
    public static Path ggufPath(Path cache, Shape shape, OutputType type) {
        return cache.resolve("mobilellm-" + fileLabel(shape) + "-" + type.lowerName() + "-v" + LAYOUT_VERSION + ".gguf");
    }

    /**
     * The GGUF of this shape and weight type in the cache, created (synthetic checkpoint, then conversion) when
     * missing; log receives a line per step taken. Safe to call from concurrent JVMs.
     */
    public static Path model(Path cache, Shape shape, OutputType type, Consumer<String> log) {
        Path gguf = ggufPath(cache, shape, type);
        if (Files.isRegularFile(gguf)) return gguf;
        JVM_LOCK.lock();
        try {
            Files.createDirectories(cache);
            try (FileChannel lockFile = FileChannel.open(cache.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = lockFile.lock()) {
                if (Files.isRegularFile(gguf)) return gguf; // another JVM made it while we waited
                Path hf = syntheticCheckpoint(cache, shape, log);
                long t0 = System.nanoTime();
                log.accept("converting " + hf.getFileName() + " to " + type.lowerName() + " -> " + gguf);
                Converter.convert(hf, gguf, ConvertOptions.defaults().withType(type).withForce(true).withListener(new WarningsTo(log)));
                log.accept(String.format(Locale.ROOT, "%s ready (%.1f MB, %.1f s)", gguf.getFileName(), Files.size(gguf) / 1e6,
                        (System.nanoTime() - t0) / 1e9));
                return gguf;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create benchmark model " + gguf, e);
        } catch (ConversionException e) {
            throw new IllegalStateException("cannot create benchmark model " + gguf + ": " + e.getMessage(), e);
        } finally {
            JVM_LOCK.unlock();
        }
    }

    /** The synthetic Hugging Face folder of a shape; caller holds the lock. */
    private static Path syntheticCheckpoint(Path cache, Shape s, Consumer<String> log) throws ConversionException, IOException {
        // the folder name becomes general.name of the GGUF files
        Path dir = cache.resolve("mobilellm-" + fileLabel(s) + "-synthetic-v" + LAYOUT_VERSION);
        Path done = dir.resolve(".complete");
        if (Files.isRegularFile(done)) return dir;
        long t0 = System.nanoTime();
        log.accept("writing synthetic " + s.name() + " checkpoint -> " + dir);
        SyntheticCheckpoint.write(s, false, dir, SEED, true);
        Files.writeString(done, "seed " + SEED + "\n");
        log.accept(String.format(Locale.ROOT, "synthetic %s checkpoint ready (%.1f s)", s.name(), (System.nanoTime() - t0) / 1e9));
        return dir;
    }

    /** "125M" becomes "125m", "1.5B" becomes "1_5b". */
    public static String fileLabel(Shape s) {
        return s.name().toLowerCase(Locale.ROOT).replace('.', '_');
    }

    /** Passes the converter's warnings on; conversions are routine here, so its progress is not shown. */
    private record WarningsTo(Consumer<String> log) implements ProgressListener {
        @Override
        public void warn(String message) {
            log.accept("converter warning: " + message);
        }
    }
}
