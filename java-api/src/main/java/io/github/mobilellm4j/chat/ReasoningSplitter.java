package io.github.mobilellm4j.chat;

/**
 * Splits streamed model output into reasoning (between {@code <think>} and {@code </think>}) and
 * answer, as text arrives in arbitrary pieces: a tag split across pieces is held back until it is
 * complete or can no longer be one. Not thread-safe.
 */
public final class ReasoningSplitter {
    static final String OPEN = "<think>", CLOSE = "</think>";

    /** Text of one piece, divided between reasoning and answer. */
    public record Delta(String reasoning, String answer) {}

    private final StringBuilder reasoning = new StringBuilder();
    private final StringBuilder answer = new StringBuilder();
    private final StringBuilder held = new StringBuilder();
    private boolean thinking;

    /** @param thinking true when the prompt already opened a {@code <think>} block */
    public ReasoningSplitter(boolean thinking) {
        this.thinking = thinking;
    }

    /** Adds a piece of output; returns what it contributes to reasoning and answer. */
    public Delta push(String text) {
        held.append(text);
        StringBuilder r = new StringBuilder(), a = new StringBuilder();
        while (held.length() > 0) {
            String tag = thinking ? CLOSE : OPEN;
            int at = held.indexOf(tag);
            if (at >= 0) {
                (thinking ? r : a).append(held, 0, at);
                held.delete(0, at + tag.length());
                thinking = !thinking;
                continue;
            }
            int keep = partialSuffix(held, tag);
            (thinking ? r : a).append(held, 0, held.length() - keep);
            held.delete(0, held.length() - keep);
            break;
        }
        reasoning.append(r);
        return new Delta(r.toString(), appendAnswer(a.toString()));
    }

    /** Releases text held as a possible tag start. */
    public Delta finish() {
        String rest = held.toString();
        held.setLength(0);
        if (thinking) {
            reasoning.append(rest);
            return new Delta(rest, "");
        }
        return new Delta("", appendAnswer(rest));
    }

    /** Adds answer text, less the newlines that open the answer: the streamed pieces add up to {@link #answer()}. */
    private String appendAnswer(String a) {
        String added = answer.isEmpty() ? PythonValues.strip(a, "\n", true, false) : a;
        answer.append(added);
        return added;
    }

    /** All reasoning so far, without the newlines around it. */
    public String reasoning() {
        return PythonValues.strip(reasoning.toString(), "\n", true, true);
    }

    /** All answer text so far, without the newlines that open it (those that follow {@code </think>}). */
    public String answer() {
        return answer.toString();
    }

    /** Length of the longest suffix of s that is a proper prefix of tag. */
    private static int partialSuffix(CharSequence s, String tag) {
        for (int k = Math.min(tag.length() - 1, s.length()); k > 0; k--) {
            if (tag.startsWith(s.subSequence(s.length() - k, s.length()).toString())) return k;
        }
        return 0;
    }
}
