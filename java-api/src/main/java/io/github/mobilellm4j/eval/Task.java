package io.github.mobilellm4j.eval;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * The zero-shot commonsense tasks of the MobileLLM model card, formatted and scored as lm-evaluation-harness
 * (v0.4.x) does, in the card's column order. Each names the Hugging Face dataset, configuration and split the
 * harness evaluates.
 */
public enum Task {
    BOOLQ("boolq", "boolq", "aps/super_glue", "boolq", "validation", false, TaskPrompts::boolq),
    PIQA("piqa", "piqa", "baber/piqa", null, "validation", true, TaskPrompts::piqa),
    SIQA("siqa", "social_iqa", "allenai/social_i_qa", null, "validation", false, TaskPrompts::siqa),
    HELLASWAG("hellaswag", "hellaswag", "Rowan/hellaswag", null, "validation", true, TaskPrompts::hellaswag),
    WINOGRANDE("winogrande", "winogrande", "allenai/winogrande", "winogrande_xl", "validation", false,
            TaskPrompts::winogrande),
    ARC_EASY("arc_easy", "arc_easy", "allenai/ai2_arc", "ARC-Easy", "test", true, TaskPrompts::arc),
    ARC_CHALLENGE("arc_challenge", "arc_challenge", "allenai/ai2_arc", "ARC-Challenge", "test", true, TaskPrompts::arc),
    OPENBOOKQA("openbookqa", "openbookqa", "allenai/openbookqa", "main", "test", true, TaskPrompts::openbookqa);

    private final String id;
    private final String harnessName;
    private final String dataset;
    private final String config;
    private final String split;
    private final boolean accNorm;
    private final Function<Doc, EvalItem> format;

    Task(String id, String harnessName, String dataset, String config, String split, boolean accNorm,
            Function<Doc, EvalItem> format) {
        this.id = id;
        this.harnessName = harnessName;
        this.dataset = dataset;
        this.config = config;
        this.split = split;
        this.accNorm = accNorm;
        this.format = format;
    }

    /** The name used here and on the command line ("siqa"). */
    public String id() {
        return id;
    }

    /** The harness's task name ("social_iqa"). */
    public String harnessName() {
        return harnessName;
    }

    /** The Hugging Face dataset id the harness loads ("allenai/ai2_arc"). */
    public String dataset() {
        return dataset;
    }

    /** The dataset configuration ("ARC-Easy"), or null when the dataset has one. */
    public String config() {
        return config;
    }

    /** The split the harness evaluates ("test" or "validation"). */
    public String split() {
        return split;
    }

    /** Whether the harness reports acc_norm for this task (BoolQ, SIQA and WinoGrande report acc only). */
    public boolean reportsAccNorm() {
        return accNorm;
    }

    /** The item the harness builds from one dataset row. */
    EvalItem item(Doc doc) {
        return format.apply(doc);
    }

    /** A task by its id or the harness's name, case-insensitively. */
    public static Task parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (Task t : values()) {
            if (t.id.equals(n) || t.harnessName.equals(n)) return t;
        }
        throw new IllegalArgumentException("unknown task '" + name + "' (expected one of " + ids() + " or all)");
    }

    /** "all", or a comma-separated list of tasks, in the card's order (duplicates dropped). */
    public static List<Task> parseList(String names) {
        if (names.trim().equalsIgnoreCase("all")) return List.of(values());
        Set<Task> out = EnumSet.noneOf(Task.class);
        for (String part : names.split(",")) {
            if (!part.isBlank()) out.add(parse(part));
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no task given (expected one of " + ids() + " or all)");
        return List.copyOf(out);
    }

    private static String ids() {
        List<String> ids = new ArrayList<>();
        for (Task t : values()) ids.add(t.id);
        return String.join(", ", ids);
    }
}
