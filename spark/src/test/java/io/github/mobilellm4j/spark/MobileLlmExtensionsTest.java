package io.github.mobilellm4j.spark;

import static io.github.mobilellm4j.spark.MobileLlmFunctions.embed;
import static io.github.mobilellm4j.spark.MobileLlmFunctions.generate;
import static io.github.mobilellm4j.spark.MobileLlmFunctions.score;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map;
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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.SparkFiles;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SQL functions in a local[2] Spark session configured as a user does (the extension and the model path in
 * the session's configuration), against the Java API on the same model in the same process. Embedding, scoring
 * and greedy generation are deterministic, so the results must be equal, not just close.
 */
class MobileLlmExtensionsTest {
    static final List<String> TEXTS = List.of(
            DemoModel.EXAMPLE_PROMPT,
            "MIT License",
            "GNU General Public License",
            "Permission is hereby granted, free of charge, to any person obtaining a copy",
            "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND",
            "Redistribution and use in source and binary forms",
            "This program is free software; you can redistribute it",
            "Licensed under the Apache License, Version 2.0");

    static SparkSession spark;
    static Model model;
    static Dataset<Row> texts;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder()
                .master("local[2,2]") // two task slots; a failed task is tried once more
                .appName("mobilellm4j-spark-test")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.sql.extensions", MobileLlmExtensions.class.getName())
                .config("spark.mobilellm.model", DemoModel.path().toString())
                .getOrCreate();
        model = Model.load(DemoModel.path(), ModelOptions.builder().threads(1).build());
        // two partitions, so both task slots run rows of the job at the same time
        texts = spark.createDataset(TEXTS, Encoders.STRING()).toDF("text").repartition(2);
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
        if (model != null) model.close();
    }

    @Test
    void embeddingsEqualModelEmbed() {
        List<Row> rows = texts.selectExpr("text", "mobilellm_embed(text) AS embedding").collectAsList();
        assertThat(rows).hasSize(TEXTS.size());
        for (Row row : rows) {
            List<Float> embedding = row.getList(1);
            float[] expected = model.embed(row.getString(0), Pooling.MEAN, true);
            assertThat(embedding).as(row.getString(0)).containsExactly(boxed(expected));
        }
    }

    @Test
    void greedyGenerationEqualsTheJavaApi() {
        List<Row> rows = texts.selectExpr("text",
                "mobilellm_generate(text, map('max_tokens', 12)) AS g").select("text", "g.*").collectAsList();
        assertThat(rows).hasSize(TEXTS.size());
        for (Row row : rows) {
            Generation expected = model.generate(row.getString(0), GenerateOptions.builder().greedy().maxTokens(12).build());
            assertThat(row.getString(1)).as(row.getString(0)).isEqualTo(expected.text());
            assertThat(row.<Integer>getList(2)).containsExactly(boxed(expected.tokens()));
            assertThat(row.getString(3)).isEqualTo(expected.stopReason().jsonName());
        }
    }

    @Test
    void generationWithoutOptionsIsGreedyWith128Tokens() {
        Row row = spark.sql("SELECT mobilellm_generate('" + DemoModel.EXAMPLE_PROMPT + "') AS g").first().getStruct(0);
        Generation expected = model.generate(DemoModel.EXAMPLE_PROMPT, GenerateOptions.builder().greedy().build());
        assertThat(row.getString(0)).isEqualTo(expected.text());
        assertThat(row.<Integer>getList(1)).containsExactly(boxed(expected.tokens()));
    }

    @Test
    void scoresEqualSessionScore() {
        List<Row> rows = texts.selectExpr("text", "mobilellm_score(text) AS s").select("text", "s.*").collectAsList();
        assertThat(rows).hasSize(TEXTS.size());
        for (Row row : rows) {
            int[] tokens = model.tokenizer().encode(row.getString(0));
            float[] nll;
            try (Session s = model.newSession()) {
                nll = s.score(tokens);
            }
            List<Integer> scored = row.getList(1);
            List<Float> logprobs = row.getList(2);
            assertThat(scored).containsExactly(boxed(java.util.Arrays.copyOfRange(tokens, 1, tokens.length)));
            assertThat(logprobs).hasSize(nll.length);
            double total = 0;
            for (int i = 0; i < nll.length; i++) {
                assertThat(logprobs.get(i)).isEqualTo(-nll[i]);
                total += -nll[i];
                assertThat(logprobs.get(i)).isNegative();
            }
            // the same float terms summed in the same order in double: equal up to rounding of the last bit
            assertThat(row.getDouble(3)).isCloseTo(total, within(1e-9 * Math.abs(total)));
        }
    }

    @Test
    void sqlOverATableAndDatasetColumnsGiveTheSameRows() {
        texts.createOrReplaceTempView("docs");
        List<Row> sql = spark.sql("SELECT text, mobilellm_embed(text) AS e, mobilellm_score(text).total AS t,"
                + " mobilellm_generate(text, map('max_tokens', '4')).text AS g FROM docs ORDER BY text").collectAsList();
        List<Row> columns = texts.select(col("text"), embed(col("text")).as("e"), score(col("text")).getField("total").as("t"),
                generate(col("text"), map(lit("max_tokens"), lit("4"))).getField("text").as("g"))
                .orderBy("text").collectAsList();
        assertThat(sql).hasSize(TEXTS.size()).isEqualTo(columns);
    }

    @Test
    void interpretedEvaluationGivesTheSameRowsAsGeneratedCode() {
        // Spark falls back to interpreting expressions when it cannot compile generated code
        SparkSession interpreted = spark.newSession();
        interpreted.conf().set("spark.sql.codegen.wholeStage", "false");
        interpreted.conf().set("spark.sql.codegen.factoryMode", "NO_CODEGEN");
        String query = "SELECT text, mobilellm_embed(text), mobilellm_score(text), mobilellm_generate(text,"
                + " map('max_tokens', '3')) FROM VALUES ('MIT License'), (NULL) AS t(text) ORDER BY text";
        assertThat(interpreted.sql(query).collectAsList()).isEqualTo(spark.sql(query).collectAsList());
    }

    @Test
    void aFailedTaskIsRetriedWithoutDuplicateRows() {
        // the first attempt of every task fails after embedding its first row; the retry starts the partition
        // over with the executor's already loaded model
        spark.udf().register("fail_first_attempt", (org.apache.spark.sql.api.java.UDF1<Integer, Integer>) seen -> {
            org.apache.spark.TaskContext task = org.apache.spark.TaskContext.get();
            if (task.attemptNumber() == 0 && seen > 0) throw new IllegalStateException("injected task failure");
            return seen;
        }, org.apache.spark.sql.types.DataTypes.IntegerType);
        List<Row> rows = texts.selectExpr("text", "mobilellm_embed(text) AS e")
                // the low 33 bits of monotonically_increasing_id are the row's index in its partition
                .withColumn("n", org.apache.spark.sql.functions.expr(
                        "fail_first_attempt(CAST(monotonically_increasing_id() & 8589934591 AS INT))"))
                .collectAsList();
        assertThat(rows).extracting(r -> r.getString(0)).containsExactlyInAnyOrderElementsOf(TEXTS);
        for (Row row : rows) {
            assertThat(row.<Float>getList(1)).containsExactly(boxed(model.embed(row.getString(0), Pooling.MEAN, true)));
        }
    }

    @Test
    void aNullTextGivesNull() {
        Row row = spark.sql("SELECT mobilellm_embed(CAST(NULL AS STRING)), mobilellm_score(CAST(NULL AS STRING)),"
                + " mobilellm_generate(CAST(NULL AS STRING))").first();
        assertThat(row.isNullAt(0)).isTrue();
        assertThat(row.isNullAt(1)).isTrue();
        assertThat(row.isNullAt(2)).isTrue();
    }

    @Test
    void oneModelIsLoadedPerModelAndThreads() {
        texts.selectExpr("mobilellm_embed(text)").collectAsList();
        texts.selectExpr("mobilellm_score(text)").collectAsList();
        assertThat(ExecutorModels.loaded()).filteredOn(m -> m.startsWith(DemoModel.path().toString()))
                .containsExactly(DemoModel.path().toString() + " threads=1");
    }

    @Test
    void aSessionWithoutAModelIsToldWhatToSet() {
        SparkSession other = spark.newSession();
        other.conf().unset("spark.mobilellm.model");
        assertThatThrownBy(() -> other.sql("SELECT mobilellm_embed('x')").collect())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("set spark.mobilellm.model to the path of a GGUF model file");
    }

    @Test
    void aModelNoExecutorFindsFailsTheJobNamingTheSettingAndThePathsTried() {
        SparkSession other = spark.newSession();
        other.conf().set("spark.mobilellm.model", "/nonexistent/model.gguf");
        assertThatThrownBy(() -> other.sql("SELECT mobilellm_embed('x')").collect())
                .hasMessageContaining("spark.mobilellm.model = '/nonexistent/model.gguf': no such model file on executor driver;"
                        + " tried [/nonexistent/model.gguf, ")
                .hasMessageContaining(Path.of(SparkFiles.getRootDirectory(), "model.gguf").toAbsolutePath() + "]")
                .hasMessageContaining("ship it with --files");
        assertThat(ExecutorModels.loaded()).noneMatch(m -> m.startsWith("/nonexistent"));
    }

    @Test
    void aModelShippedWithTheApplicationIsFoundByItsFileName(@TempDir Path dir) throws IOException {
        Path shipped = Files.copy(DemoModel.path(), dir.resolve("shipped-demo.gguf"));
        spark.sparkContext().addFile(shipped.toString());
        assertThat(Path.of("shipped-demo.gguf")).doesNotExist();
        SparkSession other = spark.newSession();
        other.conf().set("spark.mobilellm.model", "shipped-demo.gguf");
        List<Row> rows = other.createDataset(TEXTS, Encoders.STRING()).toDF("text")
                .selectExpr("text", "mobilellm_embed(text)").collectAsList();
        assertThat(rows).hasSize(TEXTS.size());
        for (Row row : rows) {
            assertThat(row.<Float>getList(1)).containsExactly(boxed(model.embed(row.getString(0), Pooling.MEAN, true)));
        }
        assertThat(ExecutorModels.loaded()).contains("shipped-demo.gguf threads=1");
    }

    @Test
    void badArgumentsAreNamed() {
        assertThatThrownBy(() -> spark.sql("SELECT mobilellm_embed('a', 'b')").collect())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("mobilellm_embed takes 1 argument, got 2");
        assertThatThrownBy(() -> spark.sql("SELECT mobilellm_generate('a', 3)").collect())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("the options must be a map with string keys");
        assertThatThrownBy(() -> spark.sql("SELECT mobilellm_generate('a', map('max_token', '3'))").collect())
                .hasStackTraceContaining("mobilellm_generate option 'max_token' = '3': unknown option");
        assertThatThrownBy(() -> {
            SparkSession other = spark.newSession();
            other.conf().set("spark.mobilellm.threads", "many");
            other.sql("SELECT mobilellm_embed('a')").collect();
        }).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("spark.mobilellm.threads must be an integer >= 0, got 'many'");
    }

    static Float[] boxed(float[] values) {
        Float[] out = new Float[values.length];
        for (int i = 0; i < values.length; i++) out[i] = values[i];
        return out;
    }

    static Integer[] boxed(int[] values) {
        return java.util.Arrays.stream(values).boxed().toArray(Integer[]::new);
    }
}
