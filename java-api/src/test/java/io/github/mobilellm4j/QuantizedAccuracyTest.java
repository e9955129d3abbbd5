package io.github.mobilellm4j;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mobilellm4j.eval.Perplexity;
import java.nio.file.Files;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Accuracy of quantized files on the transformers reference checkpoints (eval.py perplexity on the held-out
 * text): Q8_0 within 1% of F32 (the quantization issue's bar; measured -0.4% to +0.5%); Q4_0 is reported and
 * must stay within 5% (measured +1.4% to +1.8%; 4-bit blocks on 96/128-wide models lose more than on real
 * MobileLLM widths, so this bound is looser).
 */
class QuantizedAccuracyTest {
    @ParameterizedTest
    @ValueSource(strings = {"mobilellm-bin-bf16", "mobilellm-ls-f16", "llama-sharded-bf16-lmhead", "llama-f32"})
    void q8PerplexityWithinOnePercentOfF32(String name) throws Exception {
        JsonNode ref = TestFiles.json(TestFiles.testdata("reference/" + name + ".json")).get("perplexity");
        String text = Files.readString(TestFiles.repoRoot().resolve(ref.get("text").asText()));
        int ctx = ref.get("ctx").asInt();
        double f32 = ppl(name, "f32", text, ctx);
        double q8 = ppl(name, "q8_0", text, ctx);
        double q4 = ppl(name, "q4_0", text, ctx);
        System.out.printf("perplexity %s: f32 %.4f q8_0 %.4f (%+.3f%%) q4_0 %.4f (%+.2f%%)%n", name, f32, q8,
                100 * (q8 / f32 - 1), q4, 100 * (q4 / f32 - 1));
        assertEquals(f32, q8, 0.01 * f32, name + ": q8_0 perplexity vs f32");
        assertEquals(f32, q4, 0.05 * f32, name + ": q4_0 perplexity vs f32");
    }

    private static double ppl(String name, String type, String text, int ctx) {
        try (Model m = Model.load(TestFiles.checkpoint(name, type), ModelOptions.builder().threads(2).build())) {
            return Perplexity.compute(m, text, ctx, Perplexity.Method.MOBILELLM, KvCacheType.F32, null).perplexity();
        }
    }
}
