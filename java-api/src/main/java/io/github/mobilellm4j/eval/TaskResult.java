package io.github.mobilellm4j.eval;

import java.util.List;

/**
 * A task's scores as lm-evaluation-harness reports them: acc and its standard error, acc_norm and its standard
 * error where the task reports it (null otherwise), the number of items, and every item's log-likelihoods.
 * Standard errors are null for a single item (the harness's "N/A").
 *
 * @param task the task's id
 */
public record TaskResult(String task, int n, double acc, Double accStderr, Double accNorm, Double accNormStderr,
        List<ItemResult> items) {

    /**
     * One item: per choice the log-likelihood and whether it is greedy, the right choice, and the choices picked by
     * the largest log-likelihood (pred) and the largest per-character log-likelihood (predNorm).
     */
    public record ItemResult(List<Loglikelihood> choices, int gold, int pred, int predNorm) {
        public ItemResult {
            choices = List.copyOf(choices);
        }

        public double acc() {
            return pred == gold ? 1.0 : 0.0;
        }

        public double accNorm() {
            return predNorm == gold ? 1.0 : 0.0;
        }
    }

    /**
     * The paired difference of a metric between this result and a baseline on the same items: this minus baseline,
     * and the standard error of that difference (the harness's mean_stderr of the per-item differences).
     *
     * @param norm acc_norm instead of acc
     * @throws IllegalArgumentException if the results are not of the same task and items
     */
    public Difference minus(TaskResult baseline, boolean norm) {
        if (!task.equals(baseline.task) || n != baseline.n) {
            throw new IllegalArgumentException("results of different tasks or items: " + task + " (" + n + ") and "
                    + baseline.task + " (" + baseline.n + ")");
        }
        double[] a = perItem(norm), b = baseline.perItem(norm);
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = a[i] - b[i];
        double se = Metrics.stderr(d);
        return new Difference(Metrics.mean(a) - Metrics.mean(b), Double.isNaN(se) ? null : se);
    }

    /** A paired difference (see {@link #minus}); stderr is null for a single item. */
    public record Difference(double value, Double stderr) {
        /** Whether the difference is larger than its standard error. */
        public boolean exceedsStderr() {
            return stderr != null && Math.abs(value) > stderr;
        }
    }

    /** Per item 1.0 (right) or 0.0, by acc or acc_norm. */
    double[] perItem(boolean norm) {
        double[] out = new double[items.size()];
        for (int i = 0; i < out.length; i++) out[i] = norm ? items.get(i).accNorm() : items.get(i).acc();
        return out;
    }

    static TaskResult of(String task, boolean reportsAccNorm, List<ItemResult> items) {
        TaskResult partial = new TaskResult(task, items.size(), 0, null, null, null, items);
        double[] acc = partial.perItem(false);
        Double accNorm = null, accNormStderr = null;
        if (reportsAccNorm) {
            double[] norm = partial.perItem(true);
            accNorm = Metrics.mean(norm);
            accNormStderr = orNull(Metrics.stderr(norm));
        }
        return new TaskResult(task, items.size(), Metrics.mean(acc), orNull(Metrics.stderr(acc)), accNorm, accNormStderr,
                List.copyOf(items));
    }

    private static Double orNull(double v) {
        return Double.isNaN(v) ? null : v;
    }
}
