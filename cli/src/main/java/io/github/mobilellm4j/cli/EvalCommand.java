package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.convert.ProgressLine;
import io.github.mobilellm4j.eval.EvalItem;
import io.github.mobilellm4j.eval.Evaluator;
import io.github.mobilellm4j.eval.Task;
import io.github.mobilellm4j.eval.TaskData;
import io.github.mobilellm4j.eval.TaskResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/** eval: zero-shot multiple-choice accuracy as lm-evaluation-harness computes it; --compare for two models. */
final class EvalCommand implements Command {
    /** Quiets the Parquet reader's start-up notes (INFO on stderr); held so that the setting is not collected. */
    private static final Logger PARQUET_LOG = Logger.getLogger("dev.hardwood");

    @Override
    public String name() {
        return "eval";
    }

    @Override
    public String summary() {
        return "zero-shot accuracy on BoolQ, PIQA, SIQA, HellaSwag, WinoGrande, ARC, OpenBookQA";
    }

    @Override
    public String usage() {
        return """
                usage: mobilellm eval -m FILE --task TASK --data PATH [--limit N] [--log-requests] [--json]
                       mobilellm eval --compare A.gguf B.gguf --task TASK --data PATH [--limit N] [--json]
                Scores as lm-evaluation-harness (0.4.x, zero-shot) does: its prompts, tokenization and metrics.
                  --task TASK          boolq, piqa, siqa, hellaswag, winogrande, arc_easy, arc_challenge,
                                       openbookqa, a comma-separated list of them, or all
                  --data PATH          a task's data file (.jsonl, .json or .parquet, as the Hugging Face
                                       dataset has it) or a folder with <task>.jsonl or <task>.parquet, or a
                                       <task>/ folder holding the split's files
                  --limit N            only the first N items of each task (as the harness's --limit)
                  --log-requests       with --json: every request's log-likelihood and greedy flag
                  --json               {"results": {"<task>": {"acc":x, "acc_norm":y, "acc_stderr":s,
                                       "acc_norm_stderr":t, "n":N}}} (acc_norm null where the harness
                                       reports acc only: boolq, siqa, winogrande)
                  --compare A B        two models on the same items: both rows, the difference, and whether
                                       it exceeds its standard error (paired over the items)
                Without --json: a Markdown table in the model card's layout (acc_norm where the harness
                reports it, acc otherwise, in percent) and one with every metric and standard error.
                """ + ModelArgs.USAGE;
    }

    @Override
    public List<Option> options() {
        return ModelArgs.with(Option.valued("--task"), Option.valued("--data"), Option.valued("--limit"),
                Option.flag("--log-requests"), Option.flag("--json"), Option.flag("--compare"));
    }

    @Override
    public int maxPositional() {
        return 2;
    }

    @Override
    public int run(Args a, Streams io) throws Exception {
        PARQUET_LOG.setLevel(Level.WARNING);
        List<Path> models = models(a);
        if (a.get("--task") == null) throw new UsageException("a task is required (--task TASK, or --task all)");
        if (a.get("--data") == null) throw new UsageException("the tasks' data are required (--data FILE_OR_DIR)");
        List<Task> tasks;
        try {
            tasks = Task.parseList(a.get("--task"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(a.typed("--task") + ": " + e.getMessage());
        }
        int limit = a.intValue("--limit", 0);
        if (limit < 0 || (a.has("--limit") && limit == 0)) throw a.invalid("--limit", "must be >= 1");
        if (a.has("--log-requests") && !a.has("--json")) throw new UsageException("--log-requests needs --json");
        if (a.has("--log-requests") && models.size() > 1) throw new UsageException("--log-requests does not go with --compare");
        Map<Task, List<EvalItem>> data = load(tasks, Path.of(a.get("--data")), limit);
        List<Map<Task, TaskResult>> results = new ArrayList<>();
        for (Path m : models) results.add(evaluate(a, m, data, io));
        List<String> names = models.stream().map(p -> p.getFileName().toString()).toList();
        if (a.has("--json")) {
            io.out().println(Json.write(models.size() == 1 ? EvalReport.json(results.get(0), a.has("--log-requests"))
                    : EvalReport.compareJson(names, results.get(0), results.get(1))));
        } else {
            io.out().print(models.size() == 1 ? EvalReport.markdown(names.get(0), results.get(0))
                    : EvalReport.compareMarkdown(names, results.get(0), results.get(1)));
        }
        return 0;
    }

    /** -m FILE, or the two files after --compare. */
    private static List<Path> models(Args a) {
        if (a.has("--compare")) {
            if (a.has("-m")) throw new UsageException("--compare takes the two models itself; leave out -m");
            if (a.positional().size() != 2) throw new UsageException("--compare needs two model files (--compare A.gguf B.gguf)");
            return a.positional().stream().map(Path::of).toList();
        }
        if (!a.positional().isEmpty()) {
            throw new UsageException("unexpected argument '" + a.positional().get(0) + "' (see mobilellm eval --help)");
        }
        if (a.get("-m") == null) throw new UsageException("a model file is required (-m FILE)");
        return List.of(Path.of(a.get("-m")));
    }

    /** Every task's items, read before any model is loaded so that a data problem shows at once. */
    private static Map<Task, List<EvalItem>> load(List<Task> tasks, Path data, int limit) throws Exception {
        Map<Task, List<EvalItem>> out = new LinkedHashMap<>();
        for (Task t : tasks) {
            List<EvalItem> items;
            try {
                items = TaskData.load(t, data);
            } catch (IllegalArgumentException e) {
                throw new Failure(e.getMessage());
            }
            out.put(t, limit > 0 && limit < items.size() ? items.subList(0, limit) : items);
        }
        return out;
    }

    private static Map<Task, TaskResult> evaluate(Args a, Path file, Map<Task, List<EvalItem>> data, Streams io) {
        Map<Task, TaskResult> results = new LinkedHashMap<>();
        try (Model model = ModelArgs.load(a, file)) {
            for (Map.Entry<Task, List<EvalItem>> e : data.entrySet()) {
                Task task = e.getKey();
                String label = file.getFileName() + " " + task.id();
                ProgressLine[] line = new ProgressLine[1];
                long start = System.nanoTime();
                Evaluator evaluator = Evaluator.builder(model).progress((done, total) -> {
                    if (line[0] == null) line[0] = ProgressLine.count(io.err(), io.errIsTerminal(), label, total, "items");
                    line[0].update(done, "");
                }).build();
                TaskResult r;
                try {
                    r = evaluator.evaluate(task, e.getValue());
                } catch (IllegalArgumentException ex) {
                    throw new Failure(task.id() + ": " + ex.getMessage());
                } finally {
                    if (line[0] != null) line[0].clear();
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                io.err().printf(Locale.ROOT, "%s: %d items in %.1f s (%.2f items/s)%n", label, r.n(), seconds, r.n() / seconds);
                results.put(task, r);
            }
        }
        return results;
    }
}
