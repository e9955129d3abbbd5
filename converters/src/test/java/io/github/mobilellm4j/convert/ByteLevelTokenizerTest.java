package io.github.mobilellm4j.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mobilellm4j.convert.gguf.GgufValue;
import io.github.mobilellm4j.convert.hf.HfConfig;
import io.github.mobilellm4j.convert.hf.TokenizerJson;
import io.github.mobilellm4j.convert.hf.TokenizerLoader;
import io.github.mobilellm4j.convert.hf.Vocabulary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading a byte-level BPE tokenizer.json with its companion files (tokenizer_config.json,
 * generation_config.json, special_tokens_map.json) into GGUF's gpt2 tokenizer keys, as
 * llama.cpp's converter names them, and refusing what the engine would tokenize differently.
 * (Tokenization itself is compared with Hugging Face tokenizers in java-api.)
 */
class ByteLevelTokenizerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int VOCAB = 256 + 3 + 4;

    @TempDir
    Path dir;

    /** 256 byte stand-ins, "Ġt" "he" "Ġthe" by merges, then 4 added tokens. */
    private ObjectNode tokenizerJson(String pattern) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.put("byte_fallback", false);
        model.put("ignore_merges", true);
        ObjectNode vocab = model.putObject("vocab");
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            boolean self = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            vocab.put(new String(Character.toChars(self ? b : 0x100 + shifted++)), b);
        }
        vocab.put("\u0120t", 256);
        vocab.put("he", 257);
        vocab.put("\u0120the", 258);
        ArrayNode merges = model.putArray("merges");
        merges.addArray().add("\u0120").add("t");
        merges.add("h e");
        merges.addArray().add("\u0120t").add("he");
        ArrayNode added = root.putArray("added_tokens");
        String[] names = {"<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "my tok"};
        for (int i = 0; i < names.length; i++) {
            ObjectNode t = added.addObject();
            t.put("id", 259 + i);
            t.put("content", names[i]);
            t.put("special", i < 3);
            t.put("lstrip", false);
            t.put("rstrip", false);
        }
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode steps = pre.putArray("pretokenizers");
        ObjectNode split = steps.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex", pattern);
        split.put("behavior", "Isolated");
        split.put("invert", false);
        ObjectNode bl = steps.addObject();
        bl.put("type", "ByteLevel");
        bl.put("add_prefix_space", false);
        bl.put("use_regex", false);
        root.putObject("decoder").put("type", "ByteLevel");
        ObjectNode pp = root.putObject("post_processor");
        pp.put("type", "TemplateProcessing");
        ArrayNode single = pp.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "<|begin_of_text|>");
        single.addObject().putObject("Sequence").put("id", "A");
        return root;
    }

    private Vocabulary load(ObjectNode tokenizer, String tokenizerConfig, String generationConfig) throws Exception {
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
                 "num_hidden_layers": 1, "num_attention_heads": 2, "vocab_size": %d, "tie_word_embeddings": true}
                """.formatted(VOCAB));
        JSON.writeValue(dir.resolve("tokenizer.json").toFile(), tokenizer);
        if (tokenizerConfig != null) Files.writeString(dir.resolve("tokenizer_config.json"), tokenizerConfig);
        if (generationConfig != null) Files.writeString(dir.resolve("generation_config.json"), generationConfig);
        return TokenizerLoader.load(dir, HfConfig.read(dir.resolve("config.json")), ProgressListener.SILENT);
    }

    @Test
    void llama3StyleTokenizerBecomesAGpt2Vocabulary() throws Exception {
        Vocabulary v = load(tokenizerJson(TokenizerJson.LLAMA3_PATTERN),
                "{\"bos_token\": \"<|begin_of_text|>\", \"eos_token\": \"<|end_of_text|>\", \"chat_template\": \"{{ bos_token }}x\"}",
                "{\"eos_token_id\": [260, 261]}");
        assertThat(v.size()).isEqualTo(VOCAB);
        assertThat(v.byteLevel().pre()).isEqualTo("llama-bpe");
        // array merges are written "left right"; a space inside a part would become U+0120
        assertThat(v.byteLevel().merges()).containsExactly("\u0120 t", "h e", "\u0120t he");
        assertThat(v.byteLevel().ignoreMerges()).as("what llama.cpp assumes for llama-bpe: not written").isNull();
        assertThat(v.scores()).isNull();
        assertThat(v.types()[257]).isEqualTo(Vocabulary.NORMAL);
        assertThat(v.types()[259]).isEqualTo(Vocabulary.CONTROL);
        assertThat(v.types()[262]).isEqualTo(Vocabulary.USER_DEFINED);
        assertThat(v.bosId()).isEqualTo(259);
        assertThat(v.eosId()).isEqualTo(260);
        assertThat(v.eotId()).as("generation_config's second end token").isEqualTo(261);
        assertThat(v.addBos()).as("the post-processor adds <|begin_of_text|>").isTrue();
        assertThat(v.addEos()).isFalse();
        assertThat(v.chatTemplate()).isEqualTo("{{ bos_token }}x");

        Map<String, GgufValue> md = new LinkedHashMap<>();
        Converter.putVocab(md, v);
        assertThat(md.get("tokenizer.ggml.model").value()).isEqualTo("gpt2");
        assertThat(md.get("tokenizer.ggml.pre").value()).isEqualTo("llama-bpe");
        assertThat(md.get("tokenizer.ggml.merges").asList()).hasSize(3);
        assertThat(md.get("tokenizer.ggml.eot_token_id").value()).isEqualTo(261L);
        assertThat(md.get("tokenizer.chat_template").value()).isEqualTo("{{ bos_token }}x");
        assertThat(md).doesNotContainKeys("tokenizer.ggml.scores", "tokenizer.ggml.add_space_prefix", "tokenizer.ggml.ignore_merges");
    }

    @Test
    void bosFollowsThePostProcessorAsHuggingFaceEncodes() throws Exception {
        // ByteLevel alone (early Llama 3 uploads): Hugging Face tokenizers adds no BOS
        ObjectNode byteLevelOnly = tokenizerJson(TokenizerJson.LLAMA3_PATTERN);
        byteLevelOnly.putObject("post_processor").put("type", "ByteLevel");
        assertThat(load(byteLevelOnly, null, null).addBos()).isFalse();
        // no post-processor at all: llama.cpp's default for the llama-bpe pre-tokenizer
        ObjectNode none = tokenizerJson(TokenizerJson.LLAMA3_PATTERN);
        none.putNull("post_processor");
        assertThat(load(none, null, null).addBos()).isTrue();
    }

    @Test
    void llama4StyleTokenizerKeepsItsMergeSetting() throws Exception {
        Vocabulary v = load(tokenizerJson(TokenizerJson.LLAMA4_PATTERN), "{\"eos_token\": \"<|eot_id|>\", \"add_bos_token\": false}", null);
        assertThat(v.byteLevel().pre()).isEqualTo("llama4");
        assertThat(v.byteLevel().ignoreMerges()).as("tokenizer.json says true, llama.cpp assumes false for llama4").isTrue();
        assertThat(v.addBos()).as("tokenizer_config.json overrides the post-processor").isFalse();
        assertThat(v.eosId()).isEqualTo(261);
        assertThat(v.eotId()).as("<|eot_id|> is EOS itself").isEqualTo(-1);
    }

    @Test
    void tokenizersTheEngineWouldTokenizeDifferentlyAreRefused() throws Exception {
        ObjectNode t = tokenizerJson("\\s+|\\w+");
        assertThatThrownBy(() -> load(t, null, null)).isInstanceOf(ConversionException.class).hasMessageContaining("split pattern");
        ObjectNode n = tokenizerJson(TokenizerJson.LLAMA3_PATTERN);
        n.putObject("normalizer").put("type", "NFC");
        assertThatThrownBy(() -> load(n, null, null)).hasMessageContaining("normalizer NFC is not supported");
        ObjectNode f = tokenizerJson(TokenizerJson.LLAMA3_PATTERN);
        ((ObjectNode) f.get("model")).put("byte_fallback", true);
        assertThatThrownBy(() -> load(f, null, null)).hasMessageContaining("byte_fallback");
        ObjectNode g = tokenizerJson(TokenizerJson.LLAMA3_PATTERN);
        ((ArrayNode) g.get("model").get("merges")).add("nospace");
        assertThatThrownBy(() -> load(g, null, null)).hasMessageContaining("malformed merge 'nospace'");
    }

    @Test
    void addedTokenOptionsGgufCannotCarryAreReported() throws Exception {
        ObjectNode t = tokenizerJson(TokenizerJson.LLAMA3_PATTERN);
        ((ObjectNode) t.get("added_tokens").get(3)).put("lstrip", true);
        List<String> warnings = new ArrayList<>();
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
                 "num_hidden_layers": 1, "num_attention_heads": 2, "vocab_size": %d, "tie_word_embeddings": true}
                """.formatted(VOCAB));
        JSON.writeValue(dir.resolve("tokenizer.json").toFile(), t);
        TokenizerLoader.load(dir, HfConfig.read(dir.resolve("config.json")), new ProgressListener() {
            @Override
            public void warn(String message) {
                warnings.add(message);
            }
        });
        assertThat(warnings).anySatisfy(w -> assertThat(w).contains("'my tok'").contains("lstrip"));
    }
}
