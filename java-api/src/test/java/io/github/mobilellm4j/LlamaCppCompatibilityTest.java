package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mobilellm4j.convert.ConvertOptions;
import io.github.mobilellm4j.convert.Converter;
import io.github.mobilellm4j.convert.OutputType;
import io.github.mobilellm4j.convert.gguf.GgufReader;
import io.github.mobilellm4j.convert.gguf.GgufTensorInfo;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Files written by another implementation: testdata/llamacpp holds GGUF files that llama.cpp's own
 * llama-quantize made from our F32 conversion of testdata/checkpoints/llama-f32, and the greedy text
 * llama.cpp's llama-simple generated from each (reference.json). Our engine must run them and generate the
 * same text; where our converter writes the same type, its blocks must equal llama.cpp's byte for byte.
 */
class LlamaCppCompatibilityTest {
    static final JsonNode REF = TestFiles.json(TestFiles.testdata("llamacpp/reference.json"));

    @ParameterizedTest
    @ValueSource(strings = {"q4_0", "q4_1", "q5_0", "q5_1", "q8_0"})
    void llamaCppQuantizedFilesGenerateWhatLlamaCppGenerated(String type) {
        JsonNode f = REF.get("files").get(type);
        try (Model model = Model.load(TestFiles.repoRoot().resolve(f.get("file").asText()),
                ModelOptions.builder().threads(2).build());
                Session s = model.newSession()) {
            int[] prompt = model.tokenizer().encode(REF.get("prompt").asText());
            assertThat(prompt[0]).as("llama-simple adds BOS").isEqualTo(model.info().vocabulary().bosToken());
            Generation g = s.generate(prompt, GenerateOptions.builder().greedy()
                    .maxTokens(REF.get("n_predict").asInt()).build(), null);
            assertThat(g.text()).as("%s: greedy text of llama.cpp vs ours", type)
                    .isEqualTo(f.get("continuation").asText());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"q4_0", "q8_0", "q4_1", "q5_0", "q5_1"})
    void ourConverterWritesLlamaCppsBytes(String type) throws Exception {
        Path ours = TestFiles.outDir().resolve("llama-f32-pure-" + type + ".gguf");
        Converter.convert(TestFiles.testdata("checkpoints/llama-f32"), ours,
                ConvertOptions.defaults().withType(OutputType.parse(type)).withPure(true).withForce(true));
        try (GgufReader a = GgufReader.open(ours);
                GgufReader b = GgufReader.open(TestFiles.repoRoot().resolve(REF.get("files").get(type).get("file").asText()))) {
            assertThat(a.tensors()).hasSameSizeAs(b.tensors());
            int compared = 0;
            for (GgufTensorInfo tb : b.tensors()) {
                GgufTensorInfo ta = a.tensor(tb.name());
                assertThat(ta).as("tensor " + tb.name()).isNotNull();
                assertThat(ta.type()).as(tb.name()).isEqualTo(tb.type());
                assertThat(ta.ne()).as(tb.name()).isEqualTo(tb.ne());
                long mismatch = a.tensorData(ta).mismatch(b.tensorData(tb));
                assertThat(mismatch).as(tb.name() + ": first differing byte").isEqualTo(-1L);
                compared++;
            }
            assertThat(compared).as("tensors compared").isGreaterThanOrEqualTo(30);
        }
    }
}
