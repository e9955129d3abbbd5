package io.github.mobilellm4j.eval;

import java.util.List;

/**
 * An item's requests as token ids, as lm-evaluation-harness encodes them: the context's tokens (with BOS when the
 * tokenizer adds one) and the continuation's tokens, cut from the encoding of context and continuation together.
 * The arrays are shared, not copied: treat them as read-only.
 */
public record TokenizedItem(List<Request> requests) {
    /** One request's tokens; both arrays are non-empty. */
    public record Request(int[] context, int[] continuation) {
    }

    public TokenizedItem {
        requests = List.copyOf(requests);
    }
}
