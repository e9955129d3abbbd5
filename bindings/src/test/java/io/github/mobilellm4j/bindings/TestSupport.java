package io.github.mobilellm4j.bindings;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

final class TestSupport {
    private TestSupport() {
    }

    /** The bundled library of this platform (from the mobilellm4j-native module). */
    static byte[] bundledLibrary() throws IOException {
        try (InputStream in = NativeLibrary.class.getClassLoader().getResourceAsStream(NativeLibrary.resourcePath())) {
            assertThat(in).as("mobilellm4j-native must be on the test class path with " + NativeLibrary.resourcePath())
                    .isNotNull();
            return in.readAllBytes();
        }
    }

    /** Copies the bundled library to dir/name and returns the path. */
    static Path copyOfBundledLibrary(Path dir, String name) throws IOException {
        Files.createDirectories(dir);
        Path p = dir.resolve(name);
        Files.write(p, bundledLibrary());
        return p;
    }
}
