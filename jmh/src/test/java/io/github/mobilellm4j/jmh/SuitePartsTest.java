package io.github.mobilellm4j.jmh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SuitePartsTest {
    @Test
    void threadsParameter() {
        assertThat(BenchParams.parseThreads("all")).isZero();
        assertThat(BenchParams.parseThreads(" ALL ")).isZero();
        assertThat(BenchParams.parseThreads("4")).isEqualTo(4);
        assertThatThrownBy(() -> BenchParams.parseThreads("-1")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BenchParams.parseThreads("many")).isInstanceOf(NumberFormatException.class);
    }

    @Test
    void shapesAndTypesResolve() {
        assertThat(BenchModels.shape("125M").layers()).isEqualTo(30);
        assertThat(BenchModels.shape("1.5B").dim()).isEqualTo(1600);
        assertThat(BenchModels.type("Q4_0").lowerName()).isEqualTo("q4_0");
        assertThat(BenchModels.fileLabel(BenchModels.shape("1.5B"))).isEqualTo("1_5b");
        assertThatThrownBy(() -> BenchModels.shape("7B")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sampleTextIsDeterministicAndSized() {
        String a = SampleText.generate(8192, 1);
        assertThat(SampleText.generate(8192, 1)).isEqualTo(a);
        int bytes = a.getBytes(StandardCharsets.UTF_8).length;
        assertThat(bytes).as("UTF-8 size").isGreaterThanOrEqualTo(8192).isLessThan(8192 + 1024);
        assertThat(a.chars()).as("some non-ASCII text").anyMatch(c -> c > 127);
    }

    @Test
    void tokenIdsAvoidControlAndByteTokens() {
        int[] ids = BenchDefaults.tokens(1000, 32000, 7);
        for (int id : ids) assertThat(id).isGreaterThanOrEqualTo(259).isLessThan(32000);
        assertThat(BenchDefaults.tokens(1000, 32000, 7)[10]).isEqualTo(ids[10]);
    }
}
