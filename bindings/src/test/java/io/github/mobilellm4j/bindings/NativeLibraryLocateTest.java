package io.github.mobilellm4j.bindings;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        assertEquals(a, found.path());
        assertTrue(found.source().contains(NativeLibrary.LIBRARY_PATH_PROPERTY), found.source());
        assertTrue(Files.notExists(tmp.resolve("cache")), "nothing must be extracted when a path is given");
    }

    @Test
    void envPathUsedWhenNoProperty() throws Exception {
        Path b = TestSupport.copyOfBundledLibrary(tmp.resolve("b"), "libb.so");
        NativeLibrary.Located found = NativeLibrary.locate(settings("  ", b.toString(), tmp.resolve("cache"),
                getClass().getClassLoader()));
        assertEquals(b, found.path());
        assertTrue(found.source().contains(NativeLibrary.LIBRARY_PATH_ENV), found.source());
    }

    @Test
    void missingPropertyPathIsAClearErrorWithoutFallback() {
        Path missing = tmp.resolve("nowhere/libmobilellm.so");
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class, () -> NativeLibrary.locate(
                settings(missing.toString(), null, tmp.resolve("cache"), getClass().getClassLoader())));
        String m = e.getMessage();
        assertTrue(m.contains(missing.toString()), m);
        assertTrue(m.contains(NativeLibrary.LIBRARY_PATH_PROPERTY), m);
        assertTrue(m.contains("does not exist"), m);
        assertTrue(m.contains("To fix"), m);
        assertTrue(Files.notExists(tmp.resolve("cache")), "an explicit bad path must not fall back to the resource");
    }

    @Test
    void folderInsteadOfFileIsAClearError() {
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class, () -> NativeLibrary.locate(
                settings(null, tmp.toString(), null, getClass().getClassLoader())));
        assertTrue(e.getMessage().contains(NativeLibrary.LIBRARY_PATH_ENV), e.getMessage());
        assertTrue(e.getMessage().contains("is a folder"), e.getMessage());
    }

    @Test
    void noResourceListsEverythingTried() throws Exception {
        try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
            UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class,
                    () -> NativeLibrary.locate(settings(null, null, tmp.resolve("cache"), empty)));
            String m = e.getMessage();
            assertTrue(m.contains(NativeLibrary.LIBRARY_PATH_PROPERTY + ": not set"), m);
            assertTrue(m.contains(NativeLibrary.LIBRARY_PATH_ENV + ": not set"), m);
            assertTrue(m.contains(NativeLibrary.resourcePath() + ": not found"), m);
        }
    }

    @Test
    void extractsResourceIntoVersionAndHashFolderAndReusesIt() throws Exception {
        byte[] lib = TestSupport.bundledLibrary();
        Path cache = tmp.resolve("cache");
        NativeLibrary.Located found = NativeLibrary.locate(settings(null, null, cache, getClass().getClassLoader()));
        String hash = BundledResources.sha256(lib).substring(0, 16);
        assertEquals(cache.resolve("9.9.9-test-" + hash).resolve(NativeLibrary.libraryFileName()), found.path());
        assertArrayEquals(lib, Files.readAllBytes(found.path()));
        assertTrue(found.source().contains(NativeLibrary.resourcePath()), found.source());

        // A matching copy is reused, not rewritten.
        FileTime old = FileTime.fromMillis(1_000_000L);
        Files.setLastModifiedTime(found.path(), old);
        assertEquals(found.path(), NativeLibrary.locate(settings(null, null, cache, getClass().getClassLoader())).path());
        assertEquals(old, Files.getLastModifiedTime(found.path()));

        // A damaged copy is replaced.
        Files.write(found.path(), new byte[] {1, 2, 3});
        NativeLibrary.locate(settings(null, null, cache, getClass().getClassLoader()));
        assertArrayEquals(lib, Files.readAllBytes(found.path()));
        try (Stream<Path> files = Files.list(found.path().getParent())) {
            assertEquals(List.of(found.path()), files.toList(), "no temporary files may be left");
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
            assertEquals(1, paths.size());
            Path p = paths.iterator().next();
            assertArrayEquals(lib, Files.readAllBytes(p));
            try (Stream<Path> files = Files.list(p.getParent())) {
                assertEquals(1, files.count(), "no temporary files may be left");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void defaultCacheFolderIsUnderUserHome() {
        NativeLibrary.Settings s = settings(null, null, null, getClass().getClassLoader());
        assertEquals(tmp.resolve("home/.cache/mobilellm4j"), s.cacheRoot());
        NativeLibrary.Settings env = new NativeLibrary.Settings(null, null, null, tmp.resolve("envcache").toString(),
                "/home/x", null, "linux-x86_64", "libmobilellm.so", "1", null);
        assertEquals(tmp.resolve("envcache"), env.cacheRoot());
    }

    @Test
    void loadingAFileThatIsNotALibraryIsAClearError() throws Exception {
        Path junk = tmp.resolve("libjunk.so");
        Files.writeString(junk, "this is not an ELF file");
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class,
                () -> NativeLibrary.loadAndCheck(new NativeLibrary.Located(junk, "test"), 1));
        assertTrue(e.getMessage().contains(junk.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("cannot load"), e.getMessage());
        assertTrue(NativeLibrary.loaded().isEmpty());
    }

    @Test
    void abiVersionIsCheckedAgainstTheLoadedLibrary() throws Exception {
        Path lib = TestSupport.copyOfBundledLibrary(tmp.resolve("abi"), NativeLibrary.libraryFileName());
        NativeLibrary.Located where = new NativeLibrary.Located(lib, "test");
        int expected = mobilellm_abi.MLLM_ABI_VERSION;
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class,
                () -> NativeLibrary.loadAndCheck(where, expected + 1));
        assertTrue(e.getMessage().contains("ABI version " + expected), e.getMessage());
        assertTrue(e.getMessage().contains("MLLM_ABI_VERSION " + (expected + 1)), e.getMessage());
        assertTrue(e.getMessage().contains(lib.toString()), e.getMessage());
        assertEquals(expected, NativeLibrary.loadAndCheck(where, expected));
        assertTrue(NativeLibrary.loaded().isEmpty(), "loadAndCheck alone must not mark the library loaded");
    }

    @Test
    void abiMismatchMessageNamesBothVersionsAndThePath() {
        NativeLibrary.Located where = new NativeLibrary.Located(Path.of("/x/libmobilellm.so"), "test source");
        assertNull(NativeLibrary.abiMismatch(3, 3, where));
        String m = NativeLibrary.abiMismatch(2, 3, where);
        assertTrue(m.contains("/x/libmobilellm.so"), m);
        assertTrue(m.contains("ABI version 2"), m);
        assertTrue(m.contains("MLLM_ABI_VERSION 3"), m);
        assertNotEquals(m, NativeLibrary.abiMismatch(4, 3, where));
    }

    @Test
    void platformIds() {
        assertEquals("linux-x86_64", NativeLibrary.platformId("Linux", "amd64"));
        assertEquals("linux-aarch64", NativeLibrary.platformId("Linux", "aarch64"));
        assertEquals("macos-aarch64", NativeLibrary.platformId("Mac OS X", "aarch64"));
        assertEquals("macos-x86_64", NativeLibrary.platformId("Mac OS X", "x86_64"));
        assertEquals("windows-x86_64", NativeLibrary.platformId("Windows 11", "amd64"));
    }
}
