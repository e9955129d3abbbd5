package io.github.mobilellm4j;

/** A failure reported by the native engine: the status code and the engine's message. */
public class MobileLlmException extends RuntimeException {
    private final Status status;

    public MobileLlmException(Status status, String message) {
        super(message);
        this.status = status;
    }

    /** What kind of failure the engine reported. */
    public Status status() {
        return status;
    }

    /**
     * What kind of failure the engine reported: the engine's status codes (mllm_status in mobilellm.h), matched
     * by the name the engine gives each code, so a code added to the engine can never be mistaken for another.
     */
    public enum Status {
        INVALID_ARGUMENT, IO, FORMAT, UNSUPPORTED, OUT_OF_MEMORY, CONTEXT_FULL, BACKEND, STATE,
        /** Stopped by {@link Session#cancel()} or by interrupting the calling thread; the session is as before the call. */
        CANCELLED,
        /** A code this version of the Java API does not know (a newer engine). */
        UNKNOWN;

        /** The status whose engine name is {@code "MLLM_ERR_" + name()}; UNKNOWN for any other name. */
        static Status ofEngineName(String engineName) {
            for (Status s : values()) {
                if (s != UNKNOWN && engineName.equals("MLLM_ERR_" + s.name())) return s;
            }
            return UNKNOWN;
        }
    }
}
