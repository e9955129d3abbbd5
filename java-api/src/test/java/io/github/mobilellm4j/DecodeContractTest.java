package io.github.mobilellm4j;

import static io.github.mobilellm4j.ApiBehaviourTest.greedy;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decode contract of Session.generate (see its javadoc and mobilellm.h): {@code mllm_generate} called
 * directly ({@link Session#generateNative}) and the engine's loop driven step by step from Java leave the session
 * at the same position, holding the same logits, when a returned token ends the generation (the token limit, a stop string),
 * and both continue the sequence as one uninterrupted generation would once that last token is fed first; after an
 * end-of-turn stop, every returned token is in the sequence.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DecodeContractTest {
    private final Model model = Model.load(TestFiles.checkpoint("llama-f32", "f32"),
            ModelOptions.builder().threads(2).build());
    private final int[] prompt = model.tokenizer().encode(ApiBehaviourTest.PROMPT);

    @AfterAll
    void close() {
        model.close();
    }

    @Test
    void bothCallsStopOnTheTokenLimitAtTheSamePlaceAndContinueAlike() {
        Generation whole = alone(greedy(10));
        try (Session java = model.newSession(); Session c = model.newSession()) {
            Generation gj = java.generate(prompt, greedy(6), null);
            Generation gc = c.generateNative(prompt, greedy(6));
            assertThat(gj.stopReason()).isEqualTo(StopReason.MAX_TOKENS);
            assertThat(gc.tokens()).isEqualTo(gj.tokens()).isEqualTo(Arrays.copyOf(whole.tokens(), 6));
            assertSameStateAsEvaluatingAllButTheLast(java, c, gj.tokens());
            assertContinuesAsOneGeneration(java, c, gj.tokens(), whole);
        }
    }

    @Test
    void aStopStringLeavesTheSessionAsTheTokenLimitDoesInTheEnginesLoop() {
        Generation whole = alone(greedy(10));
        // the text of the fourth token as a stop string: Session.generate stops on the first token completing it
        String stop = model.tokenizer().decode(new int[] {whole.tokens()[3]}).strip();
        assertThat(stop).as("a stop string of visible text").isNotEmpty();
        GenerateOptions withStop = GenerateOptions.builder().greedy().ignoreEos(true).maxTokens(10).stopStrings(stop)
                .build();
        try (Session java = model.newSession(); Session c = model.newSession()) {
            Generation gj = java.generate(prompt, withStop, null);
            assertThat(gj.stopReason()).isEqualTo(StopReason.STOP_STRING);
            assertThat(gj.tokens()).hasSizeBetween(1, 4);
            // the engine's loop has no stop strings: the same tokens through its token limit
            Generation gc = c.generateNative(prompt, greedy(gj.tokens().length));
            assertThat(gc.tokens()).isEqualTo(gj.tokens());
            assertSameStateAsEvaluatingAllButTheLast(java, c, gj.tokens());
            assertContinuesAsOneGeneration(java, c, gj.tokens(), whole);
        }
    }

    @Test
    void anEndOfTurnStopHasEvaluatedEveryReturnedToken(@TempDir Path dir) throws Exception {
        Generation whole = alone(greedy(10));
        int end = whole.tokens()[4];
        int at = 0;
        while (whole.tokens()[at] != end) at++;
        // the same checkpoint, with the fifth greedy token named an end-of-turn token (generation_config.json lists
        // it after EOS): generation stops before its first occurrence
        Path gguf = ReferenceModelFixture.withEndOfTurn(dir, end);
        GenerateOptions o = GenerateOptions.builder().greedy().maxTokens(10).build();
        try (Model m = Model.load(gguf, ModelOptions.builder().threads(2).build()); Session java = m.newSession();
                Session c = m.newSession()) {
            Generation gj = java.generate(prompt, o, null);
            Generation gc = c.generateNative(prompt, o);
            assertThat(gj.stopReason()).isEqualTo(StopReason.EOS);
            assertThat(gc.stopReason()).isEqualTo(StopReason.EOS);
            assertThat(gj.tokens()).isEqualTo(gc.tokens()).isEqualTo(Arrays.copyOf(whole.tokens(), at));
            assertThat(java.position()).as("Session.generate").isEqualTo(prompt.length + at);
            assertThat(c.position()).as("engine loop").isEqualTo(prompt.length + at);
            assertThat(java.logits().toArray(0)).isEqualTo(c.logits().toArray(0));
        }
    }

    /** A greedy generation of the prompt in a fresh session. */
    private Generation alone(GenerateOptions o) {
        try (Session s = model.newSession()) {
            return s.generate(prompt, o, null);
        }
    }

    /**
     * Both sessions hold the prompt and every token but the last (n - 1 tokens), with the logits of a third session
     * that evaluated exactly those itself: the same computation, so equal bit for bit.
     */
    private void assertSameStateAsEvaluatingAllButTheLast(Session java, Session c, int[] tokens) {
        int n = tokens.length;
        assertThat(java.position()).as("Session.generate").isEqualTo(prompt.length + n - 1);
        assertThat(c.position()).as("engine loop").isEqualTo(prompt.length + n - 1);
        try (Session direct = model.newSession()) {
            float[] want = direct.eval(prompt).toArray(0);
            for (int i = 0; i < n - 1; i++) want = direct.eval(tokens[i]).toArray(0);
            assertThat(java.logits().toArray(0)).as("Session.generate").isEqualTo(want);
            assertThat(c.logits().toArray(0)).as("engine loop").isEqualTo(want);
        }
    }

    /** Fed the last token first, each loop goes on exactly as the uninterrupted generation did. */
    private void assertContinuesAsOneGeneration(Session java, Session c, int[] tokens, Generation whole) {
        int n = tokens.length;
        int more = whole.tokens().length - n;
        int[] last = {tokens[n - 1]};
        int[] want = Arrays.copyOfRange(whole.tokens(), n, whole.tokens().length);
        assertThat(java.generate(last, greedy(more), null).tokens()).as("Session.generate").isEqualTo(want);
        assertThat(c.generateNative(last, greedy(more)).tokens()).as("engine loop").isEqualTo(want);
        assertThat(java.position()).isEqualTo(c.position()).isEqualTo(prompt.length + whole.tokens().length - 1);
        assertThat(java.logits().toArray(0)).isEqualTo(c.logits().toArray(0));
    }
}
