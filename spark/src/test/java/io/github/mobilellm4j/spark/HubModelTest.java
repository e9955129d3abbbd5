package io.github.mobilellm4j.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.Pooling;
import io.github.mobilellm4j.convert.OutputType;
import io.github.mobilellm4j.hub.FakeHub;
import io.github.mobilellm4j.hub.TestCheckpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * spark.mobilellm.model naming a Hugging Face repository: each executor pulls the checkpoint from the hub (here
 * one on loopback, reached through {@code spark.executorEnv.HF_ENDPOINT}) and converts it in its own caches; the
 * embeddings must equal those of the same checkpoint converted directly.
 */
class HubModelTest {
    static final String REPO = "test-org/tiny-ls";
    static FakeHub hub;
    static Path home;
    static SparkSession spark;

    @BeforeAll
    static void start() throws Exception {
        hub = new FakeHub();
        hub.add(REPO, FakeHub.folder(TestCheckpoints.checkpoint("mobilellm-ls-f16")),
                List.of("model.safetensors", "tokenizer.model"), null);
        home = Files.createTempDirectory("mobilellm4j-spark-hub");
        spark = SparkSession.builder()
                .master("local[2]")
                .appName("mobilellm4j-spark-hub-test")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.extensions", MobileLlmExtensions.class.getName())
                .config("spark.executorEnv.HF_ENDPOINT", hub.endpoint())
                .config("spark.executorEnv.HF_HOME", home.resolve("hf").toString())
                .config("spark.executorEnv.MOBILELLM_CACHE_DIR", home.resolve("ours").toString())
                .getOrCreate();
    }

    @AfterAll
    static void stop() throws Exception {
        if (spark != null) spark.stop();
        if (hub != null) hub.close();
        if (home != null) {
            try (var files = Files.walk(home)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void aRepositoryIdIsPulledOnTheExecutorsAndEmbedsLikeTheConvertedCheckpoint() {
        spark.conf().set("spark.mobilellm.model", REPO + ":q8_0");
        List<Row> rows = spark.createDataset(MobileLlmExtensionsTest.TEXTS, Encoders.STRING()).toDF("text").repartition(2)
                .selectExpr("text", "mobilellm_embed(text) AS e").collectAsList();
        assertThat(rows).hasSize(MobileLlmExtensionsTest.TEXTS.size());
        assertThat(FakeHub.names(hub.requests)).anyMatch(p -> p.contains("model.safetensors"));
        try (Model direct = Model.load(TestCheckpoints.gguf("mobilellm-ls-f16", OutputType.Q8_0),
                ModelOptions.builder().threads(1).build())) {
            for (Row row : rows) {
                float[] expected = direct.embed(row.getString(0), Pooling.MEAN, true);
                List<Float> got = row.getList(1);
                assertThat(got).as(row.getString(0)).hasSize(expected.length);
                for (int i = 0; i < expected.length; i++) assertThat(got.get(i)).isEqualTo(expected[i]);
            }
        }
    }

    @Test
    void aRepositoryTheHubDoesNotHaveFailsTheJobNamingTheSettingAndTheHubsAnswer() {
        spark.conf().set("spark.mobilellm.model", "test-org/no-such-model");
        assertThatThrownBy(() -> spark.sql("SELECT mobilellm_embed('hello')").collect())
                .hasStackTraceContaining("spark.mobilellm.model = 'test-org/no-such-model'")
                .hasStackTraceContaining("pulling it from the Hugging Face hub failed")
                .hasStackTraceContaining("repository test-org/no-such-model not found");
    }
}
