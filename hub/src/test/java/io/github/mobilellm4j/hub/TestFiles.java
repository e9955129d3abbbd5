package io.github.mobilellm4j.hub;

import io.github.mobilellm4j.convert.ConvertOptions;
import io.github.mobilellm4j.convert.Converter;
import io.github.mobilellm4j.convert.OutputType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The repository's test checkpoints, and GGUF files converted from them once per build. */
final class TestFiles {
    private TestFiles() {
    }

    static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("testdata"))) p = p.getParent();
        if (p == null) throw new IllegalStateException("testdata/ not found above " + Path.of("").toAbsolutePath());
        return p;
    }

    static Path checkpoint(String name) {
        return repoRoot().resolve("testdata/checkpoints").resolve(name);
    }

    static synchronized Path gguf(String checkpoint, OutputType type) {
        Path out = Path.of("target", "test-models", checkpoint + "-" + type.lowerName() + ".gguf").toAbsolutePath();
        if (Files.isRegularFile(out)) return out;
        try {
            Files.createDirectories(out.getParent());
            Converter.convert(checkpoint(checkpoint), out, ConvertOptions.defaults().withType(type));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException("converting " + checkpoint + " failed: " + e.getMessage(), e);
        }
        return out;
    }
}
