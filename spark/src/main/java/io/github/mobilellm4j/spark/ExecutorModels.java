package io.github.mobilellm4j.spark;

import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.service.SessionPool;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

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
            Model m = Model.load(Path.of(k.path()), ModelOptions.builder().threads(k.threads()).build());
            // a task waits for a place as long as it takes: Spark, not the pool, bounds a task's time
            return new Loaded(m, SessionPool.builder(m).maxSessions(SEQUENCES).batched(true)
                    .acquireTimeout(Duration.ofDays(1)).build());
        });
    }

    /** The loaded models as "path threads=N", for tests. */
    static java.util.List<String> loaded() {
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
