package io.github.mobilellm4j.eval;

import io.github.mobilellm4j.KvCacheType;
import io.github.mobilellm4j.Model;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Zero-shot multiple-choice evaluation with lm-evaluation-harness's rules (prompts, tokenization, metrics; see
 * docs/evaluation.md), on a loaded model:
 *
 * <pre>{@code
 * Evaluator evaluator = Evaluator.builder(model).build();
 * TaskResult r = evaluator.evaluate(Task.HELLASWAG, Path.of("hellaswag/validation.jsonl"), 0); // 0: every item
 * System.out.printf("acc %.4f, acc_norm %.4f%n", r.acc(), r.accNorm());
 * }</pre>
 *
 * The model is only read; an evaluator makes one session per evaluation, so it is not for use by several threads
 * at once.
 */
public final class Evaluator {
    /** Receives progress: items scored so far (0 once before the first) and the number of items in all. */
    @FunctionalInterface
    public interface Progress {
        void itemsDone(int done, int total);
    }

    /** Requests the built-in scorer evaluates in one pass (each in a session of its own). */
    private static final int BATCHED_REQUESTS = 8;

    private final Model model;
    private final KvCacheType kvCacheType;
    private final LoglikelihoodScorer scorer;
    private final Progress progress;

    private Evaluator(Builder b) {
        this.model = b.model;
        this.kvCacheType = b.kvCacheType;
        this.scorer = b.scorer;
        this.progress = b.progress;
    }

    public static Builder builder(Model model) {
        return new Builder(model);
    }

    /** Reads the task's items from fileOrDir ({@link TaskData#files}) and evaluates the first limit of them (0: all). */
    public TaskResult evaluate(Task task, Path fileOrDir, int limit) throws IOException {
        if (limit < 0) throw new IllegalArgumentException("limit must be >= 0, got " + limit);
        List<EvalItem> items = TaskData.load(task, fileOrDir);
        return evaluate(task, limit > 0 && limit < items.size() ? items.subList(0, limit) : items);
    }

    /** Evaluates a task's items. */
    public TaskResult evaluate(Task task, List<EvalItem> items) {
        return evaluate(task.id(), task.reportsAccNorm(), items);
    }

    /** Evaluates items of any multiple-choice task; acc_norm is reported when reportsAccNorm. */
    public TaskResult evaluate(String taskName, boolean reportsAccNorm, List<EvalItem> items) {
        Objects.requireNonNull(taskName, "taskName");
        if (items.isEmpty()) throw new IllegalArgumentException("no items to evaluate");
        RequestEncoder encoder = new RequestEncoder(model);
        int maxLength = model.info().shape().contextLength();
        List<TokenizedItem> tokenized = new ArrayList<>(items.size());
        int longest = 1;
        for (EvalItem item : items) {
            TokenizedItem t = encoder.encode(item);
            for (TokenizedItem.Request r : t.requests()) longest = Math.max(longest, HarnessScoring.input(r, maxLength).length);
            tokenized.add(t);
        }
        LoglikelihoodScorer s = scorer != null ? scorer
                : new BatchedPrefixScorer(model, maxLength, longest, kvCacheType, BATCHED_REQUESTS);
        try {
            return TaskResult.of(taskName, reportsAccNorm, score(s, items, tokenized));
        } finally {
            if (s != scorer) s.close();
        }
    }

    private List<TaskResult.ItemResult> score(LoglikelihoodScorer s, List<EvalItem> items, List<TokenizedItem> tokenized) {
        List<TaskResult.ItemResult> out = new ArrayList<>(items.size());
        int batch = Math.max(1, s.batchSize());
        if (progress != null) progress.itemsDone(0, items.size());
        for (int from = 0; from < items.size(); from += batch) {
            int to = Math.min(items.size(), from + batch);
            Loglikelihood[][] lls = s.score(tokenized.subList(from, to));
            if (lls.length != to - from) throw new IllegalStateException("the scorer returned " + lls.length + " items for " + (to - from));
            for (int i = from; i < to; i++) out.add(result(items.get(i), lls[i - from]));
            if (progress != null) progress.itemsDone(to, items.size());
        }
        return out;
    }

    private static TaskResult.ItemResult result(EvalItem item, Loglikelihood[] lls) {
        if (lls.length != item.requests().size()) {
            throw new IllegalStateException("the scorer returned " + lls.length + " results for " + item.requests().size() + " requests");
        }
        double[] v = new double[lls.length];
        for (int i = 0; i < v.length; i++) v[i] = lls[i].value();
        return new TaskResult.ItemResult(List.of(lls), item.gold(), Metrics.argmax(v),
                Metrics.argmax(Metrics.normalized(v, item.choices())));
    }

    public static final class Builder {
        private final Model model;
        private KvCacheType kvCacheType = KvCacheType.F32;
        private LoglikelihoodScorer scorer;
        private Progress progress;

        private Builder(Model model) {
            this.model = Objects.requireNonNull(model, "model");
        }

        /** The KV cache type of the evaluation's session; F32 (the default) keeps the closest to a float32 reference. */
        public Builder kvCacheType(KvCacheType type) {
            this.kvCacheType = Objects.requireNonNull(type, "type");
            return this;
        }

        /** Scores with this scorer instead of the built-in one (the caller closes it). */
        public Builder scorer(LoglikelihoodScorer scorer) {
            this.scorer = Objects.requireNonNull(scorer, "scorer");
            return this;
        }

        /** Called before the first item and after each batch of items. */
        public Builder progress(Progress progress) {
            this.progress = Objects.requireNonNull(progress, "progress");
            return this;
        }

        public Evaluator build() {
            return new Evaluator(this);
        }
    }
}
