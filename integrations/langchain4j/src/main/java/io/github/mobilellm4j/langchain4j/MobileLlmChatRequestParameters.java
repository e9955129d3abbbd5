package io.github.mobilellm4j.langchain4j;

import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.DefaultChatRequestParameters;
import java.util.Objects;

/**
 * LangChain4j's chat request parameters plus mobilellm4j's own: the sampler's seed (the same seed, model, prompt and
 * parameters give the same reply), min-p and the repetition penalty. Use it where LangChain4j takes
 * {@link ChatRequestParameters}: a model's defaults, or one request's.
 */
public class MobileLlmChatRequestParameters extends DefaultChatRequestParameters {
    public static final MobileLlmChatRequestParameters EMPTY = builder().build();

    private final Long seed;
    private final Double minP;
    private final Double repeatPenalty;

    private MobileLlmChatRequestParameters(Builder builder) {
        super(builder);
        this.seed = builder.seed;
        this.minP = builder.minP;
        this.repeatPenalty = builder.repeatPenalty;
    }

    /** The sampler's seed; null for a random one. */
    public Long seed() {
        return seed;
    }

    /** Tokens less likely than minP times the most likely one are dropped; null for the default (0.05). */
    public Double minP() {
        return minP;
    }

    /** Penalty for recently seen tokens (1 = none); null for none. */
    public Double repeatPenalty() {
        return repeatPenalty;
    }

    @Override
    public MobileLlmChatRequestParameters overrideWith(ChatRequestParameters that) {
        return builder().overrideWith(this).overrideWith(that).build();
    }

    @Override
    public MobileLlmChatRequestParameters defaultedBy(ChatRequestParameters that) {
        return builder().overrideWith(that).overrideWith(this).build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MobileLlmChatRequestParameters that && super.equals(o) && Objects.equals(seed, that.seed)
                && Objects.equals(minP, that.minP) && Objects.equals(repeatPenalty, that.repeatPenalty);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), seed, minP, repeatPenalty);
    }

    @Override
    public String toString() {
        return "MobileLlmChatRequestParameters{" + super.toString() + ", seed=" + seed + ", minP=" + minP
                + ", repeatPenalty=" + repeatPenalty + "}";
    }

    public static Builder builder() {
        return new Builder();
    }

    public static class Builder extends DefaultChatRequestParameters.Builder<Builder> {
        private Long seed;
        private Double minP;
        private Double repeatPenalty;

        /** Takes every parameter parameters sets (ours too when it is a MobileLlmChatRequestParameters). */
        @Override
        public Builder overrideWith(ChatRequestParameters parameters) {
            super.overrideWith(parameters);
            if (parameters instanceof MobileLlmChatRequestParameters m) {
                if (m.seed != null) seed(m.seed);
                if (m.minP != null) minP(m.minP);
                if (m.repeatPenalty != null) repeatPenalty(m.repeatPenalty);
            }
            return this;
        }

        public Builder seed(Long seed) {
            this.seed = seed;
            return this;
        }

        public Builder minP(Double minP) {
            this.minP = minP;
            return this;
        }

        public Builder repeatPenalty(Double repeatPenalty) {
            this.repeatPenalty = repeatPenalty;
            return this;
        }

        @Override
        public MobileLlmChatRequestParameters build() {
            return new MobileLlmChatRequestParameters(this);
        }
    }
}
