package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Test;

/**
 * Tokens added beside a SentencePiece vocabulary (a fine-tune's "&lt;pad&gt;" at id 1024 of a
 * 1024-piece tokenizer.model, config vocab_size 1025) become real vocabulary entries: converted,
 * the token is "&lt;pad&gt;" of type CONTROL (not an unused "[PAD1024]"), is the padding token, and
 * special-token parsing turns its text into that one id, as transformers' tokenizer does.
 */
class AddedTokensTest {
    private static final int PAD = 1024;

    private static Path convert(String name, String addedTokensJson, String tokenizerConfig) throws Exception {
        Path dir = TestFiles.outDir().resolve(name + "-hf");
        TinyCheckpoint.write(dir, PAD + 1, 32, 64);
        Files.copy(TestFiles.testdata("checkpoints/llama-f32/tokenizer.model"), dir.resolve("tokenizer.model"),
                StandardCopyOption.REPLACE_EXISTING);
        if (addedTokensJson != null) Files.writeString(dir.resolve("added_tokens.json"), addedTokensJson);
        Files.writeString(dir.resolve("tokenizer_config.json"), tokenizerConfig);
        return TestFiles.convert(dir, name, "f32");
    }

    private static void checkPad(Path gguf) {
        try (Model model = Model.load(gguf)) {
            Tokenizer tok = model.tokenizer();
            assertThat(tok.vocabSize()).isEqualTo(PAD + 1);
            assertThat(tok.piece(PAD)).isEqualTo("<pad>");
            assertThat(model.metadata()).containsEntry("tokenizer.ggml.padding_token_id", Integer.toString(PAD));
            assertThat(model.info().vocabulary().padToken()).isEqualTo(PAD);
            assertThat(tok.encode("<pad>", false, true)).containsExactly(PAD);
            assertThat(tok.encode("a<pad><pad>", false, true)).endsWith(PAD, PAD);
            // as plain text it is never the added token
            assertThat(tok.encode("<pad>", false, false)).doesNotContain(PAD).hasSizeGreaterThan(1);
            assertThat(tok.decode(PAD)).isEmpty(); // a control token, like <s>
        }
    }

    @Test
    void addedTokensJsonEntryBecomesAVocabularyEntry() throws Exception {
        checkPad(convert("added-pad-json", "{\"<pad>\": 1024}", """
                {"add_bos_token": true, "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}"""));
    }

    @Test
    void addedTokensDecoderEntryBecomesAVocabularyEntry() throws Exception {
        checkPad(convert("added-pad-decoder", null, """
                {"add_bos_token": true, "bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>",
                 "added_tokens_decoder": {
                   "0": {"content": "<unk>", "special": true, "lstrip": false, "rstrip": false, "normalized": false, "single_word": false},
                   "1024": {"content": "<pad>", "special": true, "lstrip": false, "rstrip": false, "normalized": false, "single_word": false}}}"""));
    }
}
