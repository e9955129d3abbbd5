package io.github.mobilellm4j.bindings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mobilellm4j.bindings.internal.BundledResources;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding the library file; nothing here loads libmobilellm. */
class NativeLibraryLocateTest {

    @TempDir
    Path tmp;

    private NativeLibrary.Settings settings(String property, String env, Path cacheDir, ClassLoader cl) {
        return new NativeLibrary.Settings(property, env, cacheDir == null ? null : cacheDir.toString(), null,
                tmp.resolve("home").toString(), cl, NativeLibrary.platformId(), NativeLibrary.libraryFileName(),
                "9.9.9-test", null);
    }

    @Test
    void propertyPathWinsOverEnvAndResource() throws Exception {
        Path a = TestSupport.copyOfBundledLibrary(tmp.resolve("a"), "liba.so");
        Path b = TestSupport.copyOfBundledLibrary(tmp.resolve("b"), "libb.so");
        NativeLibrary.Located found = NativeLibrary.locate(settings(a.toString(), b.toString(), tmp.resolve("cache"),
                getClass().getClassLoader()));
        assertThat(found.path()).isEqualTo(a);
        assertThat(found.source()).contains(NativeLibrary.LIBRARY_PATH_PROPERTY);
        assertThat(tmp.resolve("cache")).as("nothing must be extracted when a path is given").doesNotExist();
    }

    @Test
    void envPathUsedWhenNoProperty() throws Exception {
        Path b = TestSupport.copyOfBundledLibrary(tmp.resolve("b"), "libb.so");
        NativeLibrary.Located found = NativeLibrary.locate(settings("  ", b.toString(), tmp.resolve("cache"),
                getClass().getClassLoader()));
        assertThat(found.path()).isEqualTo(b);
        assertThat(found.source()).contains(NativeLibrary.LIBRARY_PATH_ENV);
    }

    @Test
    void missingPropertyPathIsAClearErrorWithoutFallback() {
        Path missing = tmp.resolve("nowhere/libmobilellm.so");
        assertThatThrownBy(() -> NativeLibrary.locate(
                settings(missing.toString(), null, tmp.resolve("cache"), getClass().getClassLoader())))
                .isInstanceOf(UnsatisfiedLinkError.class)
                .hasMessageContaining(missing.toString())
                .hasMessageContaining(NativeLibrary.LIBRARY_PATH_PROPERTY)
                .hasMessageContaining("does not exist")
                .hasMessageContaining("To fix");
        assertThat(tmp.resolve("cache")).as("an explicit bad path must not fall back to the resource").doesNotExist();
    }

    @Test
    void folderInsteadOfFileIsAClearError() {
        assertThatThrownBy(() -> NativeLibrary.locate(
                settings(null, tmp.toString(), null, getClass().getClassLoader())))
                .isInstanceOf(UnsatisfiedLinkError.class)
                .hasMessageContaining(NativeLibrary.LIBRARY_PATH_ENV)
                .hasMessageContaining("is a folder");
    }

