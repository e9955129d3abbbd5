package io.github.mobilellm4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Runs in its own JVM: the first downcall, with no explicit load() and no path configured, must
 * load the bundled library (extracted into the cache folder surefire sets) before it runs.
 */
class NativeLibraryImplicitLoadTest {

    @Test
    void firstDowncallLoadsTheBundledLibrary() {
        assumeTrue(System.getProperty(NativeLibrary.LIBRARY_PATH_PROPERTY) == null
                && System.getenv(NativeLibrary.LIBRARY_PATH_ENV) == null, "a library path is configured");
        String cacheDir = System.getProperty(NativeLibrary.CACHE_DIR_PROPERTY);
        assumeTrue(cacheDir != null, "surefire sets " + NativeLibrary.CACHE_DIR_PROPERTY);
        assertTrue(NativeLibrary.loaded().isEmpty());

        int abi = mobilellm_h.mllm_abi_version();

        assertEquals(mobilellm_h.MLLM_ABI_VERSION(), abi);
        NativeLibrary.Loaded loaded = NativeLibrary.loaded().orElseThrow();
        assertTrue(loaded.path().startsWith(Path.of(cacheDir)), loaded.path().toString());
        assertEquals(NativeLibrary.libraryFileName(), loaded.path().getFileName().toString());
        assertTrue(loaded.path().getParent().getFileName().toString().startsWith(NativeLibrary.version() + "-"),
                loaded.path().toString());
        String name = mobilellm_h.mllm_status_name(mobilellm_h.MLLM_ERR_FORMAT()).reinterpret(64).getString(0);
        assertEquals("MLLM_ERR_FORMAT", name);
    }
}
