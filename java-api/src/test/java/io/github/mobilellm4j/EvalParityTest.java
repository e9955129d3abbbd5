package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mobilellm4j.convert.Shape;
import io.github.mobilellm4j.convert.SyntheticCheckpoint;
import io.github.mobilellm4j.eval.EvalItem;
import io.github.mobilellm4j.eval.Evaluator;
import io.github.mobilellm4j.eval.Loglikelihood;
import io.github.mobilellm4j.eval.LoglikelihoodScorer;
import io.github.mobilellm4j.eval.Task;
import io.github.mobilellm4j.eval.TaskData;
import io.github.mobilellm4j.eval.TaskResult;
import io.github.mobilellm4j.eval.TokenizedItem;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Parity with lm-evaluation-harness 0.4.12 (HFLM, transformers, float32), whose outputs on the items of
 * testdata/eval/data are committed under testdata/eval/harness (reference/eval/harness_reference.py made them):
 * the requests it builds (context and continuation text), its tokens for them, and per model every request's
 * log-likelihood and greedy flag and the metrics. Our F32 GGUF conversions of the same weights must give every
 * log-likelihood within 1e-3 and identical greedy flags and metrics.
 */
class EvalParityTest {
    /**
     * The harness ran float32 on a GPU; the engine runs float32 with its own summation order. Per-token
     * log-probabilities then differ by about 1e-6 and sums over up to ~60 tokens by well under 1e-4; 1e-3 is the
     * tolerance the metrics can tolerate (the closest choices in these items differ by more).
     */
    private static final double LL_TOLERANCE = 1e-3;
    private static final Path DATA = TestFiles.testdata("eval/data");
    private static final Path HARNESS = TestFiles.testdata("eval/harness");

    /** The models and how many items per task each is checked on (the 125M shape is slow on two cores). */
    static Stream<Arguments> models() {
        return Stream.of(Arguments.of("llama-f32", 200), Arguments.of("llama-sharded-bf16-lmhead", 200),
                Arguments.of("mobilellm-bin-bf16", 200), Arguments.of("mobilellm-ls-f16", 200),
                Arguments.of("demo", 200), Arguments.of("synth-125m", 10));
    }

    @Test
    void requestsAreTheHarnessRequests() throws Exception {
        JsonNode requests = TestFiles.json(HARNESS.resolve("requests.json"));
        for (Task task : Task.values()) {
            List<EvalItem> items = TaskData.load(task, DATA.resolve(task.id() + ".jsonl"));
            JsonNode docs = requests.get(task.id());
            assertThat(items).as(task.id()).hasSize(docs.size());
            for (int i = 0; i < items.size(); i++) {
                JsonNode doc = docs.get(i);
                List<String> want = new ArrayList<>();
                for (JsonNode r : doc.get("requests")) {
                    want.add(doc.get("contexts").get(r.get(0).asInt()).asText() + "|" + r.get(1).asText());
                }
                List<String> got = items.get(i).requests().stream().map(r -> r.context() + "|" + r.continuation()).toList();
                assertThat(got).as("%s item %d", task.id(), i).isEqualTo(want);
            }
        }
    }

    /**
     * The tokens HFLM fed the model (its _encode_pair of every request, recorded by the harness run for the models
     * with the small-bpe tokenizer): context tokens with BOS, continuation tokens cut from the whole string's
     * encoding. Captured through a scorer that records what the evaluator hands it.
     */
    @Test
    void tokensAreTheHarnessTokens() throws Exception {
        JsonNode harness = TestFiles.json(HARNESS.resolve("tokens/small-bpe.json"));
        assertThat(harness.get("models").toString()).contains("\"llama-f32\"");
        JsonNode requests = TestFiles.json(HARNESS.resolve("requests.json"));
        try (Model model = Model.load(f32("llama-f32"), ModelOptions.builder().threads(1).build())) {
            for (Task task : Task.values()) {
                List<TokenizedItem> seen = new ArrayList<>();
                Evaluator evaluator = Evaluator.builder(model).scorer(new RecordingScorer(seen)).build();
                evaluator.evaluate(task, DATA.resolve(task.id() + ".jsonl"), 0);
                JsonNode want = harness.get("tasks").get(task.id());
                assertThat(seen).as(task.id()).hasSize(want.size());
                for (int i = 0; i < seen.size(); i++) {
                    JsonNode doc = want.get(i);
                    List<TokenizedItem.Request> got = seen.get(i).requests();
                    for (int r = 0; r < got.size(); r++) {
                        int context = requests.get(task.id()).get(i).get("requests").get(r).get(0).asInt();
                        assertThat(got.get(r).context()).as("%s item %d request %d context", task.id(), i, r)
                                .containsExactly(ints(doc.get("contexts").get(context)));
                        assertThat(got.get(r).continuation()).as("%s item %d request %d continuation", task.id(), i, r)
                                .containsExactly(ints(doc.get("continuations").get(r)));
                    }
                }
            }
        }
    }

