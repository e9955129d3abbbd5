package io.github.mobilellm4j.spark.bench;

import io.github.mobilellm4j.spark.LoopbackCluster;
import io.github.mobilellm4j.spark.MobileLlmDatasets;
import io.github.mobilellm4j.spark.MobileLlmExtensions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;

/**
 * Embeddings per second of {@code MobileLlmDatasets.embed} on a Spark standalone cluster on loopback (a master and
 * one-core workers, each a JVM of its own, as {@code start-master.sh} / {@code start-worker.sh} start them) with
 * 1 and with 2 workers: how the work scales with executors. A benchmark to run by hand
 * (spark/bench/cluster-scaling.sh), not a test.
 *
 * <p>Arguments: model path, rows, runs. Prints, per worker count, the rows/s of every run and their median.
 */
public final class ClusterScaling {
    private static final int PARTITIONS = 8;

    private ClusterScaling() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: ClusterScaling MODEL.gguf ROWS RUNS");
            System.exit(2);
        }
        Path modelPath = Path.of(args[0]).toAbsolutePath();
        int rows = Integer.parseInt(args[1]);
        int runs = Integer.parseInt(args[2]);
        List<String> texts = EmbeddingThroughput.texts(rows);
        System.out.printf(Locale.ROOT, "%d rows, %d runs per worker count, %d cores seen by the JVM%n", rows, runs,
                Runtime.getRuntime().availableProcessors());
        EmbeddingThroughput.printLoadAverage();
        List<String> lines = new ArrayList<>();
        for (int workers = 1; workers <= 2; workers++) lines.add(measure(modelPath, texts, workers, runs));
        lines.forEach(System.out::println);
        EmbeddingThroughput.printLoadAverage();
    }

    /** The runs' rows/s on a fresh cluster of the given number of one-core workers, as a printable line. */
    private static String measure(Path modelPath, List<String> texts, int workers, int runs) throws Exception {
        Path home = Files.createTempDirectory("mobilellm4j-cluster-scaling");
        try (LoopbackCluster cluster = new LoopbackCluster(home, workers, 1)) {
            SparkSession spark = SparkSession.builder()
                    .master(cluster.masterUrl())
                    .appName("mobilellm4j-cluster-scaling")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.ui.enabled", "false")
                    .config("spark.cores.max", String.valueOf(workers))
                    .config("spark.executor.memory", "1g")
                    .config("spark.executor.extraClassPath", cluster.applicationClassPath())
                    .config("spark.sql.extensions", MobileLlmExtensions.class.getName())
                    .config("spark.mobilellm.model", modelPath.toString())
                    .getOrCreate();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
                // the driver counts itself among the executors
                while (spark.sparkContext().statusTracker().getExecutorInfos().length < workers + 1) {
                    if (System.nanoTime() > deadline) throw new IllegalStateException("the executors did not start:\n" + cluster.logs());
                    Thread.sleep(200);
                }
                JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
                Dataset<String> input = spark.createDataset(jsc.parallelize(texts, PARTITIONS).rdd(), Encoders.STRING());
                // every executor loads the model (once per JVM) and the job's code is compiled outside the timing
                Dataset<String> warm = spark.createDataset(jsc.parallelize(texts.subList(0, 4 * workers), 4 * workers).rdd(),
                        Encoders.STRING());
                MobileLlmDatasets.embed(warm).write().format("noop").mode("overwrite").save();
                double[] rates = new double[runs];
                for (int r = 0; r < runs; r++) {
                    long t0 = System.nanoTime();
                    MobileLlmDatasets.embed(input).write().format("noop").mode("overwrite").save();
                    rates[r] = texts.size() / ((System.nanoTime() - t0) / 1e9);
                }
                double[] sorted = rates.clone();
                Arrays.sort(sorted);
                return String.format(Locale.ROOT, "%d worker%s x 1 core   median %8.2f rows/s   runs %s", workers,
                        workers == 1 ? " " : "s", sorted[runs / 2],
                        Arrays.toString(Arrays.stream(rates).map(x -> Math.round(x * 100) / 100.0).toArray()));
            } finally {
                spark.stop();
            }
        } finally {
            try (var paths = Files.walk(home)) { // the cluster's installation links and work directories
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
