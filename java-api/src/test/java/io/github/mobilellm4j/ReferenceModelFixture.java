package io.github.mobilellm4j;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The llama-f32 test checkpoint, loaded once per test class that extends this one (2 threads) and closed after it,
 * with {@link #PROMPT}'s tokens. The test classes of this module run one after another, so the static model is
 * always that of the class running.
 */
abstract class ReferenceModelFixture {
    static final String PROMPT = "This License applies to any program";
    static Model model;
    static int[] prompt;

    /** A new model of the llama-f32 checkpoint (F32 conversion), owned by the caller. */
    static Model load(int threads) {
        return Model.load(TestFiles.checkpoint("llama-f32", "f32"), ModelOptions.builder().threads(threads).build());
    }

    @BeforeAll
    static void loadReferenceModel() {
        model = load(2);
        prompt = model.tokenizer().encode(PROMPT);
    }

    @AfterAll
    static void closeReferenceModel() {
        model.close();
    }
}
