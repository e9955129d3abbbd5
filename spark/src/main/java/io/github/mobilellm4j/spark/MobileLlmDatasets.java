package io.github.mobilellm4j.spark;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Pooling;
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
 * The typed Dataset API: generation, embeddings and scores over a {@code Dataset<String>}, each partition's rows
 * handed to the executor's batched engine several at a time, so that one forward pass serves many rows (the SQL
 * functions, which Spark evaluates a row at a time, cannot). Generations decode together, one pass per token for
 * the whole batch; embeddings and scores take several texts per pass ({@code Model.embedAll},
 * {@code Model.scoreAll}). The model and threads come from the session's {@code spark.mobilellm.model} and
 * {@code spark.mobilellm.threads}, as for the SQL functions (the extension itself is not needed). Each row's
 * result is what it would be alone: with greedy decoding, the same as {@code Model.generate}; embeddings and scores
 * equal {@code Model.embed} and {@code Session.score} up to float rounding.
 *
 * <pre>{@code
 * Dataset<GeneratedText> out = MobileLlmDatasets.generate(prompts, Map.of("max_tokens", "64"));
 * Dataset<EmbeddedText> vectors = MobileLlmDatasets.embed(texts);
 * Dataset<ScoredText> scores = MobileLlmDatasets.score(texts);
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

    /** Rows of a partition handed to the engine together by {@link #embed} and {@link #score}. */
    public static final int DEFAULT_CHUNK = 256;

    /**
     * The embedding of every text, mean-pooled and L2-normalised as {@code mobilellm_embed} computes it, the rows of
     * a partition embedded {@value #DEFAULT_CHUNK} at a time in batched passes.
     */
    public static Dataset<EmbeddedText> embed(Dataset<String> texts) {
        return embed(texts, Pooling.MEAN, true, DEFAULT_CHUNK);
    }

    /**
     * The embedding of every text ({@code Model.embed(text, pooling, normalize)}, up to float rounding), the rows of
     * a partition handed to {@code Model.embedAll} {@code chunk} at a time.
     *
     * @throws IllegalArgumentException when the settings or chunk are invalid
     */
    public static Dataset<EmbeddedText> embed(Dataset<String> texts, Pooling pooling, boolean normalize, int chunk) {
        java.util.Objects.requireNonNull(pooling, "pooling");
        if (chunk < 1) throw new IllegalArgumentException("chunk must be >= 1, got " + chunk);
        ModelSettings settings = ModelSettings.from(texts.sparkSession().sessionState().conf());
        String model = settings.model();
        int threads = settings.threads();
        return texts.mapPartitions((MapPartitionsFunction<String, EmbeddedText>) rows -> new Chunks<>(rows, chunk,
                chunkRows -> embedChunk(ExecutorModels.get(model, threads), chunkRows, pooling, normalize)),
                Encoders.bean(EmbeddedText.class));
    }

    /**
     * Every text scored as {@code mobilellm_score} scores it (see {@link ScoredText}), the rows of a partition
     * scored {@value #DEFAULT_CHUNK} at a time in batched passes.
     */
    public static Dataset<ScoredText> score(Dataset<String> texts) {
        return score(texts, DEFAULT_CHUNK);
    }

    /**
     * Every text scored ({@code Session.score} in a fresh session, up to float rounding), the rows of a partition
     * handed to {@code Model.scoreAll} {@code chunk} at a time.
     *
     * @throws IllegalArgumentException when the settings or chunk are invalid
     */
    public static Dataset<ScoredText> score(Dataset<String> texts, int chunk) {
        if (chunk < 1) throw new IllegalArgumentException("chunk must be >= 1, got " + chunk);
        ModelSettings settings = ModelSettings.from(texts.sparkSession().sessionState().conf());
        String model = settings.model();
        int threads = settings.threads();
        return texts.mapPartitions((MapPartitionsFunction<String, ScoredText>) rows -> new Chunks<>(rows, chunk,
                chunkRows -> scoreChunk(ExecutorModels.get(model, threads), chunkRows)), Encoders.bean(ScoredText.class));
    }

    /** The chunk's non-null texts embedded together; null rows get a null vector. */
    private static List<EmbeddedText> embedChunk(Model model, List<String> rows, Pooling pooling, boolean normalize) {
        List<String> present = rows.stream().filter(java.util.Objects::nonNull).toList();
        Iterator<float[]> vectors = model.embedAll(present, pooling, normalize).iterator();
        List<EmbeddedText> out = new ArrayList<>(rows.size());
        for (String text : rows) out.add(new EmbeddedText(text, text == null ? null : vectors.next()));
        return out;
    }

    /** The chunk's texts of two tokens or more scored together; shorter ones score nothing, null rows are null. */
    private static List<ScoredText> scoreChunk(Model model, List<String> rows) {
        List<int[]> tokens = new ArrayList<>(rows.size());
        List<int[]> scorable = new ArrayList<>();
        for (String text : rows) {
            int[] t = text == null ? null : model.tokenizer().encode(text);
            tokens.add(t);
            if (t != null && t.length >= 2) scorable.add(t);
        }
        Iterator<float[]> nlls = model.scoreAllTokens(scorable, io.github.mobilellm4j.BatchLimits.DEFAULT).iterator();
        List<ScoredText> out = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            int[] t = tokens.get(i);
            if (t == null) {
                out.add(new ScoredText(null, null, null, null));
                continue;
            }
            int n = Math.max(0, t.length - 1);
            float[] logprobs = new float[n];
            double total = 0;
            if (n > 0) {
                float[] nll = nlls.next();
                for (int k = 0; k < n; k++) {
                    logprobs[k] = -nll[k];
                    total += logprobs[k];
                }
            }
            out.add(new ScoredText(rows.get(i), java.util.Arrays.copyOfRange(t, Math.min(1, t.length), t.length), logprobs, total));
        }
        return out;
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
