package io.github.mobilellm4j.spark.bench;

import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.Pooling;
import io.github.mobilellm4j.spark.MobileLlmDatasets;
import io.github.mobilellm4j.spark.MobileLlmExtensions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;

/**
 * Embeddings per second of {@code mobilellm_embed} and {@code MobileLlmDatasets.embed} on local Spark against plain
 * Java loops over {@code Model.embed} and {@code Model.embedAll} in the same JVM, on the same texts: a benchmark to
 * run by hand (spark/bench/embedding-throughput.sh), not a test.
 *
 * <p>Arguments: model path, rows, runs, and optionally {@code java} for the Java ways only or {@code overhead} for
 * the four ways that measure Spark's overhead on two cores ({@code java x2}, {@code java batched x2},
 * {@code spark local[2]}, {@code spark typed local[2]}: the long runs of 10,000 rows take a fraction). Prints, per
 * configuration, the rows/s of every run and their median:
 * <ul>
 *   <li>{@code java x1}: one thread, Model.embed row after row (one engine thread);
 *   <li>{@code java x2}: two threads, each embedding half of the rows (one engine thread each): the same cores
 *       Spark's local[2] uses, so local[2] against this is Spark's overhead;
 *   <li>{@code java batched x2}: two threads, each embedding half of the rows with {@code Model.embedAll} (several
 *       texts per forward pass, one engine thread each): against {@code java x2}, what batching gains;
 *   <li>{@code java 2t}, {@code java batched 2t}: one thread over a model of two engine threads, Model.embed row
 *       after row against Model.embedAll over all rows: batching alone, on two cores;
 *   <li>{@code spark local[1]}, {@code spark local[2]}: the SQL function over the rows in 8 partitions, evaluated
 *       by the noop sink (every row embedded, nothing written);
 *   <li>{@code spark typed local[2]}: {@code MobileLlmDatasets.embed} over the same partitions (each partition's
 *       rows in batched passes), evaluated by the noop sink.
 * </ul>
 */
public final class EmbeddingThroughput {
    private static final int PARTITIONS = 8;

