package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.*;

import io.github.mobilellm4j.bindings.NativeLibrary;
import java.lang.foreign.MemorySegment;

/** Small helpers around the generated bindings: status checks and C strings. Internal. */
public final class Native {
    private Native() {
    }

    static {
        NativeLibrary.load();
    }

    /** Makes sure the native library is loaded (and its ABI checked). */
    public static void ensureLoaded() {
        // the static initializer did the work
    }

    /** Throws MobileLlmException carrying the engine's message when status is not MLLM_OK. */
    public static void check(int status, String what) {
        if (status != MLLM_OK()) {
            throw error(status, what);
        }
    }

    public static MobileLlmException error(int status, String what) {
        String message = lastError();
        if (message.isEmpty()) {
            message = string(mllm_status_name(status));
        }
        return new MobileLlmException(MobileLlmException.Status.of(status), what + ": " + message);
    }

    /** The engine's last error message on this thread. */
    public static String lastError() {
        return string(mllm_last_error());
    }

    /** Reads a NUL-terminated UTF-8 string returned by the engine; "" for NULL. */
    public static String string(MemorySegment cString) {
        if (cString == null || cString.equals(MemorySegment.NULL)) {
            return "";
        }
        return cString.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /** Engine library version, e.g. "0.1.0". */
    public static String version() {
        return string(mllm_version());
    }

    /** CPU features the engine detected. */
    public static String cpuFeatures() {
        return string(mllm_cpu_features());
    }

    /** Kernel level in use (scalar, avx2, avx512, ...). */
    public static String cpuLevel() {
        return string(mllm_cpu_level());
    }

    /**
     * Forces the CPU kernel level (no higher than the CPU supports) for models loaded afterwards.
     *
     * @throws MobileLlmException if the level is unknown or unsupported here
     */
    public static void setCpuLevel(String level) {
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            check(mllm_set_cpu_level(arena.allocateFrom(level)), "set CPU level '" + level + "'");
        }
    }
}
