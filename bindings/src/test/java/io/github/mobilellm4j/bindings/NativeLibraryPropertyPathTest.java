package io.github.mobilellm4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        assertTrue(NativeLibrary.loaded().isEmpty());

        NativeLibrary.load();
        NativeLibrary.load(); // idempotent

        NativeLibrary.Loaded loaded = NativeLibrary.loaded().orElseThrow();
        assertEquals(custom, loaded.path());
        assertTrue(loaded.source().contains(NativeLibrary.LIBRARY_PATH_PROPERTY), loaded.source());
        assertEquals(mobilellm_h.MLLM_ABI_VERSION(), loaded.abiVersion());
        assertEquals(mobilellm_h.MLLM_ABI_VERSION(), mobilellm_h.mllm_abi_version());

        MemorySegment v = mobilellm_h.mllm_version();
        assertFalse(v.equals(MemorySegment.NULL));
        assertFalse(v.reinterpret(256).getString(0).isEmpty());
    }
}
