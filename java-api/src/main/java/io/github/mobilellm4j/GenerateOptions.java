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
    private final Model draft;
    private final int maxDraftTokens;

    private GenerateOptions(Builder b) {
        this.maxTokens = b.maxTokens;
        this.stopStrings = List.copyOf(b.stopStrings);
        this.sampler = b.sampler;
        this.ignoreEos = b.ignoreEos;
        this.addBos = b.addBos;
        this.parseSpecial = b.parseSpecial;
        this.timeout = b.timeout;
        this.draft = b.draft;
        this.maxDraftTokens = b.maxDraftTokens;
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
        b.draft = draft;
        b.maxDraftTokens = maxDraftTokens;
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

    /** The draft model of speculative decoding, or null (none). See {@link Builder#draft(Model, int)}. */
    public Model draft() {
        return draft;
    }

    /** The most tokens the draft proposes per step (0 without a draft). */
    public int maxDraftTokens() {
        return maxDraftTokens;
    }

    public static final class Builder {
        private int maxTokens = 128;
        private List<String> stopStrings = List.of();
        private SamplerOptions sampler = SamplerOptions.builder().build();
        private boolean ignoreEos;
        private Boolean addBos;
        private boolean parseSpecial;
        private java.time.Duration timeout;
        private Model draft;
        private int maxDraftTokens;

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

        /**
         * Speculative decoding: a small draft model of the same vocabulary proposes up to {@code maxDraftTokens}
         * tokens at a time, and the generating model checks all of them in one batched pass, keeping the
         * longest run it agrees with plus one token of its own. Each accepted proposal saves one pass of the
         * large model, so the speed-up grows with the draft's acceptance rate and with how much cheaper the
         * draft is; {@link Timings#draftedTokens()} and {@link Timings#acceptedDraftTokens()} report it.
         *
         * <p>The result does not depend on the draft: with greedy sampling the tokens are exactly those of the
         * model alone, and with random sampling every token follows the same distribution as without a draft
         * (proposals are accepted with probability min(1, p/q) and a rejection is replaced by a token drawn from
         * the remaining probability mass), so a draft only changes speed. Stop strings, {@link #maxTokens},
         * end-of-generation tokens, {@link #timeout} and cancellation behave as without a draft, and the
         * session ends at the same position.
         *
         * <p>The number of proposals adapts within [1, maxDraftTokens]: it grows while all proposals are
         * accepted and shrinks after early rejections; a draft that misses even a single proposal is paused
         * for 8 tokens, then 16, 32, ... up to 256 while it keeps missing, so a poorly matched draft costs little
         * more than the model alone. The draft runs in a session of its own, made and closed
         * by each generation, that sees the generation's prompt (not earlier content of the session). Works with
         * {@link Session#generate}, {@link Session#stream} and {@link Session#generateAsync}; a
         * {@link Scheduler} refuses options with a draft. On the CPU, load both models with
         * {@link ModelOptions.Builder#sharedThreadPool(boolean) sharedThreadPool(true)}: they take turns, and with a
         * pool each the idle workers of one compete for cores with the other.
         *
         * @param draft a model with the same vocabulary as the generating one: the same size, token texts and
         *     special tokens (checked when the generation starts; a difference throws IllegalArgumentException
         *     naming it)
         * @param maxDraftTokens the most tokens proposed per step, 1 to 64 (typically 4 to 8)
         */
        public Builder draft(Model draft, int maxDraftTokens) {
            java.util.Objects.requireNonNull(draft, "draft");
            if (maxDraftTokens < 1 || maxDraftTokens > 64) {
                throw new IllegalArgumentException("maxDraftTokens must be in [1, 64], got " + maxDraftTokens);
            }
            this.draft = draft;
            this.maxDraftTokens = maxDraftTokens;
            return this;
        }

        /** Generates without a draft model (the default). */
        public Builder noDraft() {
            this.draft = null;
            this.maxDraftTokens = 0;
            return this;
        }

        public GenerateOptions build() {
            return new GenerateOptions(this);
        }
    }
}
