package io.github.mobilellm4j.eval;

import io.github.mobilellm4j.KvCacheType;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.SessionOptions;
import java.util.Arrays;
import java.util.Locale;

/**
 * Perplexity of a model on a text.
 *
 * <p>{@link Method#MOBILELLM} is MobileLLM's eval.py: one BOS, the text tokenized once, non-overlapping windows
 * of the context length (a last partial window is dropped), mean cross-entropy over positions 1..n-1 of each
 * window. {@link Method#LLAMA_CPP} is llama.cpp's perplexity tool: each window starts with BOS and only the
 * predictions in its second half are scored, so its numbers are lower and not comparable.
 */
public final class Perplexity {
    private Perplexity() {
    }

    public enum Method {
        MOBILELLM("mobilellm"), LLAMA_CPP("llama.cpp");

        private final String label;

        Method(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        public static Method parse(String s) {
            for (Method m : values()) {
                if (m.label.equalsIgnoreCase(s) || m.name().equalsIgnoreCase(s)) return m;
            }
            throw new IllegalArgumentException("unknown perplexity method '" + s + "' (use mobilellm or llama.cpp)");
        }
    }

    /**
     * @param perplexity exp(meanNll)
     * @param windows windows evaluated
     * @param tokens predictions scored
     */
    public record Result(double perplexity, double meanNll, int windows, int tokens, Method method, int contextLength) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "perplexity %.4f over %d tokens in %d windows of %d (%s)", perplexity, tokens,
                    windows, contextLength, method.label());
        }
    }

    /** Receives progress: windows scored so far (0 once before the first) and the number of windows in all. */
    @FunctionalInterface
    public interface Progress {
        void windowDone(int done, int total);
    }

    /**
     * Computes the perplexity; progress goes to the optional callback before the first window and after each.
     *
     * @throws IllegalArgumentException if the text is shorter than one window
     */
    public static Result compute(Model model, String text, int contextLength, Method method, Progress progress) {
        return compute(model, text, contextLength, method, KvCacheType.F16, progress);
    }

    /** As above, with the KV-cache type chosen (F32 for reference comparisons). */
    public static Result compute(Model model, String text, int contextLength, Method method, KvCacheType kvType,
            Progress progress) {
        if (contextLength < 2) throw new IllegalArgumentException("context length must be >= 2, got " + contextLength);
        int bos = model.info().vocabulary().bosToken();
        int[] body = model.tokenizer().encode(text, false, false);
        int[] all;
        if (bos >= 0) {
            all = new int[body.length + 1];
            all[0] = bos;
            System.arraycopy(body, 0, all, 1, body.length);
        } else {
            all = body;
        }
        int windows = all.length / contextLength;
        if (windows == 0) {
            throw new IllegalArgumentException("text too short: " + all.length + " tokens, one window needs "
                    + contextLength);
        }
        double sum = 0;
        int scored = 0;
        try (Session session = model.newSession(SessionOptions.builder().contextLength(contextLength)
                .batchSize(Math.min(contextLength, 512)).kvCacheType(kvType).build())) {
            if (progress != null) progress.windowDone(0, windows);
            for (int w = 0; w < windows; w++) {
                int[] window = Arrays.copyOfRange(all, w * contextLength, (w + 1) * contextLength);
                int first = 0;
                if (method == Method.LLAMA_CPP) {
                    if (bos >= 0) window[0] = bos;
                    first = contextLength / 2;
                }
                session.reset();
                float[] nll = session.score(window);
                for (int i = first; i < nll.length; i++) {
                    sum += nll[i];
                    scored++;
                }
                if (progress != null) progress.windowDone(w + 1, windows);
            }
        }
        double mean = sum / scored;
        return new Result(Math.exp(mean), mean, windows, scored, method, contextLength);
    }
}