    /** Records the tokenized items and scores every request 0 (the metrics are not looked at). */
    private record RecordingScorer(List<TokenizedItem> seen) implements LoglikelihoodScorer {
        @Override
        public Loglikelihood[][] score(List<TokenizedItem> items) {
            seen.addAll(items);
            Loglikelihood[][] out = new Loglikelihood[items.size()][];
            for (int i = 0; i < out.length; i++) {
                out[i] = new Loglikelihood[items.get(i).requests().size()];
                java.util.Arrays.fill(out[i], new Loglikelihood(0, false));
            }
            return out;
        }

        @Override
        public void close() {
        }
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void logLikelihoodsAndMetricsAreTheHarnessOnes(String name, int limit) throws Exception {
        JsonNode harness = TestFiles.json(HARNESS.resolve("results/" + name + ".json"));
        try (Model model = Model.load(f32(name), ModelOptions.builder().threads(2).build())) {
            Evaluator evaluator = Evaluator.builder(model).build();
            double worst = 0;
            for (Task task : Task.values()) {
                JsonNode want = harness.get("tasks").get(task.id());
                TaskResult got = evaluator.evaluate(task, DATA.resolve(task.id() + ".jsonl"), limit);
                for (int i = 0; i < got.n(); i++) {
                    List<Loglikelihood> choices = got.items().get(i).choices();
                    for (int j = 0; j < choices.size(); j++) {
                        double ll = want.get("ll").get(i).get(j).asDouble();
                        assertThat(choices.get(j).value()).as("%s %s item %d choice %d", name, task.id(), i, j)
                                .isCloseTo(ll, org.assertj.core.data.Offset.offset(LL_TOLERANCE));
                        assertThat(choices.get(j).greedy()).as("%s %s item %d choice %d greedy", name, task.id(), i, j)
                                .isEqualTo(want.get("greedy").get(i).get(j).asBoolean());
                        worst = Math.max(worst, Math.abs(choices.get(j).value() - ll));
                    }
                }
                JsonNode metrics = limit >= want.get("n").asInt() ? want : want.get("prefixes").get(Integer.toString(limit));
                assertThat(got.n()).isEqualTo(metrics.get("n").asInt());
                assertThat(got.acc()).as("%s %s acc", name, task.id()).isEqualTo(metrics.get("acc").asDouble());
                assertThat(got.accStderr()).as("%s %s acc_stderr", name, task.id()).isEqualTo(metrics.get("acc_stderr").asDouble());
                if (task.reportsAccNorm()) {
                    assertThat(got.accNorm()).as("%s %s acc_norm", name, task.id()).isEqualTo(metrics.get("acc_norm").asDouble());
                    assertThat(got.accNormStderr()).as("%s %s acc_norm_stderr", name, task.id())
                            .isEqualTo(metrics.get("acc_norm_stderr").asDouble());
                } else {
                    assertThat(got.accNorm()).isNull();
                }
            }
            System.out.printf("%s: largest log-likelihood difference %.2e%n", name, worst);
        }
    }

    /** The model as an F32 GGUF: the reference checkpoints, the demo model, and `synth --shape 125M` (seed 1). */
    private static Path f32(String name) throws Exception {
        return switch (name) {
            case "demo" -> TestFiles.convert(TestFiles.repoRoot().resolve("models/demo/hf"), "demo", "f32");
            case "synth-125m" -> {
                Path dir = TestFiles.outDir().resolve("synth-125m");
                if (!java.nio.file.Files.isRegularFile(dir.resolve("model.safetensors"))) {
                    SyntheticCheckpoint.write(Shape.M125, false, dir, 1, true);
                }
                yield TestFiles.convert(dir, "synth-125m", "f32");
            }
            default -> TestFiles.checkpoint(name, "f32");
        };
    }
}
