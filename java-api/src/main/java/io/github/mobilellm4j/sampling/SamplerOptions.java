package io.github.mobilellm4j.sampling;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Token sampling settings. Immutable; build with {@link #builder()} or use {@link #greedy()}.
 *
 * <p>As in llama.cpp, the seed is random unless one is given: {@link Builder#build()} without
 * {@link Builder#seed(long)} draws one in [0, 2^32). {@link #seed()} tells which seed an options object uses, and
 * the same seed with the same model, prompt and settings gives the same tokens, so a run can be repeated.
 */
public final class SamplerOptions {
    private final boolean greedy;
    private final float temperature;
    private final int topK;
    private final float topP;
    private final float minP;
    private final float repeatPenalty;
    private final int repeatLastN;
    private final long seed;

    private SamplerOptions(Builder b) {
        this.greedy = b.greedy;
        this.temperature = b.temperature;
        this.topK = b.topK;
        this.topP = b.topP;
        this.minP = b.minP;
        this.repeatPenalty = b.repeatPenalty;
        this.repeatLastN = b.repeatLastN;
        this.seed = b.seedGiven ? b.seed : ThreadLocalRandom.current().nextLong(1L << 32);
    }

    /** Always the most likely token. */
    public static SamplerOptions greedy() {
        return builder().greedy(true).build();
    }

    /** Defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, no repetition penalty, a random seed. */
    public static Builder builder() {
        return new Builder();
    }

    public boolean isGreedy() {
        return greedy;
    }

    public float temperature() {
        return temperature;
    }

    public int topK() {
        return topK;
    }

    public float topP() {
        return topP;
    }

    public float minP() {
        return minP;
    }

    public float repeatPenalty() {
        return repeatPenalty;
    }

    public int repeatLastN() {
        return repeatLastN;
    }

    /** The seed given to the builder, or the random one drawn when none was. */
    public long seed() {
        return seed;
    }

    public static final class Builder {
        private boolean greedy;
        private float temperature = 0.8f;
        private int topK = 40;
        private float topP = 0.95f;
        private float minP = 0.05f;
        private float repeatPenalty = 1.0f;
        private int repeatLastN = 64;
        private long seed;
        private boolean seedGiven;

        public Builder greedy(boolean greedy) {
            this.greedy = greedy;
            return this;
        }

        /** Softmax temperature; 0 behaves as greedy. */
        public Builder temperature(float t) {
            if (!(t >= 0)) throw new IllegalArgumentException("temperature must be >= 0, got " + t);
            this.temperature = t;
            return this;
        }

        /** Keep the k most likely tokens; 0 disables. */
        public Builder topK(int k) {
            if (k < 0) throw new IllegalArgumentException("topK must be >= 0, got " + k);
            this.topK = k;
            return this;
        }

        /** Nucleus sampling threshold in (0, 1]; 1 disables. */
        public Builder topP(float p) {
            if (!(p > 0 && p <= 1)) throw new IllegalArgumentException("topP must be in (0, 1], got " + p);
            this.topP = p;
            return this;
        }

        /** Drop tokens less likely than minP times the most likely one; 0 disables. */
        public Builder minP(float p) {
            if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("minP must be in [0, 1], got " + p);
            this.minP = p;
            return this;
        }

        /** Penalty for recently seen tokens; 1 disables. */
        public Builder repeatPenalty(float penalty) {
            if (!(penalty > 0)) throw new IllegalArgumentException("repeatPenalty must be > 0, got " + penalty);
            this.repeatPenalty = penalty;
            return this;
        }

        /** How many recent tokens the repetition penalty looks at. */
        public Builder repeatLastN(int n) {
            if (n < 0) throw new IllegalArgumentException("repeatLastN must be >= 0, got " + n);
            this.repeatLastN = n;
            return this;
        }

        /** Same seed and same model give the same tokens; without a seed each built options object draws one. */
        public Builder seed(long seed) {
            this.seed = seed;
            this.seedGiven = true;
            return this;
        }

        public SamplerOptions build() {
            return new SamplerOptions(this);
        }
    }
}
