package io.github.mobilellm4j.eval;

import java.util.List;

/**
 * Scores tokenized requests. The {@link Evaluator} hands a scorer {@link #batchSize()} items per call, so an
 * implementation that runs several sequences at once can take whole batches; the default one evaluates each
 * item's shared context once, copies it to a session per choice, and scores the choices of several items in one
 * forward pass.
 */
public interface LoglikelihoodScorer extends AutoCloseable {
    /** result[i][j] is request j of items[i]. */
    Loglikelihood[][] score(List<TokenizedItem> items);

    /** Items per call that suit this scorer. */
    default int batchSize() {
        return 1;
    }

    @Override
    void close();
}
