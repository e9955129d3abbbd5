package io.github.mobilellm4j;

/** How to create a session (one sequence's KV cache). Immutable; build with {@link #builder()}. */
public final class SessionOptions {
    /**
     * A {@link Builder#contextLength(int) context length} asking for the model's full training context (its
     * GGUF {@code context_length}), which a file may set as high as 2^20 tokens: budget the memory for it.
     */
    public static final int MODEL_MAXIMUM = -1;

    private final int contextLength;
    private final int batchSize;
    private final KvCacheType kvCacheType;
    private final int threads;
    private final boolean contextShift;
    private final int keep;
    private final java.time.Duration callTimeout;

    private SessionOptions(Builder b) {
        this.contextLength = b.contextLength;
        this.batchSize = b.batchSize;
        this.kvCacheType = b.kvCacheType;
        this.threads = b.threads;
        this.contextShift = b.contextShift;
        this.keep = b.keep;
        this.callTimeout = b.callTimeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Tokens the session holds: n &gt; 0, 0 for the default, or {@link #MODEL_MAXIMUM}. */
    public int contextLength() {
        return contextLength;
    }

    public int batchSize() {
        return batchSize;
    }

    public KvCacheType kvCacheType() {
        return kvCacheType;
    }

    public int threads() {
        return threads;
    }

    public boolean contextShift() {
        return contextShift;
    }

    public int keep() {
        return keep;
    }

    /** The longest one model call of the session may take; null: no limit. */
    public java.time.Duration callTimeout() {
        return callTimeout;
    }

    public static final class Builder {
        private int contextLength;
        private int batchSize = 256;
        private KvCacheType kvCacheType = KvCacheType.F16;
        private int threads;
        private boolean contextShift;
        private int keep = 1;
        private java.time.Duration callTimeout;

        /**
         * Tokens the session can hold: n &gt; 0 exactly; 0 (default) = min(the model's training context, 4096),
         * so that a file declaring a huge context does not make every session huge; {@link #MODEL_MAXIMUM} =
         * the model's training context.
         */
        public Builder contextLength(int n) {
            checkContextLength(n);
            this.contextLength = n;
            return this;
        }

        /** Most tokens evaluated per graph run; longer prompts are processed in chunks. Default 256. */
        public Builder batchSize(int n) {
            if (n < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + n);
            this.batchSize = n;
            return this;
        }

        public Builder kvCacheType(KvCacheType type) {
            this.kvCacheType = java.util.Objects.requireNonNull(type, "kvCacheType");
            return this;
        }

        /** CPU threads for this session; 0 (default) = the model's. */
        public Builder threads(int n) {
            if (n < 0) throw new IllegalArgumentException("threads must be >= 0, got " + n);
            this.threads = n;
            return this;
        }

        /**
         * When the context is full: true = drop the oldest tokens after {@code keep} and continue; false
         * (default) = throw MobileLlmException with status CONTEXT_FULL.
         */
        public Builder contextShift(boolean shift) {
            this.contextShift = shift;
            return this;
        }

        /** Tokens kept at the start on a context shift (default 1: the BOS token). */
        /**
         * A time limit for each model call of the session: eval, prefill, score, embed, and each evaluation
         * inside a generation (its prompt, each token). A call that runs longer stops within about one layer's
         * time and throws {@link MobileLlmException} with status CANCELLED, the session as before the call.
         * Default: no limit. For a whole generation's limit see {@link GenerateOptions#timeout()}.
         */
        public Builder callTimeout(java.time.Duration timeout) {
            java.util.Objects.requireNonNull(timeout, "timeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("callTimeout must be positive, got " + timeout);
            }
            this.callTimeout = timeout;
            return this;
        }

        public Builder keep(int n) {
            if (n < 0) throw new IllegalArgumentException("keep must be >= 0, got " + n);
            this.keep = n;
            return this;
        }

        static void checkContextLength(int n) {
            if (n < MODEL_MAXIMUM) {
                throw new IllegalArgumentException("contextLength must be > 0, 0 (the default) or -1 (the model's full context), got " + n);
            }
        }

        public SessionOptions build() {
            return new SessionOptions(this);
        }
    }
}
