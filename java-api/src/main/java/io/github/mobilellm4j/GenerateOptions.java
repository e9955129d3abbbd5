package io.github.mobilellm4j;

import io.github.mobilellm4j.sampling.SamplerOptions;
import java.util.List;

/** What to generate. Immutable; build with {@link #builder()}. */
public final class GenerateOptions {
    private final int maxTokens;
    private final List<String> stopStrings;
    private final SamplerOptions sampler;
    private final boolean ignoreEos;
    private final Boolean addBos;
    private final boolean parseSpecial;
    private final java.time.Duration timeout;

    private GenerateOptions(Builder b) {
        this.maxTokens = b.maxTokens;
        this.stopStrings = List.copyOf(b.stopStrings);
        this.sampler = b.sampler;
        this.ignoreEos = b.ignoreEos;
        this.addBos = b.addBos;
        this.parseSpecial = b.parseSpecial;
        this.timeout = b.timeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these options: to derive options that differ in a few settings. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxTokens = maxTokens;
        b.stopStrings = stopStrings;
        b.sampler = sampler;
        b.ignoreEos = ignoreEos;
        b.addBos = addBos;
        b.parseSpecial = parseSpecial;
        b.timeout = timeout;
        return b;
    }

    public int maxTokens() {
        return maxTokens;
    }

    public List<String> stopStrings() {
        return stopStrings;
    }

    public SamplerOptions sampler() {
        return sampler;
    }

    public boolean ignoreEos() {
        return ignoreEos;
    }

    /** null = the model's add_bos setting. Applies to text prompts only. */
    public Boolean addBos() {
        return addBos;
    }

    public boolean parseSpecial() {
        return parseSpecial;
    }

    /** The time limit of a generation, prompt included; null: none. */
    public java.time.Duration timeout() {
        return timeout;
    }

    public static final class Builder {
        private int maxTokens = 128;
        private List<String> stopStrings = List.of();
        private SamplerOptions sampler = SamplerOptions.builder().build();
        private boolean ignoreEos;
        private Boolean addBos;
        private boolean parseSpecial;
        private java.time.Duration timeout;

        /** Most tokens to generate (default 128). */
        public Builder maxTokens(int n) {
            if (n < 0) throw new IllegalArgumentException("maxTokens must be >= 0, got " + n);
            this.maxTokens = n;
            return this;
        }

        /** Generation stops when any of these appears; the returned text ends before it. */
        public Builder stopStrings(List<String> stops) {
            for (String s : stops) {
                if (s == null || s.isEmpty()) throw new IllegalArgumentException("stop strings must be non-empty");
            }
            this.stopStrings = List.copyOf(stops);
            return this;
        }

        public Builder stopStrings(String... stops) {
            return stopStrings(List.of(stops));
        }

        /** How tokens are picked; default {@code SamplerOptions.builder().build()}: sampling with a random seed. */
        public Builder sampler(SamplerOptions sampler) {
            this.sampler = java.util.Objects.requireNonNull(sampler, "sampler");
            return this;
        }

        /** Shorthand for sampler(SamplerOptions.greedy()). */
        public Builder greedy() {
            return sampler(SamplerOptions.greedy());
        }

        /** Keep generating past the end-of-sequence token. */
        public Builder ignoreEos(boolean ignore) {
            this.ignoreEos = ignore;
            return this;
        }

        /** Force BOS on or off for text prompts (default: the model's setting). */
        public Builder addBos(boolean add) {
            this.addBos = add;
            return this;
        }

        /** Treat control-token text in the prompt (e.g. "&lt;s&gt;") as those tokens. */
        public Builder parseSpecial(boolean parse) {
            this.parseSpecial = parse;
            return this;
        }

        /**
         * A time limit for the whole generation, prompt processing included (default: none). When it passes, the
         * generation ends with {@link StopReason#TIMEOUT} and returns the text generated so far; a prompt still
         * being read stops within about one layer's time and leaves the session as before the prompt. A service
         * uses it to bound each request however long the prompt or slow the machine.
         */
        public Builder timeout(java.time.Duration timeout) {
            java.util.Objects.requireNonNull(timeout, "timeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive, got " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        public GenerateOptions build() {
            return new GenerateOptions(this);
        }
    }
}
