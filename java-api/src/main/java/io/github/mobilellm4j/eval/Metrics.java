package io.github.mobilellm4j.eval;

/**
 * lm-evaluation-harness's multiple-choice metrics, computed with the same floating-point operations in the same
 * order so that the numbers are identical, not only close: pred = argmax of the log-likelihoods, pred_norm =
 * argmax of each divided by its choice's length in characters (numpy: the first index among equal maxima);
 * acc = mean of the per-item 1.0/0.0 and its standard error sample_stddev / sqrt(n), with Python's float sum
 * (CPython 3.12+: Neumaier's compensated summation) and math.sqrt.
 */
final class Metrics {
    private Metrics() {
    }

    /** The index of the first largest value. */
    static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /** lls[i] / len(choices[i]) with Python's len (code points). */
    static double[] normalized(double[] lls, java.util.List<String> choices) {
        double[] out = new double[lls.length];
        for (int i = 0; i < lls.length; i++) {
            String c = choices.get(i);
            out[i] = lls[i] / (double) c.codePointCount(0, c.length());
        }
        return out;
    }

    /** Python's sum(arr) / len(arr). */
    static double mean(double[] xs) {
        return sum(xs) / xs.length;
    }

    /** The harness's mean_stderr: sample_stddev(arr) / sqrt(len(arr)); NaN (the harness's "N/A") for fewer than 2 items. */
    static double stderr(double[] xs) {
        if (xs.length < 2) return Double.NaN;
        double mu = mean(xs);
        double[] sq = new double[xs.length];
        for (int i = 0; i < xs.length; i++) {
            double d = xs[i] - mu;
            sq[i] = d * d;
        }
        return Math.sqrt(sum(sq) / (xs.length - 1)) / Math.sqrt(xs.length);
    }

    /** CPython 3.12's sum() of floats: Neumaier's compensated summation, the compensation added at the end. */
    static double sum(double[] xs) {
        double s = 0, c = 0;
        for (double x : xs) {
            double t = s + x;
            if (Math.abs(s) >= Math.abs(x)) c += (s - t) + x;
            else c += (x - t) + s;
            s = t;
        }
        if (c != 0 && Double.isFinite(c)) s += c;
        return s;
    }
}
