package io.github.mobilellm4j.bindings;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs in its own JVM (surefire reuseForks=false): loads the library named by the property. */
class NativeLibraryPropertyPathTest {

    @TempDir
    static Path tmp;

    @AfterAll
    static void clear() {
        System.clearProperty(NativeLibrary.LIBRARY_PATH_PROPERTY);
    }

    @Test
    void loadsThePropertyPathAndTheAbiVersionMatches() throws Exception {
        Path custom = TestSupport.copyOfBundledLibrary(tmp.resolve("custom build"), NativeLibrary.libraryFileName());
        System.setProperty(NativeLibrary.LIBRARY_PATH_PROPERTY, custom.toString());
        assertThat(NativeLibrary.loaded()).isEmpty();

        NativeLibrary.load();
        NativeLibrary.load(); // idempotent

        NativeLibrary.Loaded loaded = NativeLibrary.loaded().orElseThrow();
        assertThat(loaded.path()).isEqualTo(custom);
        assertThat(loaded.source()).contains(NativeLibrary.LIBRARY_PATH_PROPERTY);
        assertThat(loaded.abiVersion()).isEqualTo(mobilellm_h.MLLM_ABI_VERSION());
        assertThat(mobilellm_h.mllm_abi_version()).isEqualTo(mobilellm_h.MLLM_ABI_VERSION());

        MemorySegment v = mobilellm_h.mllm_version();
        assertThat(v).isNotEqualTo(MemorySegment.NULL);
        assertThat(v.reinterpret(256).getString(0)).isNotEmpty();
    }
}
