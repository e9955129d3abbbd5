package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Model#embedAll} and {@link Model#scoreAll}: texts of different lengths, more than one pass holds, give
 * what the one-at-a-time calls give ({@link Model#embed}, {@link Session#score} in a fresh session), also for a
 * text longer than a pass (which runs alone); {@link Batch#addEmbedding} refuses to share a pass with logits.
 */
class EmbedAllScoreAllTest extends ReferenceModelFixture {
    /**
     * The checkpoint's normed hidden states and logits are of magnitude ~1-10; a pass over more rows may sum the
     * f32 products of its matmuls in another order, moving them by ~1e-6 relative, and the log-sum-exp of a
     * score by as much: 1e-4 leaves room for that and none for a wrong row, pooling or target.
     */
    private static final double TOLERANCE = 1e-4;

    private static final List<String> TEXTS = List.of("This License applies to any program",
            "Hello", "The quick brown fox jumps over the lazy dog, again and again, until it is tired of jumping",
            "a b c", "Copyright (C) 1989 Free Software Foundation", "Everyone is permitted to copy and distribute",
            "verbatim copies of this license document, but changing it is not allowed.");

    /** Passes of 24 tokens and 3 texts: the seven texts take several passes; the longest runs alone. */
    private static final BatchLimits SMALL = new BatchLimits(24, 3);

    @Test
    void embedAllEqualsEmbedForEveryPoolingAndNormalisation() {
        assertThat(model.tokenizer().encode(TEXTS.get(2)).length).as("a text longer than a pass").isGreaterThan(24);
        for (Pooling pooling : Pooling.values()) {
            for (boolean normalize : new boolean[] {false, true}) {
                List<float[]> all = model.embedAll(TEXTS, pooling, normalize, SMALL);
                assertThat(all).hasSize(TEXTS.size());
                for (int i = 0; i < TEXTS.size(); i++) {
                    float[] alone = model.embed(TEXTS.get(i), pooling, normalize);
                    assertClose(all.get(i), alone, pooling + " normalize " + normalize + " text " + i);
                }
            }
        }
    }

    @Test
    void embedAllWithDefaultLimitsEqualsEmbed() {
        List<float[]> all = model.embedAll(TEXTS, Pooling.MEAN, true);
        for (int i = 0; i < TEXTS.size(); i++) assertClose(all.get(i), model.embed(TEXTS.get(i), Pooling.MEAN, true), "text " + i);
    }

    @Test
    void scoreAllEqualsScoreInAFreshSession() {
        List<float[]> all = model.scoreAll(TEXTS.stream().filter(t -> !t.equals("Hello")).toList(), SMALL);
        int k = 0;
        for (String text : TEXTS) {
            if (text.equals("Hello")) continue;
            try (Session s = model.newSession()) {
                float[] alone = s.score(model.tokenizer().encode(text));
                assertClose(all.get(k++), alone, text);
            }
        }
    }

    @Test
    void badInputIsRefusedBeforeAnythingRuns() {
        List<int[]> withEmpty = new ArrayList<>(List.of(prompt, new int[0]));
        assertThatThrownBy(() -> model.embedAllTokens(withEmpty, Pooling.MEAN, false, SMALL))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("text 1 has 0 tokens");
        assertThatThrownBy(() -> model.scoreAllTokens(List.of(prompt, new int[] {5}), SMALL))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("text 1 has 1 tokens; at least 2");
        assertThatThrownBy(() -> model.embedAllTokens(List.of(new int[] {-1}), Pooling.MEAN, false, SMALL))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token id -1");
        assertThatThrownBy(() -> new BatchLimits(0, 4)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxTokens");
        assertThat(model.embedAll(List.of(), Pooling.LAST, false)).isEmpty();
    }

    @Test
    void aPassYieldsEitherLogitsOrEmbeddings() {
        try (Batch batch = Batch.create(model, 64, 4); Session a = model.newSession(); Session b = model.newSession()) {
            assertThatThrownBy(a::embedding).isInstanceOf(MobileLlmException.class).hasMessageContaining("no embedding");
            batch.addEmbedding(a, prompt, Pooling.MEAN, false);
            assertThatThrownBy(() -> batch.add(b, prompt, true)).isInstanceOf(MobileLlmException.class)
                    .hasMessageContaining("either logits or embeddings");
            batch.decode();
            assertClose(a.embedding(), model.embed(PROMPT, Pooling.MEAN, false), "after the refused add");
            assertThat(a.position()).isZero();
        }
    }

    private static void assertClose(float[] got, float[] want, String what) {
        assertThat(got).as(what).hasSameSizeAs(want);
        double worst = 0, scale = 0;
        for (int i = 0; i < want.length; i++) {
            worst = Math.max(worst, Math.abs(got[i] - want[i]));
            scale = Math.max(scale, Math.abs(want[i]));
        }
        assertThat(scale).as(what + ": not all zero").isGreaterThan(1e-3);
        assertThat(worst).as(what + ": max |batched - alone|").isLessThan(TOLERANCE * Math.max(1, scale));
    }
}
