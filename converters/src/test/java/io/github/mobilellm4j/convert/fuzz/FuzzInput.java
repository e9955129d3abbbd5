package io.github.mobilellm4j.convert.fuzz;

import io.github.mobilellm4j.convert.ConversionException;
import io.github.mobilellm4j.convert.hf.SourceTensor;
import io.github.mobilellm4j.convert.hf.WeightSet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the fuzz targets share. Their contract: any input either parses or fails with a ConversionException;
 * any other exception or error (index out of bounds, arithmetic overflow, StackOverflowError,
 * OutOfMemoryError, a hang) is a finding.
 *
 * <p>{@code mvn verify} runs every target over its committed inputs (resources {@code <Class>Inputs/<method>/}:
 * small valid files plus every input a fuzzing run found); {@code ci/fuzz-java.sh SECONDS} fuzzes each target
 * for that long (Jazzer with {@code JAZZER_FUZZ=1}).
 */
final class FuzzInput {
    /** The readers take paths: each input is written to one reused file per target in here. */
    private static final Path DIR = makeDir();

    private FuzzInput() {
    }

    private static Path makeDir() {
        try {
            Path d = Files.createTempDirectory("mobilellm-fuzz");
            d.toFile().deleteOnExit();
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The input as a file (deleted when the JVM exits). */
    static Path file(String name, byte[] data) {
        try {
            Path f = Files.write(DIR.resolve(name), data);
            f.toFile().deleteOnExit();
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads one byte per page and the last one, so that a slice past the end of a file cannot go unnoticed. */
    static long touch(MemorySegment s) {
        long sum = 0;
        for (long i = 0; i < s.byteSize(); i += 4096) sum += s.get(ValueLayout.JAVA_BYTE, i);
        return s.byteSize() == 0 ? sum : sum + s.get(ValueLayout.JAVA_BYTE, s.byteSize() - 1);
    }

    /** Opens every tensor of a weight set the way the converter does. */
    static void readAll(WeightSet ws) throws ConversionException {
        for (SourceTensor t : ws.tensors().values()) {
            try (Arena a = Arena.ofConfined()) {
                touch(t.open(a));
            }
        }
    }
}
