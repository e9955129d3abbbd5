package io.github.mobilellm4j.jmh;

import io.github.mobilellm4j.convert.OutputType;
import io.github.mobilellm4j.convert.Shape;
import io.github.mobilellm4j.convert.SyntheticModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The benchmark models: synthetic GGUF files of the exact MobileLLM shapes, made and cached by
 * {@link SyntheticModels} (which {@code mobilellm bench --shape} uses too).
 *
 * <p>Cache folder: system property {@value #CACHE_PROPERTY}, else environment variable {@value #CACHE_ENV},
 * else {@code ~/.cache/mobilellm4j/bench}.
 */
public final class BenchModels {
    public static final String CACHE_PROPERTY = "mobilellm.bench.cache";
    public static final String CACHE_ENV = SyntheticModels.CACHE_ENV;

    private BenchModels() {
    }

    /** The cache folder (created if missing). */
    public static Path cacheDir() {
        String dir = System.getProperty(CACHE_PROPERTY);
        Path p = dir == null || dir.isBlank() ? SyntheticModels.defaultCache() : Path.of(dir).toAbsolutePath();
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
        return SyntheticModels.ggufPath(cacheDir(), shape(shape), type(type));
    }

    /**
     * The GGUF of this shape and weight type, created (synthetic checkpoint, then conversion) when missing.
     * Safe to call from concurrent JVMs.
     */
    public static Path model(String shape, String type) {
        return SyntheticModels.model(cacheDir(), shape(shape), type(type), BenchModels::log);
    }

    /** "125M" becomes "125m", "1.5B" becomes "1_5b". */
    static String fileLabel(Shape s) {
        return SyntheticModels.fileLabel(s);
    }

    static void log(String message) {
        System.err.println("[mobilellm4j-bench] " + message);
    }
}
