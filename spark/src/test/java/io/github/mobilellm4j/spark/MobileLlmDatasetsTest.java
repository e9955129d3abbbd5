package io.github.mobilellm4j.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.mobilellm4j.DemoModel;
import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.Pooling;
import io.github.mobilellm4j.Session;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The typed Dataset API on local[2]: a partition's prompts generated in batches through the executor's batched
 * engine must give, row for row, what {@code Model.generate} gives for each prompt alone; a partition's texts
 * embedded and scored in batched passes what {@code Model.embed} and {@code Session.score} give for each alone.
 */
class MobileLlmDatasetsTest {
    static SparkSession spark;
    static Model model;
    static List<String> prompts;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder()
                .master("local[2]")
                .appName("mobilellm4j-spark-datasets-test")
                .config("spark.ui.enabled", "false")
                .config("spark.mobilellm.model", DemoModel.path().toString())
                .getOrCreate();
        model = Model.load(DemoModel.path(), ModelOptions.builder().threads(1).build());
        prompts = new ArrayList<>();
        for (int i = 0; i < 11; i++) { // uneven batches: 11 rows in batches of 4 leave 3
            prompts.add(MobileLlmExtensionsTest.TEXTS.get(i % MobileLlmExtensionsTest.TEXTS.size()) + (i < 8 ? "" : " again"));
        }
        prompts.add(null);
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
        if (model != null) model.close();
    }

    @Test
    void batchedGenerationEqualsEachPromptAlone() {
        GenerateOptions greedy = GenerateOptions.builder().greedy().maxTokens(20).stopStrings(".").build();
        // one partition, so rows of one partition really share batches, and their order is kept
        Dataset<String> input = spark.createDataset(prompts, Encoders.STRING()).coalesce(1);
        for (int batch : new int[] {1, 4, Integer.MAX_VALUE}) {
            List<GeneratedText> out = MobileLlmDatasets.generate(input, Map.of("max_tokens", "20", "stop", "."), batch)
                    .collectAsList();
            assertThat(out).extracting(GeneratedText::getPrompt).as("batch %d", batch).containsExactlyElementsOf(prompts);
            for (GeneratedText row : out) {
                if (row.getPrompt() == null) {
                    assertThat(row.getText()).isNull();
                    assertThat(row.getTokens()).isNull();
                    continue;
                }
                Generation expected = model.generate(row.getPrompt(), greedy);
                assertThat(row.getText()).as("batch %d: %s", batch, row.getPrompt()).isEqualTo(expected.text());
                assertThat(row.getTokens()).isEqualTo(expected.tokens());
                assertThat(row.getStopReason()).isEqualTo(expected.stopReason().jsonName());
            }
        }
    }

    @Test
    void aDatasetOfSeveralPartitionsGivesEveryRowOnce() {
        List<GeneratedText> out = MobileLlmDatasets.generate(
                spark.createDataset(prompts, Encoders.STRING()).repartition(3), Map.of("max_tokens", "6")).collectAsList();
        assertThat(out).extracting(GeneratedText::getPrompt).containsExactlyInAnyOrderElementsOf(prompts);
        for (GeneratedText row : out) {
            if (row.getPrompt() != null) {
                assertThat(row.getTokens()).isEqualTo(model.generate(row.getPrompt(),
                        GenerateOptions.builder().greedy().maxTokens(6).build()).tokens());
            }
        }
    }

    /**
     * A pass over several texts may sum the f32 products of its matmuls in another order than a pass over one:
     * values of magnitude ~1-10 move by ~1e-6; 1e-4 leaves room for that and none for a wrong row.
     */
    private static final float TOLERANCE = 1e-4f;

    @Test
    void batchedEmbeddingsEqualModelEmbed() {
        for (int chunk : new int[] {1, 4, MobileLlmDatasets.DEFAULT_CHUNK}) {
            Dataset<String> input = spark.createDataset(prompts, Encoders.STRING()).repartition(2);
            List<EmbeddedText> out = MobileLlmDatasets.embed(input, Pooling.MEAN, true, chunk).collectAsList();
            assertThat(out).extracting(EmbeddedText::getText).as("chunk %d", chunk).containsExactlyInAnyOrderElementsOf(prompts);
            for (EmbeddedText row : out) {
                if (row.getText() == null) {
                    assertThat(row.getVector()).isNull();
                    continue;
                }
                assertThat(row.getVector()).as("chunk %d: %s", chunk, row.getText())
                        .containsExactly(model.embed(row.getText(), Pooling.MEAN, true), within(TOLERANCE));
            }
        }
        List<EmbeddedText> last = MobileLlmDatasets.embed(spark.createDataset(prompts.subList(0, 5), Encoders.STRING()).coalesce(1),
                Pooling.LAST, false, 3).collectAsList();
        for (EmbeddedText row : last) {
            assertThat(row.getVector()).containsExactly(model.embed(row.getText(), Pooling.LAST, false),
                    within(TOLERANCE));
        }
    }

    @Test
    void batchedScoresEqualSessionScore() {
        List<String> texts = new ArrayList<>(prompts);
        texts.add("a"); // one token after BOS at most: scored as nothing or one token, as mobilellm_score does
        List<ScoredText> out = MobileLlmDatasets.score(spark.createDataset(texts, Encoders.STRING()).repartition(2), 4)
                .collectAsList();
        assertThat(out).extracting(ScoredText::getText).containsExactlyInAnyOrderElementsOf(texts);
        for (ScoredText row : out) {
            if (row.getText() == null) {
                assertThat(row.getLogprobs()).isNull();
                continue;
            }
            int[] tokens = model.tokenizer().encode(row.getText());
            assertThat(row.getTokens()).isEqualTo(java.util.Arrays.copyOfRange(tokens, 1, tokens.length));
            if (tokens.length < 2) {
                assertThat(row.getLogprobs()).isEmpty();
                assertThat(row.getTotal()).isZero();
                continue;
            }
            float[] nll;
            try (Session s = model.newSession()) {
                nll = s.score(tokens);
            }
            double total = 0;
            float[] expected = new float[nll.length];
            for (int i = 0; i < nll.length; i++) {
                expected[i] = -nll[i];
                total += expected[i];
            }
            assertThat(row.getLogprobs()).as(row.getText()).containsExactly(expected, within(TOLERANCE));
            assertThat(row.getTotal()).isCloseTo(total, within(TOLERANCE * (double) nll.length));
        }
    }

    @Test
    void badArgumentsFailOnTheDriver() {
        Dataset<String> input = spark.createDataset(List.of("x"), Encoders.STRING());
        assertThatThrownBy(() -> MobileLlmDatasets.generate(input, Map.of("max_token", "3")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("option 'max_token' = '3': unknown option");
        assertThatThrownBy(() -> MobileLlmDatasets.generate(input, Map.of(), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batchSize must be >= 1, got 0");
        assertThatThrownBy(() -> MobileLlmDatasets.embed(input, Pooling.MEAN, true, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("chunk must be >= 1, got 0");
        assertThatThrownBy(() -> MobileLlmDatasets.score(input, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("chunk must be >= 1, got 0");
        SparkSession other = spark.newSession();
        other.conf().unset("spark.mobilellm.model");
        assertThatThrownBy(() -> MobileLlmDatasets.generate(other.createDataset(List.of("x"), Encoders.STRING()), Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("set spark.mobilellm.model");
    }
}
