package io.github.mobilellm4j.bindings;

import static org.assertj.core.api.Assertions.assertThat;
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
        assertThat(NativeLibrary.loaded()).isEmpty();

        int abi = mobilellm_h.mllm_abi_version();

        assertThat(abi).isEqualTo(mobilellm_h.MLLM_ABI_VERSION());
        NativeLibrary.Loaded loaded = NativeLibrary.loaded().orElseThrow();
        assertThat(loaded.path()).startsWithRaw(Path.of(cacheDir));
        assertThat(loaded.path().getFileName().toString()).isEqualTo(NativeLibrary.libraryFileName());
        assertThat(loaded.path().getParent().getFileName().toString()).as(loaded.path().toString())
                .startsWith(NativeLibrary.version() + "-");
        String name = mobilellm_h.mllm_status_name(mobilellm_h.MLLM_ERR_FORMAT()).reinterpret(64).getString(0);
        assertThat(name).isEqualTo("MLLM_ERR_FORMAT");
    }
}
