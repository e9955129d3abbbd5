package io.github.mobilellm4j.eval;

import io.github.mobilellm4j.Logits;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * What a scorer feeds the model for each request and how it scores the rows that come back, as
 * lm-evaluation-harness does: context and continuation, the last token dropped, cut from the left to
 * maxLength + 1 tokens before; the continuation's tokens are scored by the rows of the tokens before them.
 * Log-softmax runs in double precision over the engine's float logits.
 */
final class HarnessScoring {
    private HarnessScoring() {
    }

    /** The tokens fed to the model for one request (harness: (context + continuation)[-(maxLength+1):][:-1]). */
    static int[] input(TokenizedItem.Request r, int maxLength) {
        int[] ctx = r.contextTokens(), cont = r.continuationTokens();
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

    /**
     * Length of the tokens every request of an item feeds before its scored rows begin: the rows from the first
     * scored one on must come out of each request's own evaluation.
     */
    static int sharedPrefix(int[][] inputs, List<TokenizedItem.Request> requests) {
        int shared = Integer.MAX_VALUE;
        for (int r = 0; r < inputs.length; r++) {
            shared = Math.min(shared, inputs[r].length - requests.get(r).continuationTokens().length);
            if (r > 0) shared = Math.min(shared, commonPrefix(inputs[0], inputs[r], inputs[0].length));
        }
        return shared;
    }

    /** Length of the common start of a and b, at most limit. */
    static int commonPrefix(int[] a, int[] b, int limit) {
        int n = Math.min(limit, Math.min(a.length, b.length));
        int i = 0;
        while (i < n && a[i] == b[i]) i++;
        return i;
    }

    /**
     * The request's log-likelihood from the logits of its evaluated tokens (rows of vocab floats, as
     * {@link Logits#segment}): the continuation's tokens are scored by the last rows. Only reads, so requests may be
     * scored on several threads at once.
     */
    static Loglikelihood continuationScore(MemorySegment logits, int vocab, int[] cont) {
        long rowBytes = (long) vocab * Float.BYTES;
        long first = logits.byteSize() / rowBytes - cont.length;
        double sum = 0;
        boolean greedy = true;
        for (int k = 0; k < cont.length; k++) {
            RowScore s = rowScore(logits.asSlice((first + k) * rowBytes, rowBytes), cont[k]);
            sum += s.logProb();
            greedy &= s.argmax() == cont[k];
        }
        return new Loglikelihood(sum, greedy);
    }

    /** log softmax(row)[token] and the row's argmax (the lowest id among equal maxima). */
    private record RowScore(double logProb, int argmax) {
    }

    /** Log-softmax in double precision over the float logits. */
    private static RowScore rowScore(MemorySegment row, int token) {
        long n = row.byteSize() / Float.BYTES;
        float max = row.getAtIndex(ValueLayout.JAVA_FLOAT, 0);
        int best = 0;
        for (int i = 1; i < n; i++) {
            float v = row.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            if (v > max) {
                max = v;
                best = i;
            }
        }
        double sum = 0;
        for (long i = 0; i < n; i++) sum += Math.exp((double) row.getAtIndex(ValueLayout.JAVA_FLOAT, i) - max);
        return new RowScore((double) row.getAtIndex(ValueLayout.JAVA_FLOAT, token) - max - Math.log(sum), best);
    }
}
