package io.github.mobilellm4j;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Next-token negative log-likelihoods from rows of logits, computed as the engine's score does. */
final class LogLikelihood {
    private LogLikelihood() {}

    /** nll[i] = -ln softmax(row i)[tokens[i + 1]] for the first tokens.length - 1 rows. */
    static float[] nextTokenNll(Logits logits, int[] tokens) {
        float[] nll = new float[tokens.length - 1];
        for (int r = 0; r < nll.length; r++) nll[r] = nll(logits.row(r), logits.vocabSize(), tokens[r + 1]);
        return nll;
    }

    /** -log softmax(row)[target], stably: the largest logit subtracted, the exponentials summed in double. */
    private static float nll(MemorySegment row, int n, int target) {
        float max = row.getAtIndex(ValueLayout.JAVA_FLOAT, 0);
        for (int i = 1; i < n; i++) max = Math.max(max, row.getAtIndex(ValueLayout.JAVA_FLOAT, i));
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp((double) row.getAtIndex(ValueLayout.JAVA_FLOAT, i) - max);
        return (float) (Math.log(sum) + max - row.getAtIndex(ValueLayout.JAVA_FLOAT, target));
    }
}
