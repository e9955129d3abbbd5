package io.github.mobilellm4j.bindings.internal;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.FindException;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReader;
import java.lang.module.ModuleReference;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

/**
 * Files that travel inside other jars (a platform's native library, the demo model): found on the
 * class path or the module path, and copied to a cache folder once.
 *
 * <p>On the module path the JVM resolves only modules that something requires. The native and demo
 * jars are required by nothing (an application picks them by adding the dependency), so when the
 * class loader does not see a resource this class also opens the jar of the named module on the
 * module path ({@code jdk.module.path}) directly. Not part of the API: the package is exported to
 * the module {@code io.github.mobilellm4j} only.
 */
public final class BundledResources {
    private BundledResources() {
    }

    /** A resource's bytes and where they came from (for messages). */
    public record Found(byte[] bytes, String origin) {
    }

    /**
     * Reads a resource through the class loader, else from the jar of module {@code moduleName} on
     * {@code modulePath} (the value of {@code jdk.module.path}, null when not on the module path).
     *
     * @return empty when neither has it
     * @throws IOException when it exists but cannot be read
     */
    public static Optional<Found> read(ClassLoader loader, String resource, String moduleName, String modulePath)
            throws IOException {
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in != null) {
                return Optional.of(new Found(in.readAllBytes(), "class path resource " + resource));
            }
        }
        Optional<ModuleReference> module = moduleOnPath(moduleName, modulePath);
        if (module.isEmpty()) {
            return Optional.empty();
        }
        try (ModuleReader reader = module.get().open(); InputStream in = reader.open(resource).orElse(null)) {
            if (in == null) {
                return Optional.empty();
            }
            return Optional.of(new Found(in.readAllBytes(), "resource " + resource + " of module " + moduleName + " ("
                    + module.get().location().map(Object::toString).orElse("module path") + ")"));
        }
    }

    /** The module named {@code name} among the jars and folders of {@code modulePath}, resolved or not. */
    static Optional<ModuleReference> moduleOnPath(String name, String modulePath) {
        if (modulePath == null || modulePath.isBlank()) {
            return Optional.empty();
        }
        try {
            Path[] entries = Arrays.stream(modulePath.split(java.io.File.pathSeparator))
                    .filter(e -> !e.isBlank()).map(Path::of).toArray(Path[]::new);
            return ModuleFinder.of(entries).find(name);
        } catch (FindException | InvalidPathException e) {
            return Optional.empty(); // a module path the JVM itself accepted; anything odd here means "not found"
        }
    }

    /**
     * The cache folder: the system property's value, else the environment variable's, else
     * {@code <userHome>/.cache/mobilellm4j}.
     */
    public static Path cacheRoot(String propertyValue, String envValue, String userHome) {
        if (propertyValue != null && !propertyValue.isBlank()) {
            return Path.of(propertyValue.trim());
        }
        if (envValue != null && !envValue.isBlank()) {
            return Path.of(envValue.trim());
        }
        return Path.of(Objects.requireNonNullElse(userHome, "."), ".cache", "mobilellm4j");
    }

    /**
     * Makes {@code target} hold exactly {@code bytes}: an existing file with the same SHA-256 is kept;
     * otherwise the bytes go to a temporary file in the same folder, renamed into place, so JVMs
     * extracting at the same time never see a partial file.
     */
    public static void extract(byte[] bytes, Path target) throws IOException {
        if (Files.isRegularFile(target) && Files.size(target) == bytes.length
                && sha256(bytes).equals(sha256(Files.readAllBytes(target)))) {
            return;
        }
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, target.getFileName().toString() + ".", ".tmp");
        try {
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Lower-case hex SHA-256 of bytes. */
    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
