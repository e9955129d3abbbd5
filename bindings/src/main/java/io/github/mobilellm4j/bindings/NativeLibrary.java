package io.github.mobilellm4j.bindings;

import io.github.mobilellm4j.bindings.internal.BundledResources;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;

/**
 * Finds and loads libmobilellm, once per class loader, before the first downcall.
 *
 * <p>Where the library comes from, first match wins:
 * <ol>
 *   <li>system property {@value #LIBRARY_PATH_PROPERTY}: path of a library file;</li>
 *   <li>environment variable {@value #LIBRARY_PATH_ENV}: path of a library file;</li>
 *   <li>the resource {@code io/github/mobilellm4j/native/<platform>/<libname>} of the platform's
 *       jar, {@code io.github.mobilellm4j:mobilellm4j-native:<version>:<platform>} (the classifier is
 *       the platform id, one of {@link #PLATFORMS}), found on the class path or the module path,
 *       copied to a cache folder and loaded from there. The folder is
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
    /**
     * Resource folder holding one sub-folder per platform id. The "native" segment is no legal
     * package name, so on the module path these resources belong to no package and no module
     * encapsulates them.
     */
    public static final String RESOURCE_ROOT = "io/github/mobilellm4j/native/";
    /** The platforms with a native library jar (the classifiers of mobilellm4j-native). */
    public static final List<String> PLATFORMS =
            List.of("linux-x86_64", "linux-aarch64", "windows-x86_64", "macos-aarch64", "macos-x86_64");
    /** Maven coordinates of the native library jars, without the version and classifier. */
    public static final String NATIVE_ARTIFACT = "io.github.mobilellm4j:mobilellm4j-native";
    /** The artifact that depends on the API and on every platform's native library jar. */
    public static final String AGGREGATOR_ARTIFACT = "io.github.mobilellm4j:mobilellm4j";

    private static final String LIBRARY_NAME = "mobilellm";
    private static final String VERSION_RESOURCE = "mobilellm4j-bindings.properties"; // next to this class

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

    /**
     * Module name of a platform's native jar on the module path (its Automatic-Module-Name), e.g.
     * {@code io.github.mobilellm4j.natives.linux.x86_64} for {@code linux-x86_64}.
     */
    public static String nativeModuleName(String platform) {
        return "io.github.mobilellm4j.natives." + platform.replace('-', '.');
    }

    /** Version of these bindings ({@code 0.1.0-SNAPSHOT}), or {@code "dev"} if unknown. */
    public static String version() {
        // Class.getResourceAsStream: reads this module's own resource also when it is a named module
        try (InputStream in = NativeLibrary.class.getResourceAsStream(VERSION_RESOURCE)) {
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
                    String version, String modulePath) {

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
                    NativeLibrary.version(),
                    System.getProperty("jdk.module.path"));
        }

        String resource() {
            return RESOURCE_ROOT + platform + "/" + fileName;
        }

        Path cacheRoot() {
            return BundledResources.cacheRoot(cacheDirProperty, cacheDirEnv, userHome);
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
        BundledResources.Found found;
        try {
            found = BundledResources.read(cl, resource, nativeModuleName(s.platform()), s.modulePath()).orElse(null);
        } catch (IOException e) {
            tried.add("resource " + resource + ": cannot be read: " + e);
            throw notFound(s, tried);
        }
        if (found == null) {
            tried.add("resource " + resource + ": not found on the class path"
                    + (isBlank(s.modulePath()) ? "" : " or the module path"));
            throw notFound(s, tried);
        }
        String hash = BundledResources.sha256(found.bytes());
        Path target = s.cacheRoot().resolve(s.version() + "-" + hash.substring(0, 16)).resolve(s.fileName());
        try {
            BundledResources.extract(found.bytes(), target);
        } catch (IOException | RuntimeException e) {
            tried.add(found.origin() + ": found, but copying it to " + target
                    + " failed: " + e + " (cache folder from " + s.cacheRootSource() + "; set -D"
                    + CACHE_DIR_PROPERTY + " or " + CACHE_DIR_ENV + " to a writable folder)");
            throw notFound(s, tried);
        }
        return new Located(target, found.origin() + " (extracted to " + target + ")");
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
        String buildYourOwn = "build the library from the sources (cmake -S native -B native/build && cmake --build"
                + " native/build) and pass its path with -D" + LIBRARY_PATH_PROPERTY + "=/path/to/" + s.fileName()
                + " or " + LIBRARY_PATH_ENV + ".";
        if (!PLATFORMS.contains(s.platform())) {
            return "mobilellm4j has no native library for " + s.platform() + " (os.name/os.arch of this JVM); native"
                    + " libraries exist for " + String.join(", ", PLATFORMS) + ". To run here, " + buildYourOwn;
        }
        List<String> present = new ArrayList<>();
        ClassLoader cl = s.classLoader() != null ? s.classLoader() : ClassLoader.getSystemClassLoader();
        for (String p : PLATFORMS) {
            if (cl.getResource(RESOURCE_ROOT + p + "/" + nativeFileName(p)) != null) {
                present.add(p);
            }
        }
        return "To fix: add the dependency " + NATIVE_ARTIFACT + ":" + s.version() + " with classifier " + s.platform()
                + " (or " + AGGREGATOR_ARTIFACT + ", which has the native libraries of every platform: "
                + String.join(", ", PLATFORMS) + ")"
                + (present.isEmpty() ? "" : "; the class path has the native libraries of " + String.join(", ", present)
                        + " only")
                + ". Or " + buildYourOwn;
    }

    /** The library's file name on a platform (the JVM's System.mapLibraryName there). */
    static String nativeFileName(String platform) {
        if (platform.startsWith("windows-")) {
            return LIBRARY_NAME + ".dll";
        }
        return "lib" + LIBRARY_NAME + (platform.startsWith("macos-") ? ".dylib" : ".so");
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

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }
}
