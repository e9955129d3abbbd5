package io.github.mobilellm4j.eval;

import io.github.mobilellm4j.KvCacheType;
import io.github.mobilellm4j.Logits;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.SessionOptions;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

/**
 * Scores one item at a time in one session: the tokens all of an item's inputs share (the context, usually) are
 * evaluated once, every choice continues from that KV state and is truncated away afterwards. The prefix still in
 * the cache is kept for the next item as far as it matches (e.g. BOS and "Question:").
 *
 * <p>Inputs are built as lm-evaluation-harness builds them: context and continuation, the last token dropped,
 * cut from the left to maxLength + 1 tokens before; the continuation's tokens are scored by the rows of the
 * tokens before them. Log-softmax runs in double precision over the engine's float logits.
 */
final class SharedPrefixScorer implements LoglikelihoodScorer {
    private final Session session;
    private final int maxLength;
    private final float[] row;
    private int[] cached = new int[0];

    /**
     * @param maxLength the model's maximum length (the harness's max_length: the training context)
     * @param contextLength tokens the session holds: at least the longest input
     */
    SharedPrefixScorer(Model model, int maxLength, int contextLength, KvCacheType kvType) {
        this.maxLength = maxLength;
        this.row = new float[model.info().vocabSize()];
        this.session = model.newSession(SessionOptions.builder().contextLength(contextLength)
                .batchSize(Math.min(contextLength, 512)).kvCacheType(kvType).build());
    }

    /** The tokens fed to the model for one request (harness: (context + continuation)[-(maxLength+1):][:-1]). */
    static int[] input(TokenizedItem.Request r, int maxLength) {
        int[] ctx = r.context(), cont = r.continuation();
        if (cont.length > maxLength) {
            throw new IllegalArgumentException("a continuation of " + cont.length + " tokens exceeds the model's length " + maxLength);
        }
        int total = ctx.length + cont.length;
        int start = Math.max(0, total - (maxLength + 1));
        int[] in = new int[total - 1 - start];
        for (int i = 0; i < in.length; i++) {
            int k = start + i;
            in[i] = k < ctx.length ? ctx[k] : cont[k - ctx.length];
        }
        return in;
    }

    @Override
    public Loglikelihood[][] score(List<TokenizedItem> items) {
        Loglikelihood[][] out = new Loglikelihood[items.size()][];
        for (int i = 0; i < items.size(); i++) out[i] = score(items.get(i));
        return out;
    }

    private Loglikelihood[] score(TokenizedItem item) {
        List<TokenizedItem.Request> requests = item.requests();
        int n = requests.size();
        int[][] inputs = new int[n][];
        for (int r = 0; r < n; r++) inputs[r] = input(requests.get(r), maxLength);
        // rows from the first scored one on must come out of each request's own eval
        int shared = sharedPrefix(inputs, requests);
        int[] prefix = Arrays.copyOf(inputs[0], shared);
        int keep = commonPrefix(cached, prefix, shared);
        session.truncate(keep);
        if (keep < shared) session.prefill(Arrays.copyOfRange(prefix, keep, shared));
        cached = prefix;
        Loglikelihood[] out = new Loglikelihood[n];
        for (int r = 0; r < n; r++) {
            Logits logits = session.evalAll(Arrays.copyOfRange(inputs[r], shared, inputs[r].length));
            out[r] = continuationScore(logits, requests.get(r).continuation(), row);
            session.truncate(shared);
        }
        return out;
    }

    /**
     * The request's log-likelihood from the logits of its evaluated tokens: the continuation's tokens are scored by
     * the last rows (row is scratch of the vocabulary's size).
     */
    static Loglikelihood continuationScore(Logits logits, int[] cont, float[] row) {
        int first = logits.rows() - cont.length;
        double sum = 0;
        boolean greedy = true;
        for (int k = 0; k < cont.length; k++) {
            MemorySegment.copy(logits.row(first + k), ValueLayout.JAVA_FLOAT, 0, row, 0, row.length);
            RowScore s = rowScore(row, cont[k]);
            sum += s.logProb();
            greedy &= s.argmax() == cont[k];
        }
        return new Loglikelihood(sum, greedy);
    }

    /** Length of the tokens every request of the item feeds before its scored rows begin (see score). */
    static int sharedPrefix(int[][] inputs, List<TokenizedItem.Request> requests) {
        int shared = Integer.MAX_VALUE;
        for (int r = 0; r < inputs.length; r++) {
            shared = Math.min(shared, inputs[r].length - requests.get(r).continuation().length);
            if (r > 0) shared = Math.min(shared, commonPrefix(inputs[0], inputs[r], inputs[0].length));
        }
        return shared;
    }

    /** log softmax(row)[token] and the row's argmax (the lowest id among equal maxima). */
    private record RowScore(double logProb, int argmax) {
    }

    /** Log-softmax in double precision over the float logits. */
    private static RowScore rowScore(float[] row, int token) {
        float max = row[0];
        int best = 0;
        for (int i = 1; i < row.length; i++) {
            if (row[i] > max) {
                max = row[i];
                best = i;
            }
        }
        double sum = 0;
        for (float v : row) sum += Math.exp((double) v - max);
        return new RowScore((double) row[token] - max - Math.log(sum), best);
    }

    static int commonPrefix(int[] a, int[] b, int limit) {
        int n = Math.min(limit, Math.min(a.length, b.length));
        int i = 0;
        while (i < n && a[i] == b[i]) i++;
        return i;
    }

    @Override
    public void close() {
        session.close();
    }
}
