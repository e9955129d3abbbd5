package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Tokenizer parity with the SentencePiece library: testdata/tokenizer/*.ref.json hold the ids SentencePiece
 * produced (reference/make_reference.py) for every string of testdata/tokenizer/corpus.json.
 */
class TokenizerParityTest {
    @Test
    void smallBpeModelMatchesSentencePiece() {
        // every test checkpoint carries testdata/tokenizer/small-bpe.model as its tokenizer.model
        try (Model model = Model.load(TestFiles.checkpoint("llama-f32", "f32"))) {
            checkCases(model, TestFiles.json(TestFiles.testdata("tokenizer/small-bpe.ref.json")));
        }
    }

    @Test
    void llama2VocabularyMatchesSentencePiece() throws Exception {
        try (Model model = Model.load(vocabularyModel("llama2-meta", TestFiles.llama2TokenizerJson()))) {
            assertThat(model.info().vocabulary().size()).isEqualTo(32000);
            assertThat(model.tokenizer().encode("Hello world"))
                    .as("LLaMA-2's well-known ids").containsExactly(1, 15043, 3186);
            checkCases(model, TestFiles.json(TestFiles.testdata("tokenizer/llama2.ref.json")));
        }
    }

    @Test
    void mistralVocabularyFromNpmMatchesSentencePiece() throws Exception {
        try (Model model = Model.load(vocabularyModel("lenml-mistral", TestFiles.lenmlTokenizerJson()))) {
            checkCases(model, TestFiles.json(TestFiles.testdata("tokenizer/lenml-mistral.ref.json")));
        }
    }

    /** A tiny random model around a 32000-piece tokenizer.json, converted by our converter. */
    private static Path vocabularyModel(String name, Path tokenizerJson) throws Exception {
        Path dir = TestFiles.outDir().resolve(name + "-vocab-hf");
        if (!Files.isRegularFile(dir.resolve("model.safetensors"))) TinyCheckpoint.write(dir, 32000, 32, 64);
        Files.copy(tokenizerJson, dir.resolve("tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return TestFiles.convert(dir, name + "-vocab", "f32");
    }

    private static void checkCases(Model model, JsonNode ref) {
        Tokenizer tok = model.tokenizer();
        List<String> failures = new ArrayList<>();
        int n = 0;
        for (JsonNode c : ref.get("cases")) {
            String text = c.get("text").asText();
            int[] expected = ReferenceParityTest.ints(c.get("ids"));
            int[] actual = tok.encode(text, false, false);
            if (!java.util.Arrays.equals(expected, actual)) {
                failures.add("encode " + quote(text) + ": expected " + java.util.Arrays.toString(expected) + " got "
                        + java.util.Arrays.toString(actual));
            }
            String decoded = tok.decode(expected);
            if (!decoded.equals(c.get("decoded").asText())) {
                failures.add("decode " + quote(text) + ": expected " + quote(c.get("decoded").asText()) + " got " + quote(decoded));
            }
            n++;
        }
        assertThat(n).as("the corpus has its awkward strings").isGreaterThanOrEqualTo(50);
        assertThat(failures).as("encode and decode mismatches").isEmpty();
    }

    private static String quote(String s) {
        return "\"" + s.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "\"";
    }
}
