package io.github.mobilellm4j.spark;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.service.SessionPool;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;

/**
 * The typed Dataset API: generation over a {@code Dataset<String>} of prompts, each partition's rows submitted to
 * the executor's batched engine several at a time, so that they decode together, one forward pass per token for
 * the whole batch. The model and threads come from the session's {@code spark.mobilellm.model} and
 * {@code spark.mobilellm.threads}, as for the SQL functions (the extension itself is not needed). Each row's
 * result is what it would be alone: with greedy decoding, the same as {@code Model.generate}.
 *
 * <pre>{@code
 * Dataset<GeneratedText> out = MobileLlmDatasets.generate(prompts, Map.of("max_tokens", "64"));
 * }</pre>
 */
public final class MobileLlmDatasets {
    private MobileLlmDatasets() {
    }

    /** Generations of every prompt, a partition's rows in batches as large as the executor's engine takes. */
    public static Dataset<GeneratedText> generate(Dataset<String> prompts, Map<String, String> options) {
        return generate(prompts, options, Integer.MAX_VALUE);
    }

    /**
     * Generations of every prompt, at most {@code batchSize} rows of a partition at a time (further capped by the
     * executor's engine: as many sequences as the executor's JVM sees cores, at most 16).
     *
     * @param options the options of {@code mobilellm_generate} (max_tokens, stop, temperature, ...), checked here
     * @throws IllegalArgumentException naming the problem when an option, the settings or batchSize is invalid
     */
    public static Dataset<GeneratedText> generate(Dataset<String> prompts, Map<String, String> options, int batchSize) {
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        GenerationSettings.parse(options); // a bad option fails here, on the driver
        ModelSettings settings = ModelSettings.from(prompts.sparkSession().sessionState().conf());
        String model = settings.model();
        int threads = settings.threads();
        LinkedHashMap<String, String> opts = new LinkedHashMap<>(options); // serialisable, in order
        return prompts.mapPartitions((MapPartitionsFunction<String, GeneratedText>) rows ->
                new Batches(rows, ExecutorModels.generations(model, threads), GenerationSettings.parse(opts), batchSize),
                Encoders.bean(GeneratedText.class));
    }

    /** A partition's results in order, computed a batch of rows at a time. */
    private static final class Batches implements Iterator<GeneratedText> {
        private final Iterator<String> rows;
        private final SessionPool pool;
        private final GenerateOptions options;
        private final int batchSize;
        private final List<GeneratedText> ready = new ArrayList<>();
        private int next;

        Batches(Iterator<String> rows, SessionPool pool, GenerateOptions options, int batchSize) {
            this.rows = rows;
            this.pool = pool;
            this.options = options;
            this.batchSize = Math.min(batchSize, pool.maxSessions());
        }

        @Override
        public boolean hasNext() {
            if (next == ready.size()) fill();
            return next < ready.size();
        }

        @Override
        public GeneratedText next() {
            if (!hasNext()) throw new NoSuchElementException();
            return ready.get(next++);
        }

        /** Takes the next batch of rows and generates for all of them at once, one waiting thread per row. */
        private void fill() {
            ready.clear();
            next = 0;
            List<String> prompts = new ArrayList<>(batchSize);
            while (prompts.size() < batchSize && rows.hasNext()) prompts.add(rows.next());
            if (prompts.isEmpty()) return;
            List<Future<GeneratedText>> results = new ArrayList<>(prompts.size());
            // the pool's scheduler steps every submitted row together; these threads only wait for their row
            try (ExecutorService waiters = Executors.newVirtualThreadPerTaskExecutor()) {
                for (String prompt : prompts) results.add(waiters.submit(() -> generate(prompt)));
                for (Future<GeneratedText> r : results) ready.add(r.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while generating", e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException r) throw r;
                throw new IllegalStateException(e.getCause());
            }
        }

        private GeneratedText generate(String prompt) {
            if (prompt == null) return new GeneratedText(null, null, null, null);
            Generation g = pool.complete(prompt, options, null);
            return new GeneratedText(prompt, g.text(), g.tokens(), g.stopReason().jsonName());
        }
    }
}
