package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.*;

import io.github.mobilellm4j.bindings.mllm_sampler_params;
import io.github.mobilellm4j.sampling.SamplerOptions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** The native sampler: picks tokens from logits rows. One thread at a time. */
final class Sampler implements AutoCloseable {
    private final MemorySegment handle;
    private final int vocab;

    Sampler(SamplerOptions o, int vocab) {
        this.vocab = vocab;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = mllm_sampler_params.allocate(arena);
            mllm_sampler_params_init(p);
            mllm_sampler_params.greedy(p, o.isGreedy() ? 1 : 0);
            mllm_sampler_params.temperature(p, o.temperature());
            mllm_sampler_params.top_k(p, o.topK());
            mllm_sampler_params.top_p(p, o.topP());
            mllm_sampler_params.min_p(p, o.minP());
            mllm_sampler_params.repeat_penalty(p, o.repeatPenalty());
            mllm_sampler_params.repeat_last_n(p, o.repeatLastN());
            mllm_sampler_params.seed(p, o.seed());
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(mllm_sampler_create(p, vocab, out), "sampler");
            handle = out.get(ValueLayout.ADDRESS, 0);
        }
    }

    int sample(MemorySegment logitsRow) {
        int t = mllm_sampler_sample(handle, logitsRow, vocab);
        if (t < 0) throw Native.error(MLLM_ERR_INVALID_ARGUMENT(), "sample");
        return t;
    }

    /**
     * Writes to probsOut (vocab floats) the distribution {@link #sample} would draw from for this row and the
     * current history, without drawing or recording anything.
     */
    void distribution(MemorySegment logitsRow, MemorySegment probsOut) {
        Native.check(mllm_sampler_distribution(handle, logitsRow, vocab, probsOut), "sampler distribution");
    }

    /** Draws a token with probability proportional to weights (vocab floats) from the sampler's generator; -1 if they sum to 0. */
    int draw(MemorySegment weights) {
        return mllm_sampler_draw(handle, weights, vocab);
    }

    /** The next uniform number in [0, 1) of the sampler's generator. */
    double uniform() {
        return mllm_sampler_uniform(handle);
    }

    /** Clears the repetition history (the generator is reseeded with seed). */
    void reset(long seed) {
        Native.check(mllm_sampler_reset(handle, seed), "sampler reset");
    }

    int vocab() {
        return vocab;
    }

    MemorySegment handle() {
        return handle;
    }

    void accept(int token) {
        Native.check(mllm_sampler_accept(handle, token), "sampler accept");
    }

    @Override
    public void close() {
        mllm_sampler_free(handle);
    }
}
