package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.MLLM_LOGITS_LAST;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * The decode loop behind generate() and stream(): evaluates the prompt, then samples one token at a time.
 * It looks one token ahead (evaluates a token and samples the next before handing it out) so the last
 * token handed out already carries all remaining text. Runs under the session's guards, so it is usable from
 * any one thread at a time; closing the session or the model between tokens ends it (CANCELLED).
 */
final class Generator implements AutoCloseable {
    private final Session session;
    private final int[] prompt;
    private final GenerateOptions options;
    private final Sampler sampler;
    private final StreamingDetokenizer detok;
    private final int[] endOfGeneration;
    private final StringBuilder text = new StringBuilder();
    /** The token evaluated next, passed without allocating per token. */
    private final int[] next = new int[1];
    /** The two halves of next(), made once so that the per-token path does not allocate lambdas. */
    private final Supplier<GeneratedToken> advance = this::advance;
    private final Supplier<GeneratedToken> step = this::step;
    private int emitted;
    private int[] tokens = new int[16];
    private int count;
    private int candidate = -1;
    private boolean primed;
    private boolean done;
    private boolean closed;
    private StopReason stopReason;
    private long start;
    private long promptEnd;
    private long end;

    Generator(Session session, int[] prompt, GenerateOptions options) {
        session.checkTokens(prompt, "the prompt has no tokens");
        java.util.Objects.requireNonNull(options, "options");
        this.session = session;
        this.prompt = prompt.clone();
        this.options = options;
        Model model = session.model();
        this.endOfGeneration = model.tokenizer().endOfGeneration();
        this.sampler = new Sampler(options.sampler(), model.info().vocabSize());
        this.detok = new StreamingDetokenizer(model, false);
    }

    /** The next generated token, or null when generation has ended. */
    GeneratedToken next() {
        return session.holding(advance);
    }

    Generation result() {
        if (!done) throw new IllegalStateException("generation has not finished");
        double promptSeconds = (promptEnd - start) / 1e9;
        double genSeconds = (end - promptEnd) / 1e9;
        return new Generation(text.toString(), prompt.clone(), Arrays.copyOf(tokens, count), stopReason,
                new Timings(prompt.length, count, promptSeconds, genSeconds));
    }

    /** Frees the sampler and detokenizer; refused (IllegalStateException) while another thread is inside. */
    @Override
    public void close() {
        session.holding(() -> {
            if (!closed) {
                closed = true;
                sampler.close();
                detok.close();
            }
            return null;
        });
    }

    private GeneratedToken advance() {
        if (done) return null;
        // closed between tokens, e.g. by a token callback or the stream's consumer
        if (session.isClosed()) return finish(StopReason.CANCELLED);
        return session.call(step);
    }

    private GeneratedToken step() {
        if (!primed) {
            primed = true;
            start = System.nanoTime();
            session.evaluate(prompt, MLLM_LOGITS_LAST());
            promptEnd = System.nanoTime();
            if (options.maxTokens() == 0) return finish(StopReason.MAX_TOKENS);
            candidate = sampleNext();
            if (isEos(candidate)) return finish(StopReason.EOS);
        }
        int token = candidate;
        if (count == tokens.length) tokens = Arrays.copyOf(tokens, count * 2);
        tokens[count++] = token;
        text.append(detok.push(token));
        int stopAt = findStop();
        if (stopAt >= 0) {
            text.setLength(stopAt);
            stopReason = StopReason.STOP_STRING;
        } else if (count == options.maxTokens()) {
            stopReason = StopReason.MAX_TOKENS;
        } else {
            next[0] = token;
            session.evaluate(next, MLLM_LOGITS_LAST());
            candidate = sampleNext();
            if (isEos(candidate)) stopReason = StopReason.EOS;
        }
        String release;
        if (stopReason != null) {
            done = true;
            end = System.nanoTime();
            if (stopReason != StopReason.STOP_STRING) text.append(detok.flush());
            release = text.substring(Math.min(emitted, text.length()));
            emitted = text.length();
        } else {
            int safe = Math.max(emitted, text.length() - stopPrefixHeld());
            release = text.substring(emitted, safe);
            emitted = safe;
        }
        return new GeneratedToken(token, release, count - 1);
    }

    private GeneratedToken finish(StopReason reason) {
        stopReason = reason;
        done = true;
        end = System.nanoTime();
        return null;
    }

    private int sampleNext() {
        return sampler.sample(session.lastRow());
    }

    /** EOS, or an end-of-turn / end-of-message token (Tokenizer.endOfGeneration()). */
    private boolean isEos(int token) {
        if (options.ignoreEos()) return false;
        for (int t : endOfGeneration) {
            if (t == token) return true;
        }
        return false;
    }

    /** Earliest index where a stop string starts in the text, or -1. */
    private int findStop() {
        int best = -1;
        for (String s : options.stopStrings()) {
            int from = Math.max(0, emitted - s.length());
            int i = text.indexOf(s, from);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }

    /** Length of the longest text suffix that could still grow into a stop string: held back from streaming. */
    private int stopPrefixHeld() {
        int held = 0;
        for (String s : options.stopStrings()) {
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
