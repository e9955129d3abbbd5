package io.github.mobilellm4j;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;

/**
 * The Java side of one generation: its tokens as they come out of the decode loop, their text, the stop strings,
 * and the tokens ready to hand out. A token is handed out once the next one has come (or the generation has
 * ended), so the last one can carry all text left; text that could still grow into a stop string is held back
 * until it cannot. So a stream's texts add up to {@link Generation#text()} whenever it ends on its own.
 */
final class GenerationText implements NativeScheduler.TokenListener {
    private final List<String> stopStrings;
    private final ArrayDeque<GeneratedToken> ready = new ArrayDeque<>();
    /** The last token added, not handed out yet (-1: none). */
    private int held = -1;
    private StopReason stopReason;
    private final StringBuilder text = new StringBuilder();
    private int[] tokens = new int[16];
    private int count;
    /** Text handed out so far. */
    private int emitted;
    /** The text's length before the last token's piece was appended (to take an unevaluated token back). */
    private int lengthBeforeLast;
    private boolean stopped;

    GenerationText(List<String> stopStrings) {
        this.stopStrings = stopStrings;
    }

    /**
     * The decode loop's next token and its text (token -1: text the detokenizer held at the end). Hands out the
     * token before it; returns true when a stop string ends the generation with this token.
     */
    @Override
    public boolean onToken(int token, String piece) {
        if (token < 0) {
            appendTail(piece);
            return false;
        }
        if (held >= 0) ready.add(release(held, false));
        held = token;
        return add(token, piece);
    }

    /**
     * The generation has ended. Ended by itself (EOS, the token limit, a stop string), its last token is handed out
     * with all text left; ended otherwise (cancelled, timed out), the token waiting to be handed out is taken back:
     * it was sampled but never evaluated, and a generation returns only tokens in the session's cache (and its
     * token-limit or stop-string token, which needs no evaluation).
     */
    void end(StopReason reason) {
        stopReason = reason;
        boolean natural = reason == StopReason.EOS || reason == StopReason.MAX_TOKENS || reason == StopReason.STOP_STRING;
        if (held >= 0) {
            if (natural) ready.add(release(held, true));
            else dropLast();
        }
        held = -1;
    }

    /** The next token to hand out, or null. */
    GeneratedToken poll() {
        return ready.poll();
    }

    boolean isEnded() {
        return stopReason != null;
    }

    Generation generation(int[] prompt, Timings timings) {
        return new Generation(text.toString(), prompt, tokens(), stopReason, timings);
    }

    /**
     * Adds a generated token and the text it completed. Returns true when a stop string now appears in the text:
     * the text is cut where it starts, and this token is the generation's last.
     */
    private boolean add(int token, String piece) {
        if (count == tokens.length) tokens = Arrays.copyOf(tokens, count * 2);
        tokens[count++] = token;
        lengthBeforeLast = text.length();
        text.append(piece);
        int stopAt = findStop();
        if (stopAt < 0) return false;
        text.setLength(stopAt);
        stopped = true;
        return true;
    }

    /** Takes back the last token added and its text (it was sampled but never evaluated). */
    private void dropLast() {
        if (count == 0) return;
        count--;
        text.setLength(Math.min(text.length(), lengthBeforeLast));
        emitted = Math.min(emitted, text.length());
    }

    /** Appends text that belongs to no new token (what the detokenizer held at the end), unless a stop string ended it. */
    private void appendTail(String tail) {
        if (!stopped) text.append(tail);
    }

    /**
     * Hands out the last token added (its index is count - 1) with its text: all that is left when it is the
     * generation's last, otherwise what can no longer become part of a stop string.
     */
    private GeneratedToken release(int token, boolean last) {
        int end = last ? text.length() : Math.max(emitted, text.length() - stopPrefixHeld());
        String out = text.substring(Math.min(emitted, end), end);
        emitted = end;
        return new GeneratedToken(token, out, count - 1);
    }

    int count() {
        return count;
    }

    int[] tokens() {
        return Arrays.copyOf(tokens, count);
    }

    /** Earliest index where a stop string starts in the text, or -1. */
    private int findStop() {
        int best = -1;
        for (String s : stopStrings) {
            int from = Math.max(0, emitted - s.length());
            int i = text.indexOf(s, from);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }

    /** Length of the longest text suffix that could still grow into a stop string: held back from streaming. */
    private int stopPrefixHeld() {
        int held = 0;
        for (String s : stopStrings) {
            for (int k = Math.min(s.length() - 1, text.length()); k > held; k--) {
                if (text.substring(text.length() - k).equals(s.substring(0, k))) {
                    held = k;
                    break;
                }
            }
        }
        return held;
    }
}
