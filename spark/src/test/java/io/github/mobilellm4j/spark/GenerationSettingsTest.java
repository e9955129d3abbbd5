package io.github.mobilellm4j.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mobilellm4j.GenerateOptions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GenerationSettingsTest {
    @Test
    void noOptionsMeanGreedyWithTheJavaApiDefaults() {
        GenerateOptions o = GenerationSettings.defaults();
        GenerateOptions api = GenerateOptions.builder().build();
        assertThat(o.sampler().isGreedy()).isTrue();
        assertThat(o.maxTokens()).isEqualTo(api.maxTokens());
        assertThat(o.stopStrings()).isEmpty();
        assertThat(o.ignoreEos()).isFalse();
    }

    @Test
    void optionsMapOntoGenerateOptions() {
        GenerateOptions o = GenerationSettings.parse(Map.of("max_tokens", "7", "stop", "\n\n", "ignore_eos", "TRUE",
                "temperature", "0.5", "top_k", "3", "top_p", "0.9", "min_p", "0.01", "seed", "42"));
        assertThat(o.maxTokens()).isEqualTo(7);
        assertThat(o.stopStrings()).isEqualTo(List.of("\n\n"));
        assertThat(o.ignoreEos()).isTrue();
        assertThat(o.sampler().isGreedy()).isFalse();
        assertThat(o.sampler().temperature()).isEqualTo(0.5f);
        assertThat(o.sampler().topK()).isEqualTo(3);
        assertThat(o.sampler().topP()).isEqualTo(0.9f);
        assertThat(o.sampler().minP()).isEqualTo(0.01f);
        assertThat(o.sampler().seed()).isEqualTo(42);
        assertThat(GenerationSettings.parse(Map.of("temperature", "0")).sampler().isGreedy()).isTrue();
    }

    @Test
    void badOptionsAreNamed() {
        assertThatThrownBy(() -> GenerationSettings.parse(Map.of("max_token", "3")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("option 'max_token' = '3': unknown option; the options are max_tokens");
        assertThatThrownBy(() -> GenerationSettings.parse(Map.of("max_tokens", "lots")))
                .hasMessageContaining("option 'max_tokens' = 'lots'");
        assertThatThrownBy(() -> GenerationSettings.parse(Map.of("max_tokens", "-1")))
                .hasMessageContaining("maxTokens must be >= 0, got -1");
        assertThatThrownBy(() -> GenerationSettings.parse(Map.of("ignore_eos", "yes")))
                .hasMessageContaining("option 'ignore_eos' = 'yes': expected true or false");
        Map<String, String> nullValue = new LinkedHashMap<>();
        nullValue.put("stop", null);
        assertThatThrownBy(() -> GenerationSettings.parse(nullValue)).hasMessageContaining("option 'stop' = 'null': no value");
        assertThatThrownBy(() -> GenerationSettings.parse(Map.of("seed", "1")))
                .hasMessageContaining("set temperature > 0 as well");
    }
}
