package io.github.mobilellm4j;

/** How to load a model. Immutable; build with {@link #builder()}. */
public final class ModelOptions {
    private final int threads;
    private final boolean memoryMap;
    private final Backend backend;
    private final int gpuDevice;
    private final int contextLength;
    private final boolean sharedThreadPool;

    private ModelOptions(Builder b) {
        this.threads = b.threads;
        this.memoryMap = b.memoryMap;
        this.backend = b.backend;
        this.gpuDevice = b.gpuDevice;
        this.contextLength = b.contextLength;
        this.sharedThreadPool = b.sharedThreadPool;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static ModelOptions defaults() {
        return builder().build();
    }

    public int threads() {
        return threads;
    }

    public boolean memoryMap() {
        return memoryMap;
    }

    public Backend backend() {
        return backend;
    }

    public int gpuDevice() {
        return gpuDevice;
    }

    /**
     * Context length of sessions made by {@link Model#newSession()}, {@link Model#generate} and
     * {@link Model#embed}: as in {@link SessionOptions.Builder#contextLength(int)}.
     */
    public int contextLength() {
        return contextLength;
    }

    /** Whether the model runs on the process's one shared CPU thread pool: see {@link Builder#sharedThreadPool}. */
    public boolean sharedThreadPool() {
        return sharedThreadPool;
    }

    public static final class Builder {
        private int threads;
        private boolean memoryMap = true;
        private Backend backend = Backend.CPU;
        private int gpuDevice = -1;
        private int contextLength;
        private boolean sharedThreadPool;

        /** CPU threads; 0 (default) = all cores. */
        public Builder threads(int threads) {
            if (threads < 0) throw new IllegalArgumentException("threads must be >= 0, got " + threads);
            this.threads = threads;
            return this;
        }

        /** Map the file (default) or read it into memory. */
        public Builder memoryMap(boolean memoryMap) {
            this.memoryMap = memoryMap;
            return this;
        }

        public Builder backend(Backend backend) {
            this.backend = java.util.Objects.requireNonNull(backend, "backend");
            return this;
        }

        /** Index among the backend's devices; -1 (default) = automatic. */
        public Builder gpuDevice(int gpuDevice) {
            this.gpuDevice = gpuDevice;
            return this;
        }

        /**
         * Context length of the sessions {@link Model#newSession()} makes: n &gt; 0 exactly; 0 (default) =
         * min(the model's training context, 4096); {@link SessionOptions#MODEL_MAXIMUM} = the training context.
         */
        public Builder contextLength(int contextLength) {
            SessionOptions.Builder.checkContextLength(contextLength);
            this.contextLength = contextLength;
            return this;
        }

        /**
         * CPU models: run on one thread pool shared by every model of the process that asks for it (started by the
         * first with its thread count; a later model uses at most that many threads) instead of a pool of the
         * model's own (default). Models that take turns, such as a speculative decoding target and its draft,
         * then never have idle workers of one pool competing for cores with the other's; their evaluations run
         * one at a time.
         */
        public Builder sharedThreadPool(boolean shared) {
            this.sharedThreadPool = shared;
            return this;
        }

        public ModelOptions build() {
            return new ModelOptions(this);
        }
    }
}
