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

    /** The engine's status codes (mllm_status in mobilellm.h). */
    public enum Status {
        INVALID_ARGUMENT(1), IO(2), FORMAT(3), UNSUPPORTED(4), OUT_OF_MEMORY(5), CONTEXT_FULL(6), BACKEND(7),
        STATE(8),
        /** Stopped by {@link Session#cancel()} or by interrupting the calling thread; the session is as before the call. */
        CANCELLED(9),
        UNKNOWN(-1);

        private final int code;

        Status(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        static Status of(int code) {
            for (Status s : values()) {
                if (s.code == code) return s;
            }
            return UNKNOWN;
        }
    }
}
