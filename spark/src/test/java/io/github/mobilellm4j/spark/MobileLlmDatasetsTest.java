package io.github.mobilellm4j.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mobilellm4j.DemoModel;
import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
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
 * engine must give, row for row, what {@code Model.generate} gives for each prompt alone.
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

    @Test
    void badArgumentsFailOnTheDriver() {
        Dataset<String> input = spark.createDataset(List.of("x"), Encoders.STRING());
        assertThatThrownBy(() -> MobileLlmDatasets.generate(input, Map.of("max_token", "3")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("option 'max_token' = '3': unknown option");
        assertThatThrownBy(() -> MobileLlmDatasets.generate(input, Map.of(), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batchSize must be >= 1, got 0");
        SparkSession other = spark.newSession();
        other.conf().unset("spark.mobilellm.model");
        assertThatThrownBy(() -> MobileLlmDatasets.generate(other.createDataset(List.of("x"), Encoders.STRING()), Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("set spark.mobilellm.model");
    }
}
