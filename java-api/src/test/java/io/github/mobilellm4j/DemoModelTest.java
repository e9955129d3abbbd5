package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * The bundled demo model: its F32 conversion (by our converter, from the checkpoint transformers saved)
 * continues the recorded prompts exactly as transformers did (models/demo/reference.json); the bundled
 * Q8_0 file loads and writes text.
 */
class DemoModelTest {
    @Test
    void f32GreedyContinuationEqualsTransformers() {
        JsonNode ref = TestFiles.json(TestFiles.repoRoot().resolve("models/demo/reference.json"));
        try (Model model = Model.load(TestFiles.convert(TestFiles.repoRoot().resolve("models/demo/hf"), "demo", "f32"))) {
            for (JsonNode p : ref.get("prompts")) {
                int[] ids = ReferenceParityTest.ints(p.get("ids"));
                assertThat(model.tokenizer().encode(p.get("text").asText())).isEqualTo(ids);
                int[] expected = ReferenceParityTest.ints(p.get("greedy_ids"));
                try (Session s = model.newSession(SessionOptions.builder().kvCacheType(KvCacheType.F32).build())) {
                    Generation g = s.generate(ids, GenerateOptions.builder().greedy().ignoreEos(true)
                            .maxTokens(expected.length).build(), null);
                    assertThat(g.tokens()).as("greedy continuation of '%s'", p.get("text").asText())
                            .isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void bundledModelGeneratesEnglish() {
        try (Model model = Model.loadDemo()) {
            assertThat(model.tokenizer().vocabSize()).isEqualTo(model.info().vocabSize());
            Generation g = model.generate(DemoModel.EXAMPLE_PROMPT, GenerateOptions.builder().greedy().maxTokens(24).build());
            assertThat(g.tokens()).isNotEmpty();
            long letters = g.text().chars().filter(Character::isLetter).count();
            assertThat(letters).as("mostly letters: " + g.text()).isGreaterThan(g.text().length() / 2);
        }
    }
}
