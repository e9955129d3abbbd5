package io.github.mobilellm4j.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mobilellm4j.convert.gguf.GgufReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every config.json value is checked against the engine's limits (docs/converter.md) and against the weights'
 * shapes before anything is read or allocated from it: a bad value is a one-line error naming the field, never
 * a GGUF the engine refuses, a silently replaced value or minutes of work ending in OutOfMemoryError.
 */
class ConfigRangesTest {
    static final Shape TINY = ConverterTest.TINY;

    @TempDir
    Path tmp;

    Path folder(Map<String, Object> overrides) throws IOException {
        Path dir = tmp.resolve("in");
        Files.createDirectories(dir);
        TestFiles.config(dir, TINY, overrides);
        Files.write(dir.resolve("tokenizer.model"), SyntheticCheckpoint.syntheticTokenizer(TINY.vocab()).toBytes());
        TestFiles.safetensors(dir.resolve("model.safetensors"), TestFiles.modelTensors(TINY));
        return dir;
    }

    static Map<String, Object> override(String key, Object value) {
        Map<String, Object> m = new HashMap<>();
        m.put(key, value);
        return m;
    }

    static Stream<Arguments> badValues() {
        return Stream.of(
                Arguments.of("rms_norm_eps", "abc", "\"rms_norm_eps\" must be a number"),
                Arguments.of("rms_norm_eps", 0.0, "\"rms_norm_eps\" must be in (0, 1)"),
                Arguments.of("rms_norm_eps", -1e-5, "\"rms_norm_eps\" must be in (0, 1)"),
                Arguments.of("rms_norm_eps", 1.0, "\"rms_norm_eps\" must be in (0, 1)"),
                Arguments.of("rms_norm_eps", 1e-50, "\"rms_norm_eps\" must be in (0, 1)"), // 0 in float32
                Arguments.of("rope_theta", 0.0, "\"rope_theta\" must be in (0, 1e30]"),
                Arguments.of("rope_theta", -10000.0, "\"rope_theta\" must be in (0, 1e30]"),
                Arguments.of("rope_theta", 1e31, "\"rope_theta\" must be in (0, 1e30]"),
                Arguments.of("rope_theta", List.of(1), "\"rope_theta\" must be a number"),
                Arguments.of("max_position_embeddings", 0, "\"max_position_embeddings\" must be an integer in 1..1048576"),
                Arguments.of("max_position_embeddings", (1 << 20) + 1, "\"max_position_embeddings\" must be an integer in 1..1048576"),
                Arguments.of("max_position_embeddings", 2048.5, "\"max_position_embeddings\" must be an integer in 1..1048576"),
                Arguments.of("max_position_embeddings", "2048", "\"max_position_embeddings\" must be an integer in 1..1048576"),
                Arguments.of("vocab_size", 0, "\"vocab_size\" must be an integer in 1..16777216"),
                Arguments.of("vocab_size", (1 << 24) + 1, "\"vocab_size\" must be an integer in 1..16777216"),
                Arguments.of("vocab_size", 2_000_000_000, "\"vocab_size\" must be an integer in 1..16777216"),
                Arguments.of("hidden_size", 1 << 17, "\"hidden_size\" must be an integer in 1..65536"),
                Arguments.of("intermediate_size", (1 << 20) + 1, "\"intermediate_size\" must be an integer in 1..1048576"),
                Arguments.of("num_hidden_layers", 1025, "\"num_hidden_layers\" must be an integer in 1..1024"),
                Arguments.of("num_attention_heads", 4097, "\"num_attention_heads\" must be an integer in 1..4096"),
                Arguments.of("num_key_value_heads", -2, "\"num_key_value_heads\" must be an integer in 1..4096"),
                Arguments.of("head_dim", 1024, "\"head_dim\" must be an integer in 2..512"),
                Arguments.of("tie_word_embeddings", "yes", "\"tie_word_embeddings\" must be true or false"),
                Arguments.of("share_embedding", 1, "\"share_embedding\" must be true or false"),
                Arguments.of("layer_sharing", "false", "\"layer_sharing\" must be true or false"),
                Arguments.of("bos_token_id", "one", "\"bos_token_id\" must be an integer in 0..299"),
                Arguments.of("eos_token_id", 300, "\"eos_token_id\" must be an integer in 0..299"));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("badValues")
    void outOfRangeOrMistypedValuesAreRefusedNamingTheField(String key, Object value, String expected) throws IOException {
        Path dir = folder(override(key, value));
        Path out = tmp.resolve("out.gguf");
        Map<String, String> before = TestFiles.snapshot(dir);
        assertThatThrownBy(() -> Converter.convert(dir, out, ConvertOptions.defaults()))
                .isInstanceOf(ConversionException.class)
                .hasMessageStartingWith(dir.resolve("config.json").toString())
                .hasMessageContaining(expected);
        TestFiles.assertNoOutput(out);
        TestFiles.assertSameSnapshot(before, dir);
    }

    @Test
    void layerSharingCountsEachBlockTwice() throws IOException {
        Map<String, Object> o = override("layer_sharing", true);
        o.put("num_hidden_layers", 513);
        Path dir = folder(o);
        assertThatThrownBy(() -> Converter.convert(dir, tmp.resolve("out.gguf"), ConvertOptions.defaults()))
                .isInstanceOf(ConversionException.class)
                .hasMessageContaining("layer sharing applies each of the 513 blocks twice: 1026 layers, more than 1024");
    }

    @Test
    void aLargeVocabSizeFailsOnTheWeightsShapeBeforeTheVocabularyIsPadded() throws IOException {
        Path dir = folder(override("vocab_size", 2_000_000));
        List<String> warnings = new ArrayList<>();
        ProgressListener listener = new ProgressListener() {
            @Override
            public void warn(String message) {
                warnings.add(message);
            }
        };
        assertThatThrownBy(() -> Converter.convert(dir, tmp.resolve("out.gguf"), ConvertOptions.defaults().withListener(listener)))
                .isInstanceOf(ConversionException.class)
                .hasMessageContaining("model.embed_tokens.weight has shape [300, 64]")
                .hasMessageContaining("[2000000, 64]");
        // the tokenizer (300 pieces) was never padded to the declared 2,000,000: the shape check came first
        assertThat(warnings).noneMatch(w -> w.contains("padding"));
    }

    @Test
    void valuesAtTheLimitsConvertAndReachTheFile() throws IOException, ConversionException {
        Map<String, Object> o = override("max_position_embeddings", 1 << 20);
        o.put("rms_norm_eps", 0.5);
        o.put("rope_theta", 1e30);
        Path dir = folder(o);
        Path out = tmp.resolve("out.gguf");
        Converter.convert(dir, out, ConvertOptions.defaults());
        try (GgufReader r = GgufReader.open(out)) {
            assertThat(r.getLong("llama.context_length", -1)).isEqualTo(1 << 20);
            assertThat(r.get("llama.attention.layer_norm_rms_epsilon").value()).isEqualTo(0.5f);
            assertThat(r.get("llama.rope.freq_base").value()).isEqualTo(1e30f);
        }
    }
}