    @Test
    void noResourceListsEverythingTried() throws Exception {
        try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
            assertThatThrownBy(() -> NativeLibrary.locate(settings(null, null, tmp.resolve("cache"), empty)))
                    .isInstanceOf(UnsatisfiedLinkError.class)
                    .hasMessageContaining(NativeLibrary.LIBRARY_PATH_PROPERTY + ": not set")
                    .hasMessageContaining(NativeLibrary.LIBRARY_PATH_ENV + ": not set")
                    .hasMessageContaining(NativeLibrary.resourcePath() + ": not found");
        }
    }

    @Test
    void extractsResourceIntoVersionAndHashFolderAndReusesIt() throws Exception {
        byte[] lib = TestSupport.bundledLibrary();
        Path cache = tmp.resolve("cache");
        NativeLibrary.Located found = NativeLibrary.locate(settings(null, null, cache, getClass().getClassLoader()));
        String hash = BundledResources.sha256(lib).substring(0, 16);
        assertThat(found.path())
                .isEqualTo(cache.resolve("9.9.9-test-" + hash).resolve(NativeLibrary.libraryFileName()));
        assertThat(Files.readAllBytes(found.path())).isEqualTo(lib);
        assertThat(found.source()).contains(NativeLibrary.resourcePath());

        // A matching copy is reused, not rewritten.
        FileTime old = FileTime.fromMillis(1_000_000L);
        Files.setLastModifiedTime(found.path(), old);
        assertThat(NativeLibrary.locate(settings(null, null, cache, getClass().getClassLoader())).path())
                .isEqualTo(found.path());
        assertThat(Files.getLastModifiedTime(found.path())).isEqualTo(old);

        // A damaged copy is replaced.
        Files.write(found.path(), new byte[] {1, 2, 3});
        NativeLibrary.locate(settings(null, null, cache, getClass().getClassLoader()));
        assertThat(Files.readAllBytes(found.path())).isEqualTo(lib);
        try (Stream<Path> files = Files.list(found.path().getParent())) {
            assertThat(files).as("no temporary files may be left").containsExactly(found.path());
        }
    }

    @Test
    void concurrentExtractionsAgree() throws Exception {
        byte[] lib = TestSupport.bundledLibrary();
        Path cache = tmp.resolve("cache");
        int n = 8;
        CyclicBarrier start = new CyclicBarrier(n);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return NativeLibrary.locate(settings(null, null, cache, getClass().getClassLoader())).path();
                }));
            }
            Set<Path> paths = new HashSet<>();
            for (Future<Path> f : results) {
                paths.add(f.get());
            }
            assertThat(paths).hasSize(1);
            Path p = paths.iterator().next();
            assertThat(Files.readAllBytes(p)).isEqualTo(lib);
            try (Stream<Path> files = Files.list(p.getParent())) {
                assertThat(files).as("no temporary files may be left").hasSize(1);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void defaultCacheFolderIsUnderUserHome() {
        NativeLibrary.Settings s = settings(null, null, null, getClass().getClassLoader());
        assertThat(s.cacheRoot()).isEqualTo(tmp.resolve("home/.cache/mobilellm4j"));
        NativeLibrary.Settings env = new NativeLibrary.Settings(null, null, null, tmp.resolve("envcache").toString(),
                "/home/x", null, "linux-x86_64", "libmobilellm.so", "1", null);
        assertThat(env.cacheRoot()).isEqualTo(tmp.resolve("envcache"));
    }

    @Test
    void loadingAFileThatIsNotALibraryIsAClearError() throws Exception {
        Path junk = tmp.resolve("libjunk.so");
        Files.writeString(junk, "this is not an ELF file");
        assertThatThrownBy(() -> NativeLibrary.loadAndCheck(new NativeLibrary.Located(junk, "test"), 1))
                .isInstanceOf(UnsatisfiedLinkError.class)
                .hasMessageContaining(junk.toString())
                .hasMessageContaining("cannot load");
        assertThat(NativeLibrary.loaded()).isEmpty();
    }

    @Test
    void abiVersionIsCheckedAgainstTheLoadedLibrary() throws Exception {
        Path lib = TestSupport.copyOfBundledLibrary(tmp.resolve("abi"), NativeLibrary.libraryFileName());
        NativeLibrary.Located where = new NativeLibrary.Located(lib, "test");
        int expected = mobilellm_abi.MLLM_ABI_VERSION;
        assertThatThrownBy(() -> NativeLibrary.loadAndCheck(where, expected + 1))
                .isInstanceOf(UnsatisfiedLinkError.class)
                .hasMessageContaining("ABI version " + expected)
                .hasMessageContaining("MLLM_ABI_VERSION " + (expected + 1))
                .hasMessageContaining(lib.toString());
        assertThat(NativeLibrary.loadAndCheck(where, expected)).isEqualTo(expected);
        assertThat(NativeLibrary.loaded()).as("loadAndCheck alone must not mark the library loaded").isEmpty();
    }

    @Test
    void abiMismatchMessageNamesBothVersionsAndThePath() {
        NativeLibrary.Located where = new NativeLibrary.Located(Path.of("/x/libmobilellm.so"), "test source");
        assertThat(NativeLibrary.abiMismatch(3, 3, where)).isNull();
        String m = NativeLibrary.abiMismatch(2, 3, where);
        assertThat(m).contains("/x/libmobilellm.so", "ABI version 2", "MLLM_ABI_VERSION 3");
        assertThat(NativeLibrary.abiMismatch(4, 3, where)).isNotEqualTo(m);
    }

    @Test
    void platformIds() {
        assertThat(NativeLibrary.platformId("Linux", "amd64")).isEqualTo("linux-x86_64");
        assertThat(NativeLibrary.platformId("Linux", "aarch64")).isEqualTo("linux-aarch64");
        assertThat(NativeLibrary.platformId("Mac OS X", "aarch64")).isEqualTo("macos-aarch64");
        assertThat(NativeLibrary.platformId("Mac OS X", "x86_64")).isEqualTo("macos-x86_64");
        assertThat(NativeLibrary.platformId("Windows 11", "amd64")).isEqualTo("windows-x86_64");
    }
}
