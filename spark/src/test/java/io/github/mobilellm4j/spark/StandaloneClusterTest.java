package io.github.mobilellm4j.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mobilellm4j.DemoModel;
import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.Pooling;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.apache.spark.ExecutorLostFailure;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SQL functions on a Spark standalone cluster started on loopback: a master and two workers of one core
 * each, separate JVMs, this test's JVM the driver. A worker and its executor are killed while a job embeds and
 * generates; the job must still complete with every row exactly once and the same results as the Java API.
 */
class StandaloneClusterTest {
    private static final int ROWS = 48;
    private static final int PARTITIONS = 12;
    /** Long enough (about a second of generation per task) that tasks are running when the worker dies. */
    private static final GenerateOptions GENERATE = GenerateOptions.builder().greedy().maxTokens(48).ignoreEos(true).build();

    @TempDir
    static Path home;
    static LoopbackCluster cluster;
    static SparkSession spark;
    static Model model;

    // The limits below only guard against hangs: starting three JVMs and their executors takes seconds on an
    // idle machine but minutes on a heavily loaded one (seen: over two minutes at a load average of 15 on 2 cores).
    @BeforeAll
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    static void start() throws Exception {
        cluster = new LoopbackCluster(home, 2, 1);
        spark = SparkSession.builder()
                .master(cluster.masterUrl())
                .appName("mobilellm4j-spark-standalone-test")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.ui.enabled", "false")
                .config("spark.cores.max", "2")
                .config("spark.executor.memory", "512m")
                // the application's jars reach the executors through its settings, not the cluster's installation
                .config("spark.executor.extraClassPath", cluster.applicationClassPath())
                .config("spark.sql.extensions", MobileLlmExtensions.class.getName())
                .config("spark.mobilellm.model", DemoModel.path().toString())
                .getOrCreate();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        // the driver counts itself among the executors
        while (spark.sparkContext().statusTracker().getExecutorInfos().length < 3) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("the executors did not start:\n" + cluster.logs());
            Thread.sleep(200);
        }
        model = Model.load(DemoModel.path(), ModelOptions.builder().threads(1).build());
    }

    @AfterAll
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    static void stop() throws Exception {
        try {
            if (spark != null) spark.stop();
            if (model != null) model.close();
        } finally {
            if (cluster != null) cluster.close();
        }
    }

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void aJobCompletesCorrectlyWhenAWorkerIsKilledMidJob() throws Exception {
        List<String> texts = IntStream.range(0, ROWS)
                .mapToObj(i -> MobileLlmExtensionsTest.TEXTS.get(i % MobileLlmExtensionsTest.TEXTS.size()) + " " + i)
                .toList();
        // partitions of the driver's list: no shuffle, so a lost task needs nothing but its own input again
        Dataset<String> input = spark.createDataset(
                JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(texts, PARTITIONS).rdd(), Encoders.STRING());
        String victim = LoopbackCluster.executorId(cluster.executorOf(0).orElseThrow()).orElseThrow();
        Tasks tasks = new Tasks(victim);
        spark.sparkContext().addSparkListener(tasks);

        CompletableFuture<List<Row>> job = CompletableFuture.supplyAsync(() -> input.selectExpr("value AS text",
                "mobilellm_embed(value) AS embedding",
                "mobilellm_generate(value, map('max_tokens', '48', 'ignore_eos', 'true')) AS g")
                .select("text", "embedding", "g.text", "g.tokens").collectAsList());
        // kill the worker once its executor has finished a task and started its next one
        assertThat(tasks.victimBusyAgain.await(4, TimeUnit.MINUTES)).as("the executor of worker 0 ran tasks").isTrue();
        int doneBeforeKill = tasks.succeeded.get();
        cluster.kill(0);
        List<Row> rows = job.get(4, TimeUnit.MINUTES);
        spark.sparkContext().listenerBus().waitUntilEmpty(); // the listener has seen every event of the job

        assertThat(doneBeforeKill).as("tasks finished when the worker was killed").isLessThan(PARTITIONS);
        assertThat(tasks.removed).as("executors removed").contains(victim);
        assertThat(tasks.lostOnVictim.get()).as("tasks lost with the killed executor").isPositive();
        assertThat(tasks.succeeded.get()).isEqualTo(PARTITIONS);
        // every row exactly once
        assertThat(rows).extracting(r -> r.getString(0)).containsExactlyInAnyOrderElementsOf(texts);
        for (Row row : rows) {
            String text = row.getString(0);
            assertThat(row.<Float>getList(1)).as(text).containsExactly(MobileLlmExtensionsTest.boxed(model.embed(text, Pooling.MEAN, true)));
            Generation expected = model.generate(text, GENERATE);
            assertThat(row.getString(2)).as(text).isEqualTo(expected.text());
            assertThat(row.<Integer>getList(3)).as(text).containsExactly(MobileLlmExtensionsTest.boxed(expected.tokens()));
        }
    }

    /** What the driver sees of the job's tasks. */
    private static final class Tasks extends SparkListener {
        final String victim;
        final AtomicInteger succeeded = new AtomicInteger();
        final AtomicInteger lostOnVictim = new AtomicInteger();
        final Set<String> removed = ConcurrentHashMap.newKeySet();
        final CountDownLatch victimBusyAgain = new CountDownLatch(1);
        private volatile boolean victimFinishedOne;

        Tasks(String victim) {
            this.victim = victim;
        }

        @Override
        public void onTaskStart(SparkListenerTaskStart start) {
            if (victimFinishedOne && start.taskInfo().executorId().equals(victim)) victimBusyAgain.countDown();
        }

        @Override
        public void onTaskEnd(SparkListenerTaskEnd end) {
            if (end.taskInfo().successful()) {
                succeeded.incrementAndGet();
                if (end.taskInfo().executorId().equals(victim)) victimFinishedOne = true;
            } else if (end.reason() instanceof ExecutorLostFailure && end.taskInfo().executorId().equals(victim)) {
                lostOnVictim.incrementAndGet();
            }
        }

        @Override
        public void onExecutorRemoved(SparkListenerExecutorRemoved removal) {
            removed.add(removal.executorId());
        }
    }
}
