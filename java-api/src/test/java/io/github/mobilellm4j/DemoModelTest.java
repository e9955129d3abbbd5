package io.github.mobilellm4j;

import static org.junit.jupiter.api.Assertions.*;

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
                assertArrayEquals(ids, model.tokenizer().encode(p.get("text").asText()));
                int[] expected = ReferenceParityTest.ints(p.get("greedy_ids"));
                try (Session s = model.newSession(SessionOptions.builder().kvCacheType(KvCacheType.F32).build())) {
                    Generation g = s.generate(ids, GenerateOptions.builder().greedy().ignoreEos(true)
                            .maxTokens(expected.length).build(), null);
                    assertArrayEquals(expected, g.tokens(), "greedy continuation of '" + p.get("text").asText() + "'");
                }
            }
        }
    }

    @Test
    void bundledModelGeneratesEnglish() {
        try (Model model = Model.loadDemo()) {
            assertEquals(model.info().vocabSize(), model.tokenizer().vocabSize());
            Generation g = model.generate(DemoModel.EXAMPLE_PROMPT, GenerateOptions.builder().greedy().maxTokens(24).build());
            assertTrue(g.tokens().length > 0);
            long letters = g.text().chars().filter(Character::isLetter).count();
            assertTrue(letters > g.text().length() / 2, "mostly letters: " + g.text());
        }
    }
}
