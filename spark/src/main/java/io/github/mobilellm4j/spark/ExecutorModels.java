package io.github.mobilellm4j.spark;

import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.hub.HubException;
import io.github.mobilellm4j.hub.HubModels;
import io.github.mobilellm4j.hub.HubOptions;
import io.github.mobilellm4j.hub.HubRef;
import io.github.mobilellm4j.service.SessionPool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import scala.Tuple2;

/**
 * The models loaded in this JVM (an executor, or the driver in local mode): one per model path and thread
 * count, shared by every task that runs here, closed when the JVM shuts down. Loading happens once, on the
 * first row that needs the model; later tasks reuse it. Generations go through a batched session pool, so the
 * rows that tasks running at the same time generate share one forward pass per token.
 */
final class ExecutorModels {
    private record Key(String path, int threads) {
    }

    /** A loaded model and the pool its generations run in. */
    record Loaded(Model model, SessionPool generations) {
    }

    /** Generations at once per model: the tasks an executor of this many cores runs together, at most 16. */
    private static final int SEQUENCES = Math.min(16, Math.max(1, Runtime.getRuntime().availableProcessors()));

    private static final Map<Key, Loaded> MODELS = new ConcurrentHashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "mobilellm4j-spark-models"));
    }

    private ExecutorModels() {
    }

    /** The model at path loaded with the given CPU threads, loaded on first use. */
    static Model get(String path, int threads) {
        return loaded(path, threads).model();
    }

    /** The batched pool generating with that model. */
    static SessionPool generations(String path, int threads) {
        return loaded(path, threads).generations();
    }

    private static Loaded loaded(String path, int threads) {
        return MODELS.computeIfAbsent(new Key(path, threads), k -> {
            Model m = Model.load(locate(k.path()), ModelOptions.builder().threads(k.threads()).build());
            // a task waits for a place as long as it takes: Spark, not the pool, bounds a task's time
            return new Loaded(m, SessionPool.builder(m).maxSessions(SEQUENCES).batched(true)
                    .acquireTimeout(Duration.ofDays(1)).build());
        });
    }

    /**
     * The file spark.mobilellm.model names on this executor: the path as given when it exists here, else the file
     * of that name shipped with the application ({@code --files}, {@code spark.files}, {@code SparkContext.addFile}),
     * else, for a Hugging Face repository id ({@code owner/name[:type]}), the model pulled into this machine's
     * caches (see {@link #hubOptions()}).
     *
     * @throws IllegalArgumentException naming the setting and every path tried when none of these gives a file
     */
    private static Path locate(String model) {
        Path given = Path.of(model);
        if (Files.isRegularFile(given)) return given;
        List<Path> tried = new ArrayList<>(List.of(given.toAbsolutePath()));
        Path fileName = given.getFileName();
        if (SparkEnv.get() != null && fileName != null) {
            // a file of the query's own session (Spark keeps each session's added files apart), then one of the
            // whole application (--files, spark.files)
            for (String shipped : List.of(SparkFiles.get(fileName.toString()),
                    Path.of(SparkFiles.getRootDirectory(), fileName.toString()).toString())) {
                Path p = Path.of(shipped).toAbsolutePath();
                if (Files.isRegularFile(p)) return p;
                if (!tried.contains(p)) tried.add(p);
            }
        }
        String executor = SparkEnv.get() != null ? "executor " + SparkEnv.get().executorId() : "this JVM";
        if (HubRef.isHubReference(model)) {
            try {
                return HubModels.pull(model, hubOptions()).path();
            } catch (HubException | IllegalArgumentException e) {
                throw new IllegalArgumentException(ModelSettings.MODEL + " = '" + model + "': not a model file on "
                        + executor + " (tried " + tried + "), and pulling it from the Hugging Face hub failed: "
                        + e.getMessage(), e);
            }
        }
        throw new IllegalArgumentException(ModelSettings.MODEL + " = '" + model + "': no such model file on "
                + executor + "; tried " + tried + ". Put the file at that path on every"
                + " executor, or ship it with --files (spark.files, SparkContext.addFile) and set " + ModelSettings.MODEL
                + " to its file name.");
    }

    /**
     * The hub settings of this executor: its environment ({@code HF_TOKEN}, {@code HF_ENDPOINT}, {@code HF_HOME},
     * {@code HF_HUB_CACHE}, {@code HF_HUB_OFFLINE}, {@code MOBILELLM_CACHE_DIR}) with the application's
     * {@code spark.executorEnv.*} entries over it: Spark sets those in the environment of the executors it
     * launches, and in local mode, where the executor is the driver's JVM, they take effect here.
     */
    private static HubOptions hubOptions() {
        Map<String, String> env = new HashMap<>(System.getenv());
        if (SparkEnv.get() != null) {
            for (Tuple2<String, String> e : SparkEnv.get().conf().getAllWithPrefix("spark.executorEnv.")) {
                env.put(e._1(), e._2());
            }
        }
        return HubOptions.builder(env).build();
    }

    /** The loaded models as "path threads=N", for tests. */
    static List<String> loaded() {
        return MODELS.keySet().stream().map(k -> k.path() + " threads=" + k.threads()).sorted().toList();
    }

    private static void closeAll() {
        MODELS.values().forEach(l -> {
            l.generations().close();
            l.model().close();
        });
        MODELS.clear();
    }
}
