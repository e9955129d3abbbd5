package io.github.mobilellm4j.bindings;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;

/**
 * Finds and loads libmobilellm, once per class loader, before the first downcall.
 *
 * <p>Where the library comes from, first match wins:
 * <ol>
 *   <li>system property {@value #LIBRARY_PATH_PROPERTY}: path of a library file;</li>
 *   <li>environment variable {@value #LIBRARY_PATH_ENV}: path of a library file;</li>
 *   <li>the class path resource {@code io/github/mobilellm4j/native/<platform>/<libname>} (the
 *       mobilellm4j-native jar), copied to a cache folder and loaded from there. The folder is
 *       {@value #CACHE_DIR_PROPERTY} / {@value #CACHE_DIR_ENV} when set, else
 *       {@code ~/.cache/mobilellm4j}, plus a sub-folder {@code <version>-<content hash>}. The copy
 *       is written to a temporary file and renamed into place, so JVMs starting together are
 *       safe, and an existing copy is reused only if its content hash matches.</li>
 * </ol>
 * A path given explicitly (1 or 2) that cannot be used is an error; there is no silent fallback.
 *
 * <p>After {@link System#load} the library's {@code mllm_abi_version()} must equal the
 * {@code MLLM_ABI_VERSION} these bindings were generated from. A failed {@link #load()} leaves no
 * state behind: the next call searches again.
 *
 * <p>The generated {@link mobilellm_h} calls {@link #load()} from its static initializer, so any
 * downcall loads the library first. If that fails, the first use of {@code mobilellm_h} throws
 * this class's {@link UnsatisfiedLinkError} and later uses {@link NoClassDefFoundError}; callers
 * that want to report the problem and go on should call {@link #load()} first.
 */
public final class NativeLibrary {

    /** System property: path of the library file to load. */
    public static final String LIBRARY_PATH_PROPERTY = "mobilellm.library.path";
    /** Environment variable: path of the library file to load. */
    public static final String LIBRARY_PATH_ENV = "MOBILELLM_LIBRARY_PATH";
    /** System property: folder where the bundled library is extracted. */
    public static final String CACHE_DIR_PROPERTY = "mobilellm.cache.dir";
    /** Environment variable: folder where the bundled library is extracted. */
    public static final String CACHE_DIR_ENV = "MOBILELLM_CACHE_DIR";
    /** Class path folder holding one sub-folder per platform id. */
    public static final String RESOURCE_ROOT = "io/github/mobilellm4j/native/";

    private static final String LIBRARY_NAME = "mobilellm";
    private static final String VERSION_RESOURCE = "io/github/mobilellm4j/bindings/mobilellm4j-bindings.properties";

    private static final Object LOCK = new Object();
    private static volatile Loaded loaded;

    private NativeLibrary() {
    }

    /** Where the library was found and how. */
    public record Loaded(Path path, String source, int abiVersion) {
    }

    /**
     * Loads the library unless already loaded; thread-safe and cheap after the first call.
     *
     * @throws UnsatisfiedLinkError naming every place tried and what to do, if no usable library
     *                              is found, it cannot be loaded, or its ABI version differs. A
     *                              later call tries again (e.g. after the path was corrected).
     */
    public static void load() {
        if (loaded != null) {
            return;
        }
        synchronized (LOCK) {
            if (loaded != null) {
                return;
            }
            // Re-entry from the same thread cannot happen: nothing below initialises mobilellm_h
            // (the expected version comes from mobilellm_abi, a plain constant holder).
            Settings settings = Settings.fromEnvironment();
            Located where = locate(settings);
            int abi = loadAndCheck(where, mobilellm_abi.MLLM_ABI_VERSION);
            loaded = new Loaded(where.path(), where.source(), abi);
        }
    }

    /** The loaded library, or empty before a successful {@link #load()}. */
    public static Optional<Loaded> loaded() {
        return Optional.ofNullable(loaded);
    }

