package io.github.mobilellm4j.eval;

import io.github.mobilellm4j.KvCacheType;
import io.github.mobilellm4j.Logits;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.SessionOptions;
import java.util.Arrays;
import java.util.List;

/**
 * The reference for {@link BatchedPrefixScorer}: scores one item at a time in one session. The tokens all of an
 * item's inputs share (the context, usually) are evaluated once, every choice continues from that KV state and is
 * truncated away afterwards. The prefix still in the cache is kept for the next item as far as it matches (e.g. BOS
 * and "Question:"). Inputs and scores are those of {@link HarnessScoring}.
 */
final class SharedPrefixScorer implements LoglikelihoodScorer {
    private final Session session;
    private final int maxLength;
    private int[] cached = new int[0];

    /**
     * @param maxLength the model's maximum length (the harness's max_length: the training context)
     * @param contextLength tokens the session holds: at least the longest input
     */
    SharedPrefixScorer(Model model, int maxLength, int contextLength, KvCacheType kvType) {
        this.maxLength = maxLength;
        this.session = model.newSession(SessionOptions.builder().contextLength(contextLength)
                .batchSize(Math.min(contextLength, 512)).kvCacheType(kvType).build());
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
        for (int r = 0; r < n; r++) inputs[r] = HarnessScoring.input(requests.get(r), maxLength);
        int shared = HarnessScoring.sharedPrefix(inputs, requests);
        int[] prefix = Arrays.copyOf(inputs[0], shared);
        int keep = HarnessScoring.commonPrefix(cached, prefix, shared);
        session.truncate(keep);
        if (keep < shared) session.prefill(Arrays.copyOfRange(prefix, keep, shared));
        cached = prefix;
        Loglikelihood[] out = new Loglikelihood[n];
        for (int r = 0; r < n; r++) {
            Logits logits = session.evalAll(Arrays.copyOfRange(inputs[r], shared, inputs[r].length));
            out[r] = HarnessScoring.continuationScore(logits.segment(), logits.vocabSize(), requests.get(r).continuationTokens());
            session.truncate(shared);
        }
        return out;
    }

    @Override
    public void close() {
        session.close();
    }
}
