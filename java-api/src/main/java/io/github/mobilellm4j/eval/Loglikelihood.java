package io.github.mobilellm4j.eval;

/**
 * The result of one request: the log-probability of the continuation's tokens given the context (natural log,
 * summed over the tokens) and whether greedy decoding would produce exactly those tokens (each token the argmax).
 */
public record Loglikelihood(double value, boolean greedy) {
}
