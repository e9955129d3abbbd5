package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.*;

import io.github.mobilellm4j.bindings.NativeLibrary;
import java.lang.foreign.MemorySegment;

/** Small helpers around the generated bindings: status checks and C strings. */
final class Native {
    private Native() {
    }

    static {
        NativeLibrary.load();
    }

    /** Makes sure the native library is loaded (and its ABI checked). */
    static void ensureLoaded() {
        // the static initializer did the work
    }

    /** Throws MobileLlmException carrying the engine's message when status is not MLLM_OK. */
    static void check(int status, String what) {
        if (status != MLLM_OK()) {
            throw error(status, what);
        }
    }

    static MobileLlmException error(int status, String what) {
        return error(status, what, lastError());
    }

    /** The exception for an engine status with the engine's message (its status name when empty). */
    static MobileLlmException error(int status, String what, String message) {
        String name = string(mllm_status_name(status));
        return new MobileLlmException(MobileLlmException.Status.ofEngineName(name),
                what + ": " + (message.isEmpty() ? name : message));
    }

    /** The engine's last error message on this thread. */
    static String lastError() {
        return string(mllm_last_error());
    }

    /** Reads a NUL-terminated UTF-8 string returned by the engine; "" for NULL. */
    static String string(MemorySegment cString) {
        if (cString == null || cString.equals(MemorySegment.NULL)) {
            return "";
        }
        return cString.reinterpret(Long.MAX_VALUE).getString(0);
    }
}
