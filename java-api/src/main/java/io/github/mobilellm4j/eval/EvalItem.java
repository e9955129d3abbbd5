package io.github.mobilellm4j.eval;

import java.util.List;
import java.util.Objects;

/**
 * One multiple-choice item as lm-evaluation-harness scores it: one (context, continuation) request per choice,
 * the choice texts (acc_norm divides each log-likelihood by its choice's length in characters) and the index of
 * the right choice. Most tasks share one context and differ in the continuation; WinoGrande puts each option in
 * the context and scores the same continuation.
 *
 * @param requests one per choice, in choice order
 * @param choices the choice texts (without the target delimiter), as many as requests
 * @param gold index of the right choice
 */
public record EvalItem(List<Request> requests, List<String> choices, int gold) {
    /** A log-likelihood request: the log-probability of continuation given context. */
    public record Request(String context, String continuation) {
        public Request {
            Objects.requireNonNull(context, "context");
            Objects.requireNonNull(continuation, "continuation");
            if (continuation.isEmpty()) throw new IllegalArgumentException("continuation must not be empty");
        }
    }

    public EvalItem {
        requests = List.copyOf(requests);
        choices = List.copyOf(choices);
        if (requests.isEmpty()) throw new IllegalArgumentException("an item needs at least one request");
        if (choices.size() != requests.size()) {
            throw new IllegalArgumentException("choices (" + choices.size() + ") must match requests (" + requests.size() + ")");
        }
        if (gold < 0 || gold >= requests.size()) {
            throw new IllegalArgumentException("gold must be in [0, " + requests.size() + "), got " + gold);
        }
    }
}
