package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.MLLM_LOGITS_LAST;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.mobilellm4j.sampling.SamplerOptions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Speculative sampling keeps the target's distribution: the first three generated tokens of the llama-f32 checkpoint,
 * drafted by mobilellm-ls-f16 (other weights: proposals are often rejected), follow the joint distribution of the
 * target alone, computed exactly from the target's own single-token evaluations and its sampler's distributions
 * (which the C test test_sampler checks against what sample() draws). The settings use every stage of the sampler
 * (repetition penalty, top-k, temperature) and a small top-k, so that the joint law has few enough outcomes to test;
 * a high temperature spreads the mass over them (these random-weight models are otherwise nearly certain).
 */
class SpeculativeSamplingTest extends ReferenceModelFixture {
    private static final int RUNS = 6000;
    private static final int CONTEXT = 64;

    private static SamplerOptions.Builder settings() {
        return SamplerOptions.builder().temperature(2.5f).topK(4).topP(1.0f).minP(0.0f).repeatPenalty(1.3f)
                .repeatLastN(64);
    }

    @Test
    void theFirstTokensFollowTheTargetsDistribution() {
        Map<List<Integer>, Double> expected = targetJointDistribution();
        Map<List<Integer>, Integer> counts = new HashMap<>();
        int drafted = 0;
        int accepted = 0;
        try (Model draft = Model.load(TestFiles.checkpoint("mobilellm-ls-f16", "f16"), ModelOptions.builder().threads(2).build());
                Session s = model.newSession(SessionOptions.builder().contextLength(CONTEXT).build())) {
            for (int seed = 0; seed < RUNS; seed++) {
                s.reset();
                // 4 tokens: the first round proposes the 2nd and 3rd (the 4th, the last, is never evaluated)
                GenerateOptions o = GenerateOptions.builder().sampler(settings().seed(seed).build()).ignoreEos(true)
                        .maxTokens(4).draft(draft, 2).build();
                Generation g = s.generate(prompt, o, null);
                int[] t = g.tokens();
                counts.merge(List.of(t[0], t[1], t[2]), 1, Integer::sum);
                drafted += g.timings().draftedTokens();
                accepted += g.timings().acceptedDraftTokens();
            }
        }

        double x2 = 0;
        int cells = 0;
        double pooledExpected = 0;
        int pooledCount = 0;
        for (var e : expected.entrySet()) {
            double exp = e.getValue() * RUNS;
            int got = counts.getOrDefault(e.getKey(), 0);
            if (exp < 5) { // Pearson's approximation needs >= 5 expected per cell: rare outcomes form one cell
                pooledExpected += exp;
                pooledCount += got;
                continue;
            }
            x2 += (got - exp) * (got - exp) / exp;
            cells++;
        }
        if (pooledExpected > 0) {
            x2 += (pooledCount - pooledExpected) * (pooledCount - pooledExpected) / pooledExpected;
            cells++;
        }
        double bound = chiSquareQuantile9999(cells - 1);
        System.out.printf("speculative sampling: %d outcomes in %d cells, chi-square %.2f (bound %.2f), acceptance %.2f%n",
                expected.size(), cells, x2, bound, (double) accepted / drafted);
        // both branches of the scheme ran many times (rejections are the rarer: the two small models' top-4
        // distributions are close)
        assertThat(accepted).as("accepted proposals").isGreaterThan(RUNS / 10);
        assertThat(drafted - accepted).as("rejected proposals").isGreaterThan(RUNS / 50);
        assertThat(expected.keySet()).as("no impossible outcome drawn").containsAll(counts.keySet());
        assertThat(cells).as("cells of the test").isGreaterThanOrEqualTo(6);
        assertThat(x2).isLessThan(bound);
    }

    /**
     * The 99.99% quantile of the chi-square law with df degrees of freedom (Wilson-Hilferty, within 1% for df >= 2;
     * 3.719 is the normal 99.99% quantile): a correct sampler fails with probability 1e-4 (never with these fixed
     * seeds), while a scheme that skewed any of the ~64 outcomes by a few percent of the mass exceeds it severalfold.
     */
    private static double chiSquareQuantile9999(int df) {
        double a = 2.0 / (9.0 * df);
        double c = 1 - a + 3.719 * Math.sqrt(a);
        return df * c * c * c;
    }

    /** P(t1, t2, t3) of the target alone: products of its sampler's distributions along every path. */
    private static Map<List<Integer>, Double> targetJointDistribution() {
        Map<List<Integer>, Double> joint = new HashMap<>();
        int vocab = model.info().vocabulary().size();
        try (Session s = model.newSession(SessionOptions.builder().contextLength(CONTEXT).build());
                Sampler sampler = new Sampler(settings().seed(0).build(), vocab); Arena arena = Arena.ofConfined()) {
            MemorySegment probs = arena.allocate(4L * vocab, 4);
            float[] p1 = distribution(s, sampler, prompt, new int[0], probs);
            for (int t1 = 0; t1 < vocab; t1++) {
                if (p1[t1] == 0) continue;
                s.truncate(prompt.length);
                float[] p2 = distribution(s, sampler, new int[] {t1}, new int[] {t1}, probs);
                for (int t2 = 0; t2 < vocab; t2++) {
                    if (p2[t2] == 0) continue;
                    s.truncate(prompt.length + 1);
                    float[] p3 = distribution(s, sampler, new int[] {t2}, new int[] {t1, t2}, probs);
                    for (int t3 = 0; t3 < vocab; t3++) {
                        if (p3[t3] > 0) joint.put(List.of(t1, t2, t3), (double) p1[t1] * p2[t2] * p3[t3]);
                    }
                }
            }
        }
        return joint;
    }

    /** Evaluates tokens and returns the sampler's distribution for the next one, with history as its sampled tokens. */
    private static float[] distribution(Session s, Sampler sampler, int[] tokens, int[] history, MemorySegment probs) {
        return s.call(() -> {
            s.evaluate(tokens, MLLM_LOGITS_LAST());
            sampler.reset(0);
            for (int t : history) sampler.accept(t);
            sampler.distribution(s.lastRow(), probs);
            return probs.toArray(ValueLayout.JAVA_FLOAT);
        });
    }
}
