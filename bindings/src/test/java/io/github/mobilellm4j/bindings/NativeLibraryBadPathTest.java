package io.github.mobilellm4j.bindings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

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

        UnsatisfiedLinkError first = catchThrowableOfType(UnsatisfiedLinkError.class, NativeLibrary::load);
        assertThat(first).hasMessageContaining(bad.toString())
                .hasMessageContaining(NativeLibrary.LIBRARY_PATH_PROPERTY)
                .hasMessageContaining("does not exist");
        assertThat(NativeLibrary.loaded()).isEmpty();

        assertThatThrownBy(NativeLibrary::load).isInstanceOf(UnsatisfiedLinkError.class)
                .hasMessage(first.getMessage());

        // The first downcall cannot run without the library: the header class's initializer
        // throws the loader's error itself (an Error is not wrapped), later uses fail as usual.
        assertThatThrownBy(mobilellm_h::mllm_abi_version).isInstanceOf(UnsatisfiedLinkError.class)
                .hasMessage(first.getMessage());
        assertThatThrownBy(mobilellm_h::mllm_abi_version).isInstanceOf(NoClassDefFoundError.class);

        // Once the path is corrected, load() succeeds.
        Path good = TestSupport.copyOfBundledLibrary(tmp.resolve("good"), NativeLibrary.libraryFileName());
        System.setProperty(NativeLibrary.LIBRARY_PATH_PROPERTY, good.toString());
        NativeLibrary.load();
        assertThat(NativeLibrary.loaded().orElseThrow().path()).isEqualTo(good);
    }
}
