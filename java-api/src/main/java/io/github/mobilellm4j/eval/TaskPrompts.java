package io.github.mobilellm4j.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * lm-evaluation-harness's zero-shot prompts (v0.4.x task YAMLs and their Python helpers), one method per task
 * format. Every request's continuation is the target delimiter " " followed by the choice (or, for WinoGrande,
 * by the sentence after the blank).
 */
final class TaskPrompts {
    private static final String DELIMITER = " ";
    /** HellaSwag's re.sub("\\[.*?\\]", "", text): Python's '.' matches everything but '\n'. */
    private static final Pattern BRACKETS = Pattern.compile("\\[[^\\n]*?\\]");

    private TaskPrompts() {
    }

    /** arc_easy / arc_challenge: "Question: {{question}}\nAnswer:", gold choices.label.index(answerKey). */
    static EvalItem arc(Doc d) {
        Doc choices = d.child("choices");
        return choices(d, "Question: " + d.text("question") + "\nAnswer:", texts(choices),
                labelIndex(d, choices, d.text("answerKey")));
    }

    /** openbookqa: the question stem alone, gold choices.label.index(answerKey.lstrip()). */
    static EvalItem openbookqa(Doc d) {
        Doc choices = d.child("choices");
        return choices(d, d.text("question_stem"), texts(choices),
                labelIndex(d, choices, PythonText.lstrip(d.text("answerKey"))));
    }

    /** boolq: "{{passage}}\nQuestion: {{question}}?\nAnswer:", choices no/yes, gold label. */
    static EvalItem boolq(Doc d) {
        String context = d.text("passage") + "\nQuestion: " + d.text("question") + "?\nAnswer:";
        return choices(d, context, List.of("no", "yes"), d.integer("label"));
    }

    /** piqa: "Question: {{goal}}\nAnswer:", choices sol1/sol2, gold label. */
    static EvalItem piqa(Doc d) {
        return choices(d, "Question: " + d.text("goal") + "\nAnswer:", List.of(d.text("sol1"), d.text("sol2")),
                d.integer("label"));
    }

    /** social_iqa: "Q: {{context}} {{question}}\nA:", choices answerA..C, gold (label|int) - 1. */
    static EvalItem siqa(Doc d) {
        String context = "Q: " + d.text("context") + " " + d.text("question") + "\nA:";
        return choices(d, context, List.of(d.text("answerA"), d.text("answerB"), d.text("answerC")),
                d.integer("label") - 1);
    }

    /**
     * hellaswag: query = preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize()), choices the
     * preprocessed endings, gold label.
     */
    static EvalItem hellaswag(Doc d) {
        String ctx = d.text("ctx_a") + " " + PythonText.capitalize(d.text("ctx_b"));
        String query = hellaswagPreprocess(d.text("activity_label") + ": " + ctx);
        List<String> endings = new ArrayList<>();
        for (String e : d.texts("endings")) endings.add(hellaswagPreprocess(e));
        return choices(d, query, endings, d.integer("label"));
    }

    /** HellaSwag's preprocess(): strip, " [title]" to ". ", drop [bracketed] tags, "  " to " " (one pass). */
    static String hellaswagPreprocess(String text) {
        String t = PythonText.strip(text).replace(" [title]", ". ");
        return BRACKETS.matcher(t).replaceAll("").replace("  ", " ");
    }

    /**
     * winogrande: each option fills the blank as the end of its context (sentence up to "_" plus the option); the
     * continuation is the rest of the sentence, stripped; gold {"1": 0, "2": 1}[answer].
     */
    static EvalItem winogrande(Doc d) {
        String sentence = d.text("sentence");
        int blank = sentence.indexOf('_');
        if (blank < 0) throw d.bad("sentence", "has no blank '_'");
        String before = sentence.substring(0, blank);
        List<String> contexts = List.of(before + d.text("option1"), before + d.text("option2"));
        String continuation = DELIMITER + PythonText.strip(sentence.substring(blank + 1));
        int answer = d.integer("answer");
        if (answer != 1 && answer != 2) throw d.bad("answer", "must be \"1\" or \"2\", got " + answer);
        List<EvalItem.Request> requests = new ArrayList<>();
        for (String c : contexts) requests.add(new EvalItem.Request(c, continuation));
        return new EvalItem(requests, contexts, answer - 1);
    }

    private static EvalItem choices(Doc d, String context, List<String> choices, int gold) {
        if (gold < 0 || gold >= choices.size()) {
            throw d.bad("label", "names no choice: index " + gold + " of " + choices.size() + " choices");
        }
        List<EvalItem.Request> requests = new ArrayList<>(choices.size());
        for (String c : choices) requests.add(new EvalItem.Request(context, DELIMITER + c));
        return new EvalItem(requests, choices, gold);
    }

    private static List<String> texts(Doc choices) {
        List<String> texts = choices.texts("text");
        if (texts.isEmpty()) throw choices.bad("text", "is empty");
        return texts;
    }

    private static int labelIndex(Doc d, Doc choices, String key) {
        List<String> labels = choices.texts("label");
        if (labels.size() != choices.texts("text").size()) throw choices.bad("label", "must have one label per choice text");
        int i = labels.indexOf(key);
        if (i < 0) throw d.bad("answerKey", "'" + key + "' is not one of the labels " + labels);
        return i;
    }
}
