package io.github.mobilellm4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs in its own JVM: a bad explicit path fails load() and the first downcall with a clear error. */
class NativeLibraryBadPathTest {

    @TempDir
    static Path tmp;

    @AfterAll
    static void clear() {
        System.clearProperty(NativeLibrary.LIBRARY_PATH_PROPERTY);
    }

    @Test
    void badPropertyPathFailsClearlyAndARetryAfterTheFixSucceeds() throws Exception {
        Path bad = tmp.resolve("no/such/libmobilellm.so");
        System.setProperty(NativeLibrary.LIBRARY_PATH_PROPERTY, bad.toString());

        UnsatisfiedLinkError first = assertThrows(UnsatisfiedLinkError.class, NativeLibrary::load);
        assertTrue(first.getMessage().contains(bad.toString()), first.getMessage());
        assertTrue(first.getMessage().contains(NativeLibrary.LIBRARY_PATH_PROPERTY), first.getMessage());
        assertTrue(first.getMessage().contains("does not exist"), first.getMessage());
        assertTrue(NativeLibrary.loaded().isEmpty());

        UnsatisfiedLinkError second = assertThrows(UnsatisfiedLinkError.class, NativeLibrary::load);
        assertEquals(first.getMessage(), second.getMessage());

        // The first downcall cannot run without the library: the header class's initializer
        // throws the loader's error itself (an Error is not wrapped), later uses fail as usual.
        UnsatisfiedLinkError init = assertThrows(UnsatisfiedLinkError.class, mobilellm_h::mllm_abi_version);
        assertEquals(first.getMessage(), init.getMessage());
        assertThrows(NoClassDefFoundError.class, mobilellm_h::mllm_abi_version);

        // Once the path is corrected, load() succeeds.
        Path good = TestSupport.copyOfBundledLibrary(tmp.resolve("good"), NativeLibrary.libraryFileName());
        System.setProperty(NativeLibrary.LIBRARY_PATH_PROPERTY, good.toString());
        NativeLibrary.load();
        assertEquals(good, NativeLibrary.loaded().orElseThrow().path());
    }
}
