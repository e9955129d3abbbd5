package io.github.mobilellm4j.eval;

import java.util.Arrays;
import java.util.List;

/**
 * An item's requests as token ids, as lm-evaluation-harness encodes them: the context's tokens (with BOS when the
 * tokenizer adds one) and the continuation's tokens, cut from the encoding of context and continuation together.
 */
public record TokenizedItem(List<Request> requests) {
    /**
     * One request's tokens; both are non-empty. The request keeps its own copies: the arrays given to the
     * constructor and those its accessors return can be changed without changing the request. Two requests are
     * equal when their tokens are.
     */
    public record Request(int[] context, int[] continuation) {
        public Request {
            if (context.length == 0) throw new IllegalArgumentException("a request's context has no tokens");
            if (continuation.length == 0) throw new IllegalArgumentException("a request's continuation has no tokens");
            context = context.clone();
            continuation = continuation.clone();
        }

        /** A copy of the context's tokens. */
        @Override
        public int[] context() {
            return context.clone();
        }

        /** A copy of the continuation's tokens. */
        @Override
        public int[] continuation() {
            return continuation.clone();
        }

        /** The context's tokens themselves, for scorers reading them without a copy; never to be changed. */
        int[] contextTokens() {
            return context;
        }

        /** The continuation's tokens themselves, for scorers reading them without a copy; never to be changed. */
        int[] continuationTokens() {
            return continuation;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Request r && Arrays.equals(context, r.context) && Arrays.equals(continuation, r.continuation);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(context) + Arrays.hashCode(continuation);
        }

        @Override
        public String toString() {
            return "Request[context=" + Arrays.toString(context) + ", continuation=" + Arrays.toString(continuation) + "]";
        }
    }

    public TokenizedItem {
        requests = List.copyOf(requests);
    }
}