    /** Platform id of this JVM, e.g. {@code linux-x86_64}, {@code macos-aarch64}. */
    public static String platformId() {
        return platformId(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
    }

    static String platformId(String osName, String osArch) {
        String n = osName.toLowerCase(Locale.ROOT);
        String os;
        if (n.startsWith("linux")) {
            os = "linux";
        } else if (n.startsWith("mac") || n.startsWith("darwin")) {
            os = "macos";
        } else if (n.startsWith("windows")) {
            os = "windows";
        } else {
            os = n.replaceAll("[^a-z0-9]+", "");
        }
        String a = osArch.toLowerCase(Locale.ROOT);
        String arch = switch (a) {
            case "amd64", "x86_64", "x64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> a.replaceAll("[^a-z0-9_]+", "");
        };
        return os + "-" + arch;
    }

    /** File name of the library on this OS, e.g. {@code libmobilellm.so}. */
    public static String libraryFileName() {
        return System.mapLibraryName(LIBRARY_NAME);
    }

    /** Class path resource of the bundled library for this platform. */
    public static String resourcePath() {
        return RESOURCE_ROOT + platformId() + "/" + libraryFileName();
    }

    /** Version of these bindings ({@code 0.1.0-SNAPSHOT}), or {@code "dev"} if unknown. */
    public static String version() {
        try (InputStream in = NativeLibrary.class.getClassLoader().getResourceAsStream(VERSION_RESOURCE)) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version", "").trim();
                if (!v.isEmpty() && !v.startsWith("${")) {
                    return v;
                }
            }
        } catch (IOException ignored) {
            // fall through
        }
        return "dev";
    }

    // ------------------------------------------------------------------------------------------
    // Locating (package-private for tests)
    // ------------------------------------------------------------------------------------------

    /** Inputs of the search; {@link #fromEnvironment()} reads the real ones. */
    record Settings(String propertyPath, String envPath, String cacheDirProperty, String cacheDirEnv,
                    String userHome, ClassLoader classLoader, String platform, String fileName,
                    String version) {

        static Settings fromEnvironment() {
            return new Settings(
                    System.getProperty(LIBRARY_PATH_PROPERTY),
                    System.getenv(LIBRARY_PATH_ENV),
                    System.getProperty(CACHE_DIR_PROPERTY),
                    System.getenv(CACHE_DIR_ENV),
                    System.getProperty("user.home"),
                    NativeLibrary.class.getClassLoader(),
                    platformId(),
                    libraryFileName(),
                    NativeLibrary.version());
        }

        String resource() {
            return RESOURCE_ROOT + platform + "/" + fileName;
        }

        Path cacheRoot() {
            if (!isBlank(cacheDirProperty)) {
                return Path.of(cacheDirProperty.trim());
            }
            if (!isBlank(cacheDirEnv)) {
                return Path.of(cacheDirEnv.trim());
            }
            return Path.of(Objects.requireNonNullElse(userHome, "."), ".cache", "mobilellm4j");
        }

        String cacheRootSource() {
            if (!isBlank(cacheDirProperty)) {
                return "system property " + CACHE_DIR_PROPERTY;
            }
            if (!isBlank(cacheDirEnv)) {
                return "environment variable " + CACHE_DIR_ENV;
            }
            return "default";
        }
    }

    /** A library file to load and how it was found. */
    record Located(Path path, String source) {
    }

    /**
     * Finds the library file (extracting the bundled one if needed) without loading it.
     *
     * @throws UnsatisfiedLinkError listing what was tried
     */
    static Located locate(Settings s) {
        List<String> tried = new ArrayList<>();
        if (!isBlank(s.propertyPath())) {
            String source = "system property " + LIBRARY_PATH_PROPERTY;
            return explicitFile(s, s.propertyPath(), source, tried);
        }
        tried.add("system property " + LIBRARY_PATH_PROPERTY + ": not set");
        if (!isBlank(s.envPath())) {
            String source = "environment variable " + LIBRARY_PATH_ENV;
            return explicitFile(s, s.envPath(), source, tried);
        }
        tried.add("environment variable " + LIBRARY_PATH_ENV + ": not set");

        String resource = s.resource();
        ClassLoader cl = s.classLoader() != null ? s.classLoader() : ClassLoader.getSystemClassLoader();
        byte[] bytes;
        try (InputStream in = cl.getResourceAsStream(resource)) {
            if (in == null) {
                tried.add("class path resource " + resource + ": not found (no mobilellm4j-native jar for "
                        + s.platform() + " on the class path)");
                throw notFound(s, tried);
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            tried.add("class path resource " + resource + ": cannot be read: " + e);
            throw notFound(s, tried);
        }
        String hash = sha256(bytes);
        Path dir = s.cacheRoot().resolve(s.version() + "-" + hash.substring(0, 16));
        Path target = dir.resolve(s.fileName());
        try {
            extract(bytes, hash, dir, target);
        } catch (IOException | RuntimeException e) {
            tried.add("class path resource " + resource + ": found, but copying it to " + target
                    + " failed: " + e + " (cache folder from " + s.cacheRootSource() + "; set -D"
                    + CACHE_DIR_PROPERTY + " or " + CACHE_DIR_ENV + " to a writable folder)");
            throw notFound(s, tried);
        }
        return new Located(target, "class path resource " + resource + " (extracted to " + target + ")");
    }

    private static Located explicitFile(Settings s, String value, String source, List<String> tried) {
        Path p = Path.of(value.trim()).toAbsolutePath().normalize();
        String problem = null;
        if (!Files.exists(p)) {
            problem = "file does not exist";
        } else if (Files.isDirectory(p)) {
            problem = "is a folder; give the library file itself (" + s.fileName() + ")";
        } else if (!Files.isReadable(p)) {
            problem = "file is not readable";
        }
        if (problem != null) {
            tried.add(source + " = " + p + ": " + problem);
            throw notFound(s, tried);
        }
        return new Located(p, source);
    }

    /** Writes bytes to target via a temporary file and an atomic rename, unless an equal copy exists. */
    static void extract(byte[] bytes, String hash, Path dir, Path target) throws IOException {
        if (Files.isRegularFile(target) && Files.size(target) == bytes.length
                && hash.equals(sha256(Files.readAllBytes(target)))) {
            return;
        }
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

    private static UnsatisfiedLinkError notFound(Settings s, List<String> tried) {
        StringBuilder m = new StringBuilder();
        m.append("mobilellm4j: no usable native library ").append(s.fileName()).append(" for ")
                .append(s.platform()).append(".\nTried, in order:\n");
        for (String t : tried) {
            m.append("  - ").append(t).append('\n');
        }
        m.append(howToFix(s));
        return new UnsatisfiedLinkError(m.toString());
    }

    private static String howToFix(Settings s) {
        return "To fix: put the mobilellm4j-native jar built for " + s.platform()
                + " on the class path (./mvnw -pl native install), or build the library"
                + " (cmake -S native -B native/build && cmake --build native/build) and pass its path with -D"
                + LIBRARY_PATH_PROPERTY + "=/path/to/" + s.fileName() + " or " + LIBRARY_PATH_ENV + ".";
    }

    // ------------------------------------------------------------------------------------------
    // Loading
    // ------------------------------------------------------------------------------------------

    /** System.load()s the file and verifies its ABI version; returns that version. */
    static int loadAndCheck(Located where, int expectedAbi) {
        try {
            System.load(where.path().toString());
        } catch (UnsatisfiedLinkError e) {
            UnsatisfiedLinkError wrapped = new UnsatisfiedLinkError(
                    "mobilellm4j: cannot load " + where.path() + " (from " + where.source() + "): "
                            + e.getMessage() + "\nIt must be a " + libraryFileName() + " built for "
                            + platformId() + ". Rebuild it or point -D" + LIBRARY_PATH_PROPERTY
                            + " / " + LIBRARY_PATH_ENV + " at the right file.");
            wrapped.initCause(e);
            throw wrapped;
        }
        int actual = abiVersionOfLoadedLibrary(where);
        String mismatch = abiMismatch(actual, expectedAbi, where);
        if (mismatch != null) {
            throw new UnsatisfiedLinkError(mismatch);
        }
        return actual;
    }

    private static int abiVersionOfLoadedLibrary(Located where) {
        Optional<MemorySegment> symbol = SymbolLookup.loaderLookup().find("mllm_abi_version");
        if (symbol.isEmpty()) {
            throw new UnsatisfiedLinkError("mobilellm4j: " + where.path() + " (from " + where.source()
                    + ") was loaded but exports no mllm_abi_version: it is not libmobilellm.");
        }
        MethodHandle h = Linker.nativeLinker().downcallHandle(symbol.get(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT));
        try {
            return (int) h.invokeExact();
        } catch (Throwable t) {
            UnsatisfiedLinkError e = new UnsatisfiedLinkError("mobilellm4j: mllm_abi_version() of "
                    + where.path() + " failed: " + t);
            e.initCause(t);
            throw e;
        }
    }

    /** The error message for an ABI mismatch, or null if the versions agree. */
    static String abiMismatch(int actual, int expected, Located where) {
        if (actual == expected) {
            return null;
        }
        return "mobilellm4j: " + where.path() + " (from " + where.source() + ") has ABI version " + actual
                + " but these bindings were generated for MLLM_ABI_VERSION " + expected
                + ". The Java and native parts come from different builds: rebuild both (./mvnw install),"
                + " or point -D" + LIBRARY_PATH_PROPERTY + " / " + LIBRARY_PATH_ENV
                + " at a library built from the same native/include/mobilellm.h"
                + (actual > expected ? " (or regenerate the bindings: bindings/generate.sh)." : ".");
    }

    // ------------------------------------------------------------------------------------------

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }
}
