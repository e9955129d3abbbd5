package io.github.mobilellm4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mobilellm4j.cli.Cli.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * mobilellm eval against lm-evaluation-harness 0.4.12's own outputs for testdata/checkpoints/llama-f32
 * (testdata/eval/harness/results/llama-f32.json: per-request log-likelihoods and greedy flags, and the metrics of
 * the first 25 items, which is what the harness's --limit 25 reports).
 */
class EvalCommandTest {
    /** Same tolerance as the API's parity test: float32 engine vs float32 transformers, sums of up to ~60 tokens. */
    private static final double LL_TOLERANCE = 1e-3;
    static Path root;
    static Path f32;
    static JsonNode harness;

    @BeforeAll
    static void convert() throws Exception {
        root = Cli.root();
        f32 = Path.of("target", "cli-test", "llama-f32-f32.gguf").toAbsolutePath();
        Result r = Cli.run("convert", root.resolve("testdata/checkpoints/llama-f32").toString(), "-o", f32.toString(),
                "--type", "f32", "--force");
        assertThat(r.code()).as(r.err()).isZero();
        harness = Cli.JSON.readTree(root.resolve("testdata/eval/harness/results/llama-f32.json").toFile());
    }

    @Test
    void jsonWithRequestsIsTheHarnessRun() throws Exception {
        Result r = Cli.run("eval", "-m", f32.toString(), "--task", "hellaswag,winogrande", "--data",
                root.resolve("testdata/eval/data").toString(), "--limit", "25", "--json", "--log-requests");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("hellaswag: 25 items in").contains("items/s");
        JsonNode results = r.json().get("results");
        assertThat(results.size()).isEqualTo(2);
        for (String task : new String[] {"hellaswag", "winogrande"}) {
            JsonNode got = results.get(task);
            JsonNode want = harness.get("tasks").get(task);
            JsonNode metrics = want.get("prefixes").get("25");
            assertThat(got.get("n").asInt()).isEqualTo(25);
            assertThat(got.get("acc").asDouble()).as(task).isEqualTo(metrics.get("acc").asDouble());
            assertThat(got.get("acc_stderr").asDouble()).as(task).isEqualTo(metrics.get("acc_stderr").asDouble());
            if (task.equals("winogrande")) {
                assertThat(got.get("acc_norm").isNull()).as("winogrande reports acc only").isTrue();
            } else {
                assertThat(got.get("acc_norm").asDouble()).isEqualTo(metrics.get("acc_norm").asDouble());
                assertThat(got.get("acc_norm_stderr").asDouble()).isEqualTo(metrics.get("acc_norm_stderr").asDouble());
            }
            int requests = 0;
            for (JsonNode req : got.get("requests")) {
                int doc = req.get("doc").asInt(), choice = req.get("choice").asInt();
                assertThat(req.get("ll").asDouble()).as("%s doc %d choice %d", task, doc, choice)
                        .isCloseTo(want.get("ll").get(doc).get(choice).asDouble(), within(LL_TOLERANCE));
                assertThat(req.get("is_greedy").asBoolean()).isEqualTo(want.get("greedy").get(doc).get(choice).asBoolean());
                requests++;
            }
            int expected = 0;
            for (int d = 0; d < 25; d++) expected += want.get("ll").get(d).size();
            assertThat(requests).as("one entry per request of the 25 docs").isEqualTo(expected);
        }
    }

    @Test
    void markdownTableInTheCardLayout() {
        Result r = Cli.run("eval", "-m", f32.toString(), "--task", "piqa,boolq", "--data",
                root.resolve("testdata/eval/data").toString(), "--limit", "10");
        assertThat(r.code()).as(r.err()).isZero();
        // the card's column order (boolq before piqa) whatever the order asked for; acc for boolq, acc_norm for piqa
        double boolq = 100 * harness.get("tasks").get("boolq").get("prefixes").get("10").get("acc").asDouble();
        double piqa = 100 * harness.get("tasks").get("piqa").get("prefixes").get("10").get("acc_norm").asDouble();
        assertThat(r.out()).startsWith("| model | boolq | piqa | avg. |\n| --- | ---: | ---: | ---: |\n")
                .contains(String.format(java.util.Locale.ROOT, "| llama-f32-f32.gguf | %.1f | %.1f | %.1f |", boolq, piqa,
                        (boolq + piqa) / 2))
                .contains("| task | acc | acc_norm | n |");
    }

    @Test
    void compareShowsBothModelsAndThePairedDifference() throws Exception {
        Path q8 = Cli.model();
        Result r = Cli.run("eval", "--compare", f32.toString(), q8.toString(), "--task", "arc_easy", "--data",
                root.resolve("testdata/eval/data").toString(), "--limit", "50", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.json();
        assertThat(j.get("models").toString()).isEqualTo("[\"llama-f32-f32.gguf\",\"llama-f32-q8_0.gguf\"]");
        JsonNode arc = j.get("results").get("arc_easy");
        assertThat(arc.get("metric").asText()).isEqualTo("acc_norm");
        assertThat(arc.get("a").get("acc_norm").asDouble())
                .isEqualTo(harness.get("tasks").get("arc_easy").get("prefixes").get("50").get("acc_norm").asDouble());
        assertThat(arc.get("difference").asDouble())
                .isEqualTo(arc.get("b").get("acc_norm").asDouble() - arc.get("a").get("acc_norm").asDouble(), within(1e-12));
        assertThat(arc.get("exceeds_stderr").asBoolean())
                .isEqualTo(Math.abs(arc.get("difference").asDouble()) > arc.get("difference_stderr").asDouble());
    }

    @Test
    void badInputIsNamed(@TempDir Path tmp) throws Exception {
        Result task = Cli.run("eval", "-m", f32.toString(), "--task", "mmlu", "--data", tmp.toString());
        assertThat(task.code()).isEqualTo(2);
        assertThat(task.err()).startsWith("mobilellm eval: --task: unknown task 'mmlu' (expected one of boolq, piqa");

        Result missing = Cli.run("eval", "-m", f32.toString(), "--task", "piqa", "--data", tmp.toString());
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("no piqa data: looked for piqa.jsonl");

        Path bad = tmp.resolve("piqa.jsonl");
        Files.writeString(bad, "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\", \"label\": 1}\n{\"goal\": \"g\", \"sol1\": \"a\"}\n");
        Result field = Cli.run("eval", "-m", f32.toString(), "--task", "piqa", "--data", tmp.toString());
        assertThat(field.code()).isEqualTo(1);
        assertThat(field.err()).contains("piqa item 1: field 'sol2' is missing");

        Files.writeString(bad, "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\", \"label\": 1}\n{not json\n");
        Result json = Cli.run("eval", "-m", f32.toString(), "--task", "piqa", "--data", bad.toString());
        assertThat(json.code()).isEqualTo(1);
        assertThat(json.err()).contains("piqa.jsonl:2: not valid JSON");

        Result log = Cli.run("eval", "-m", f32.toString(), "--task", "piqa", "--data", bad.toString(), "--log-requests");
        assertThat(log.code()).isEqualTo(2);
        assertThat(log.err()).isEqualTo("mobilellm eval: --log-requests needs --json\n");
    }
}
