package io.github.mobilellm4j.jmh.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReportPartsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void llamaBenchJsonIsRead() throws Exception {
        String out = """
                [
                  {"build_commit": "abc1234", "build_number": 4000, "model_filename": "m.gguf", "n_threads": 2,
                   "n_prompt": 512, "n_gen": 0, "avg_ts": 812.5, "stddev_ts": 3.25},
                  {"build_commit": "abc1234", "build_number": 4000, "model_filename": "m.gguf", "n_threads": 2,
                   "n_prompt": 0, "n_gen": 64, "avg_ts": 95.0, "stddev_ts": 0.5}
                ]
                """;
        List<LlamaBench.Entry> e = LlamaBench.parse(out);
        assertThat(e).hasSize(2);
        assertThat(e.get(0).nPrompt()).isEqualTo(512);
        assertThat(e.get(0).avgTs()).isEqualTo(812.5);
        assertThat(e.get(1).isGeneration()).isTrue();
        assertThat(e.get(1).threads()).isEqualTo(2);
    }

    @Test
    void niceAxis() {
        assertThat(SvgChart.niceCeil(0)).isEqualTo(1);
        assertThat(SvgChart.niceCeil(143)).isEqualTo(200);
        assertThat(SvgChart.niceCeil(41)).isEqualTo(50);
        // 2.5 times 10^-1, and 10^-1 is not exact in binary: the bound allows for that rounding only
        assertThat(SvgChart.niceCeil(0.21)).isCloseTo(0.25, within(1e-12));
    }

    @Test
    void reportFromJmhJson() throws Exception {
        JsonNode jmh = JSON.readTree("""
                [
                 {"benchmark": "io.github.mobilellm4j.jmh.DecodeBenchmark.decode", "mode": "thrpt",
                  "params": {"shape": "125M", "type": "Q4_0", "threads": "2", "backend": "CPU", "genTokens": "64",
                             "promptTokens": "128"},
                  "primaryMetric": {"score": 1.5, "scoreError": 0.1, "scoreUnit": "ops/s"},
                  "secondaryMetrics": {"tokens": {"score": 96.0, "scoreError": 6.4, "scoreUnit": "ops/s"}}},
                 {"benchmark": "io.github.mobilellm4j.jmh.PromptBenchmark.prompt", "mode": "thrpt",
                  "params": {"shape": "125M", "type": "Q4_0", "threads": "2", "backend": "CPU", "promptLength": "512"},
                  "primaryMetric": {"score": 2.0, "scoreError": "NaN", "scoreUnit": "ops/s"},
                  "secondaryMetrics": {"tokens": {"score": 1024.0, "scoreError": "NaN", "scoreUnit": "ops/s"}}},
                 {"benchmark": "io.github.mobilellm4j.jmh.JavaOverheadBenchmark.cLoop", "mode": "thrpt",
                  "params": {"shape": "125M", "type": "Q4_0", "threads": "2", "backend": "CPU", "genTokens": "64",
                             "overheadPrompt": "16"},
                  "primaryMetric": {"score": 2.0, "scoreError": 0.0, "scoreUnit": "ops/s"},
                  "secondaryMetrics": {"tokens": {"score": 128.0, "scoreError": 0.0, "scoreUnit": "ops/s"}}},
                 {"benchmark": "io.github.mobilellm4j.jmh.JavaOverheadBenchmark.javaApi", "mode": "thrpt",
                  "params": {"shape": "125M", "type": "Q4_0", "threads": "2", "backend": "CPU", "genTokens": "64",
                             "overheadPrompt": "16"},
                  "primaryMetric": {"score": 1.6, "scoreError": 0.0, "scoreUnit": "ops/s"},
                  "secondaryMetrics": {"tokens": {"score": 102.4, "scoreError": 0.0, "scoreUnit": "ops/s"}}}
                ]""");
        JsonNode llama = JSON.readTree("""
                [{"shape": "125M", "type": "Q4_0", "threads": 2, "n_prompt": 0, "n_gen": 64, "avg_ts": 120.0}]""");
        JsonNode machine = JSON.readTree("{\"cpu_model\": \"Test CPU\", \"date\": \"2026-01-01T00:00:00Z\"}");
        ReportWriter w = new ReportWriter(machine, jmh, llama, Path.of("docs/benchmarks.md"), Path.of("docs/benchmarks.svg"),
                Path.of("jmh/results"));
        String md = w.markdown();
        assertThat(md).contains("### 125M Q4_0", "| 2 | 96.00 ± 6.40 | 120.0 | 0.80× |", "1024");
        // (1/1.6 - 1/2.0) / 64 s = 1953.1 µs per token, 20% fewer tokens/s
        assertThat(md).contains("1953.1 µs | 20.0%");
        String svg = w.svg();
        assertThat(svg).startsWith("<svg").contains("125M Q4_0", "llama.cpp, 2 threads");
    }
}
