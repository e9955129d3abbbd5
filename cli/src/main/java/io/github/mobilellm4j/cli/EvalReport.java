package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.eval.Loglikelihood;
import io.github.mobilellm4j.eval.Task;
import io.github.mobilellm4j.eval.TaskResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The eval command's output: JSON objects and Markdown tables. The tables follow the MobileLLM model card: one
 * row per model, one column per task in the card's order, avg. last; a task's column shows acc_norm where the
 * harness reports it and acc otherwise, in percent.
 */
final class EvalReport {
    private static final Map<Task, String> CARD_NAMES = Map.of(Task.OPENBOOKQA, "obqa");

    private EvalReport() {
    }

    /** {"results": {"<task>": {"acc", "acc_norm", "acc_stderr", "acc_norm_stderr", "n"[, "requests"]}}}. */
    static Map<String, Object> json(Map<Task, TaskResult> results, boolean requests) {
        Map<String, Object> tasks = new LinkedHashMap<>();
        results.forEach((task, r) -> {
            Map<String, Object> o = metrics(r);
            if (requests) o.put("requests", requests(r));
            tasks.put(task.id(), o);
        });
        return Map.of("results", tasks);
    }

    /**
     * {"models": [A, B], "results": {"<task>": {"metric": "acc_norm", "a": {...}, "b": {...}, "difference": x,
     * "difference_stderr": s, "exceeds_stderr": b}}}: difference = B - A in the table's metric.
     */
    static Map<String, Object> compareJson(List<String> models, Map<Task, TaskResult> a, Map<Task, TaskResult> b) {
        Map<String, Object> tasks = new LinkedHashMap<>();
        a.forEach((task, ra) -> {
            TaskResult rb = b.get(task);
            TaskResult.Difference d = rb.minus(ra, task.reportsAccNorm());
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("metric", metricName(task));
            o.put("a", metrics(ra));
            o.put("b", metrics(rb));
            o.put("difference", d.value());
            o.put("difference_stderr", d.stderr());
            o.put("exceeds_stderr", d.exceedsStderr());
            tasks.put(task.id(), o);
        });
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("models", models);
        out.put("results", tasks);
        return out;
    }

    /** The card table for one model, then every metric with its standard error. */
    static String markdown(String model, Map<Task, TaskResult> results) {
        StringBuilder sb = new StringBuilder();
        header(sb, results.keySet());
        row(sb, model, results);
        sb.append('\n');
        details(sb, results);
        return sb.toString();
    }

    /**
     * Both models' rows and their difference (B - A, points); a * marks a difference larger than its standard
     * error, computed over the paired items.
     */
    static String compareMarkdown(List<String> models, Map<Task, TaskResult> a, Map<Task, TaskResult> b) {
        StringBuilder sb = new StringBuilder();
        header(sb, a.keySet());
        row(sb, models.get(0), a);
        row(sb, models.get(1), b);
        sb.append("| difference |");
        double sum = 0;
        for (Task t : a.keySet()) {
            TaskResult.Difference d = b.get(t).minus(a.get(t), t.reportsAccNorm());
            sum += d.value();
            sb.append(String.format(Locale.ROOT, " %+.1f%s |", 100 * d.value(), d.exceedsStderr() ? "*" : ""));
        }
        sb.append(String.format(Locale.ROOT, " %+.1f |%n", 100 * sum / a.size()));
        sb.append("\n* exceeds its standard error (paired over the same items)\n\n");
        sb.append("| task | metric | ").append(models.get(0)).append(" | ").append(models.get(1))
                .append(" | difference | stderr |\n| --- | --- | ---: | ---: | ---: | ---: |\n");
        for (Task t : a.keySet()) {
            TaskResult.Difference d = b.get(t).minus(a.get(t), t.reportsAccNorm());
            sb.append(String.format(Locale.ROOT, "| %s | %s | %.2f | %.2f | %+.2f | %s |%n", t.id(), metricName(t),
                    100 * value(a.get(t)), 100 * value(b.get(t)), 100 * d.value(), percent(d.stderr())));
        }
        return sb.toString();
    }

    private static Map<String, Object> metrics(TaskResult r) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("acc", r.acc());
        o.put("acc_norm", r.accNorm());
        o.put("acc_stderr", r.accStderr());
        o.put("acc_norm_stderr", r.accNormStderr());
        o.put("n", r.n());
        return o;
    }

    /** Every request: doc and choice indices 0-based in file order. */
    private static List<Map<String, Object>> requests(TaskResult r) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int d = 0; d < r.items().size(); d++) {
            List<Loglikelihood> choices = r.items().get(d).choices();
            for (int c = 0; c < choices.size(); c++) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("doc", d);
                o.put("choice", c);
                o.put("ll", choices.get(c).value());
                o.put("is_greedy", choices.get(c).greedy());
                out.add(o);
            }
        }
        return out;
    }

    private static void header(StringBuilder sb, Iterable<Task> tasks) {
        StringBuilder rule = new StringBuilder("| --- |");
        sb.append("| model |");
        for (Task t : tasks) {
            sb.append(' ').append(CARD_NAMES.getOrDefault(t, t.id())).append(" |");
            rule.append(" ---: |");
        }
        sb.append(" avg. |\n").append(rule).append(" ---: |\n");
    }

    private static void row(StringBuilder sb, String model, Map<Task, TaskResult> results) {
        sb.append("| ").append(model).append(" |");
        double sum = 0;
        for (TaskResult r : results.values()) {
            sum += value(r);
            sb.append(String.format(Locale.ROOT, " %.1f |", 100 * value(r)));
        }
        sb.append(String.format(Locale.ROOT, " %.1f |%n", 100 * sum / results.size()));
    }

    private static void details(StringBuilder sb, Map<Task, TaskResult> results) {
        sb.append("| task | acc | acc_norm | n |\n| --- | ---: | ---: | ---: |\n");
        results.forEach((t, r) -> sb.append(String.format(Locale.ROOT, "| %s | %.2f ± %s | %s | %d |%n", t.id(),
                100 * r.acc(), percent(r.accStderr()),
                r.accNorm() == null ? "-" : String.format(Locale.ROOT, "%.2f ± %s", 100 * r.accNorm(), percent(r.accNormStderr())),
                r.n())));
    }

    /** The table's metric of a task: acc_norm where the harness reports it, acc otherwise. */
    private static double value(TaskResult r) {
        return r.accNorm() != null ? r.accNorm() : r.acc();
    }

    private static String metricName(Task t) {
        return t.reportsAccNorm() ? "acc_norm" : "acc";
    }

    private static String percent(Double stderr) {
        return stderr == null ? "N/A" : String.format(Locale.ROOT, "%.2f", 100 * stderr);
    }
}
