package io.github.mobilellm4j.spark;

import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The models loaded in this JVM (an executor, or the driver in local mode): one per model path and thread
 * count, shared by every task that runs here, closed when the JVM shuts down. Loading happens once, on the
 * first row that needs the model; later tasks reuse it.
 */
final class ExecutorModels {
    private record Key(String path, int threads) {
    }

    private static final Map<Key, Model> MODELS = new ConcurrentHashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "mobilellm4j-spark-models"));
    }

    private ExecutorModels() {
    }

    /** The model at path loaded with the given CPU threads, loaded on first use. */
    static Model get(String path, int threads) {
        return MODELS.computeIfAbsent(new Key(path, threads),
                k -> Model.load(Path.of(k.path()), ModelOptions.builder().threads(k.threads()).build()));
    }

    /** The loaded models as "path threads=N", for tests. */
    static java.util.List<String> loaded() {
        return MODELS.keySet().stream().map(k -> k.path() + " threads=" + k.threads()).sorted().toList();
    }

    private static void closeAll() {
        MODELS.values().forEach(Model::close);
        MODELS.clear();
    }
}