    private EmbeddingThroughput() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3 && !(args.length == 4 && (args[3].equals("java") || args[3].equals("overhead")))) {
            System.err.println("usage: EmbeddingThroughput MODEL.gguf ROWS RUNS [java|overhead]");
            System.exit(2);
        }
        boolean javaOnly = args.length == 4 && args[3].equals("java");
        boolean overheadOnly = args.length == 4 && args[3].equals("overhead");
        Path modelPath = Path.of(args[0]);
        int rows = Integer.parseInt(args[1]);
        int runs = Integer.parseInt(args[2]);
        List<String> texts = texts(rows);
        System.out.printf(Locale.ROOT, "%d rows of %d to %d words, %d runs each, %d cores seen by the JVM%n", rows,
                6, 20, runs, Runtime.getRuntime().availableProcessors());
        printLoadAverage();
        String[] names = {"java x1", "java x2", "java batched x2", "java 2t", "java batched 2t", "spark local[1]",
            "spark local[2]", "spark typed local[2]"};
        double[][] rates = new double[names.length][runs];
        // round robin: a change of the machine's load during the benchmark touches every configuration alike
        try (Model model = Model.load(modelPath, ModelOptions.builder().threads(1).build());
                Model twoThreads = Model.load(modelPath, ModelOptions.builder().threads(2).build())) {
            model.embed(texts.get(0), Pooling.MEAN, true); // first call outside the timing
            twoThreads.embed(texts.get(0), Pooling.MEAN, true);
            for (int r = 0; r < runs; r++) {
                if (!overheadOnly) rates[0][r] = rate(rows, () -> javaLoop(model, texts, 1));
                rates[1][r] = rate(rows, () -> javaLoop(model, texts, 2));
                rates[2][r] = rate(rows, () -> javaBatched(model, texts, 2));
                if (!overheadOnly) {
                    rates[3][r] = rate(rows, () -> javaLoop(twoThreads, texts, 1));
                    rates[4][r] = rate(rows, () -> javaBatched(twoThreads, texts, 1));
                }
                if (javaOnly) continue;
                if (!overheadOnly) rates[5][r] = sparkRate(modelPath, texts, 1, false);
                rates[6][r] = sparkRate(modelPath, texts, 2, false);
                rates[7][r] = sparkRate(modelPath, texts, 2, true);
            }
        }
        for (int c = 0; c < (javaOnly ? 5 : names.length); c++) {
            if (overheadOnly && c != 1 && c != 2 && c != 6 && c != 7) continue;
            double[] sorted = rates[c].clone();
            Arrays.sort(sorted);
            System.out.printf(Locale.ROOT, "%-20s median %8.2f rows/s   runs %s%n", names[c], sorted[runs / 2],
                    Arrays.toString(Arrays.stream(rates[c]).map(x -> Math.round(x * 100) / 100.0).toArray()));
        }
        printLoadAverage();
    }

    static void printLoadAverage() throws java.io.IOException {
        Path loadavg = Path.of("/proc/loadavg");
        if (java.nio.file.Files.isReadable(loadavg)) {
            System.out.printf(Locale.ROOT, "load average (1, 5, 15 min): %s%n", java.nio.file.Files.readString(loadavg).trim());
        }
    }

    /** Embeds every text with the given number of Java threads, each taking every n-th row. */
    private static void javaLoop(Model model, List<String> texts, int threads) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> parts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t;
                parts.add(pool.submit(() -> {
                    for (int i = first; i < texts.size(); i += threads) model.embed(texts.get(i), Pooling.MEAN, true);
                }));
            }
            for (Future<?> f : parts) f.get();
        }
    }

    /** Embeds every text with the given number of Java threads, each taking every n-th row, through embedAll. */
    private static void javaBatched(Model model, List<String> texts, int threads) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> parts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                List<String> mine = new ArrayList<>();
                for (int i = t; i < texts.size(); i += threads) mine.add(texts.get(i));
                parts.add(pool.submit(() -> model.embedAll(mine, Pooling.MEAN, true)));
            }
            for (Future<?> f : parts) f.get();
        }
    }

    private interface Job {
        void run() throws Exception;
    }

    /** Rows per second of one run of job. */
    private static double rate(int rows, Job job) throws Exception {
        long t0 = System.nanoTime();
        job.run();
        return rows / ((System.nanoTime() - t0) / 1e9);
    }

    /**
     * Rows per second of mobilellm_embed (typed: MobileLlmDatasets.embed) over the texts in a fresh local[slots]
     * session, model loaded first.
     */
    private static double sparkRate(Path modelPath, List<String> texts, int slots, boolean typed) throws Exception {
        SparkSession spark = SparkSession.builder().master("local[" + slots + "]").appName("embedding-throughput")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.extensions", MobileLlmExtensions.class.getName())
                .config("spark.mobilellm.model", modelPath.toString())
                .getOrCreate();
        try {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            var input = spark.createDataset(jsc.parallelize(texts, PARTITIONS).rdd(), Encoders.STRING());
            // the executor loads the model (once per JVM) and the query's code is compiled outside the timing
            input.limit(2).selectExpr("mobilellm_embed(value)").write().format("noop").mode("overwrite").save();
            if (typed) {
                return rate(texts.size(), () -> MobileLlmDatasets.embed(input).write().format("noop").mode("overwrite").save());
            }
            return rate(texts.size(), () -> input.selectExpr("mobilellm_embed(value) AS e")
                    .write().format("noop").mode("overwrite").save());
        } finally {
            spark.stop();
        }
    }

    /** Sentences of 6 to 20 words from a fixed vocabulary, the same for every run. */
    static List<String> texts(int rows) {
        String[] words = ("the a license software free program copy source code permission granted any person"
                + " distribute modify version terms conditions warranty merchantability fitness purpose author"
                + " holder notice file library public general work derived binary form documentation").split(" ");
        Random random = new Random(42);
        List<String> out = new ArrayList<>(rows);
        for (int i = 0; i < rows; i++) {
            int n = 6 + random.nextInt(15);
            StringBuilder b = new StringBuilder();
            for (int w = 0; w < n; w++) b.append(w == 0 ? "" : " ").append(words[random.nextInt(words.length)]);
            out.add(b.toString());
        }
        return out;
    }
}
