/* Sampling through the public API (mllm_sampler_*) plus the internal PRNG. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mobilellm.h"
#include "sampling/rng.h"
#include "util/test_check.h"



static mllm_sampler *make(mllm_sampler_params p, int32_t n_vocab) {
    mllm_sampler *s = NULL;
    mllm_status st = mllm_sampler_create(&p, n_vocab, &s);
    if (st != MLLM_OK) fprintf(stderr, "sampler_create: %s\n", mllm_last_error());
    CHECK(st == MLLM_OK && s);
    return s;
}

/* Pure softmax sampling at temperature t: no top-k/top-p/min-p, no penalty. */
static mllm_sampler_params plain(float t, uint64_t seed) {
    mllm_sampler_params p;
    mllm_sampler_params_init(&p);
    p.temperature = t;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.seed = seed;
    return p;
}

static void test_defaults(void) {
    mllm_sampler_params p;
    memset(&p, 0xFF, sizeof p);
    mllm_sampler_params_init(&p);
    /* the values documented in mobilellm.h */
    CHECK(p.greedy == 0 && p.temperature == 0.8f && p.top_k == 40 && p.top_p == 0.95f && p.min_p == 0.05f);
    CHECK(p.repeat_penalty == 1.0f && p.repeat_last_n == 64);
}

static void test_rng_vectors(void) {
    mllm_rng r;
    /* splitmix64 seeded with 0 first yields 0xE220A8397B1DCDAF (Vigna's reference output). */
    mllm_rng_seed(&r, 0);
    CHECK(r.s[0] == 0xE220A8397B1DCDAFull);
    /* xoshiro256** from state {1,2,3,4}, worked by hand: out1 = rotl(2*5,7)*9 = 1280*9 = 11520;
     * the update makes s1 = 0, so out2 = 0; then s1 = 262149, out3 = (262149*5 << 7)*9. */
    r.s[0] = 1; r.s[1] = 2; r.s[2] = 3; r.s[3] = 4;
    CHECK(mllm_rng_next(&r) == 11520u);
    CHECK(mllm_rng_next(&r) == 0u);
    CHECK(mllm_rng_next(&r) == 1509978240u);
}

static void test_greedy(void) {
    const float logits[6] = {0.1f, 3.0f, NAN, 3.0f, -2.0f, 2.9f};
    mllm_sampler_params p;
    mllm_sampler_params_init(&p);
    p.greedy = 1;
    mllm_sampler *s = make(p, 6);
    CHECK(mllm_sampler_sample(s, logits, 6) == 1); /* max 3.0, lowest index on ties, NaN never wins */
    mllm_sampler_free(s);
    p.greedy = 0;
    p.temperature = 0.0f; /* behaves as greedy */
    s = make(p, 6);
    CHECK(mllm_sampler_sample(s, logits, 6) == 1);
    mllm_sampler_free(s);
    /* top_k = 1 leaves only the argmax, whatever the seed and temperature. */
    const float l2[5] = {0.5f, 1.0f, 1.2f, 1.1f, -3.0f};
    int ok = 1;
    for (uint64_t seed = 0; seed < 50; seed++) {
        mllm_sampler_params q = plain(1.5f, seed);
        q.top_k = 1;
        s = make(q, 5);
        ok &= mllm_sampler_sample(s, l2, 5) == 2;
        mllm_sampler_free(s);
    }
    CHECK(ok);
}

static void test_reproducible(void) {
    const float logits[8] = {0.1f, 0.2f, 0.0f, -0.1f, 0.3f, 0.05f, 0.15f, -0.2f};
    mllm_sampler *a = make(plain(1.0f, 1234), 8), *b = make(plain(1.0f, 1234), 8), *c = make(plain(1.0f, 99), 8);
    int32_t seq[200];
    int same = 1, differs = 0;
    for (int i = 0; i < 200; i++) {
        seq[i] = mllm_sampler_sample(a, logits, 8);
        same &= seq[i] == mllm_sampler_sample(b, logits, 8);
        differs |= seq[i] != mllm_sampler_sample(c, logits, 8); /* 8^-200-ish chance of equality */
    }
    CHECK(same && differs);
    CHECK(mllm_sampler_reset(a, 1234) == MLLM_OK);
    int again = 1;
    for (int i = 0; i < 200; i++) again &= seq[i] == mllm_sampler_sample(a, logits, 8);
    CHECK(again);
    mllm_sampler_free(a);
    mllm_sampler_free(b);
    mllm_sampler_free(c);
}

/* Pearson's chi-square of n draws against probabilities prob[0..k); returns the statistic. */
static double chi_square(mllm_sampler *s, const float *logits, const double *prob, int k, int n) {
    int counts[16] = {0};
    for (int i = 0; i < n; i++) {
        int32_t t = mllm_sampler_sample(s, logits, k);
        if (t < 0 || t >= k) return 1e30;
        counts[t]++;
    }
    double x2 = 0.0;
    for (int j = 0; j < k; j++) {
        double e = prob[j] * n;
        x2 += (counts[j] - e) * (counts[j] - e) / e;
    }
    return x2;
}

/* Draw frequencies follow softmax(logits / T). With a correct sampler the statistic follows a
 * chi-square law with k-1 = 4 degrees of freedom; 23.51 is its 99.99% quantile, so a correct
 * implementation fails with probability 1e-4 for a random seed (and never for this fixed seed),
 * while a wrong distribution (e.g. a temperature applied twice) gives values in the hundreds. */
static void test_distribution(void) {
    const float logits[5] = {0.0f, 1.0f, 2.0f, 0.5f, -1.0f};
    const float temps[2] = {1.0f, 0.7f};
    for (int t = 0; t < 2; t++) {
        double prob[5], sum = 0.0;
        for (int j = 0; j < 5; j++) sum += prob[j] = exp(logits[j] / temps[t]);
        for (int j = 0; j < 5; j++) prob[j] /= sum;
        mllm_sampler *s = make(plain(temps[t], 42 + (uint64_t)t), 5);
        double x2 = chi_square(s, logits, prob, 5, 20000);
        printf("chi-square at T=%.1f: %.2f (bound 23.51)\n", temps[t], x2);
        CHECK(x2 < 23.51);
        mllm_sampler_free(s);
    }
}

/* Probabilities 0.5, 0.3, 0.15, 0.05 (logits = their logs). */
static const float k_p4_logits[4] = {-0.69314718f, -1.2039728f, -1.89712f, -2.9957323f};

static void counts_of(mllm_sampler *s, int n, int *counts) {
    memset(counts, 0, sizeof(int) * 4);
    for (int i = 0; i < n; i++) {
        int32_t t = mllm_sampler_sample(s, k_p4_logits, 4);
        if (t >= 0 && t < 4) counts[t]++;
    }
}

/* Frequencies are checked within 5 standard deviations of a binomial proportion over 10000
 * draws (sd <= 0.005), i.e. +-0.025: no false failures in practice, yet any wrong cut-off moves
 * the proportions by more than 0.05. */
static void test_top_p_min_p(void) {
    int c[4];
    mllm_sampler_params p = plain(1.0f, 7);
    p.top_p = 0.75f; /* cumulative 0.5, 0.8 >= 0.75: keeps tokens 0 and 1 */
    mllm_sampler *s = make(p, 4);
    counts_of(s, 10000, c);
    CHECK(c[2] == 0 && c[3] == 0);
    CHECK(fabs(c[0] / 10000.0 - 0.5 / 0.8) < 0.025);
    mllm_sampler_free(s);

    p.top_p = 0.4f; /* 0.5 >= 0.4 already: only token 0 */
    s = make(p, 4);
    counts_of(s, 1000, c);
    CHECK(c[0] == 1000);
    mllm_sampler_free(s);

    p = plain(1.0f, 8);
    p.min_p = 0.2f; /* threshold 0.2 * 0.5 = 0.1: drops token 3 (0.05), keeps token 2 (0.15) */
    s = make(p, 4);
    counts_of(s, 10000, c);
    CHECK(c[3] == 0);
    CHECK(fabs(c[2] / 10000.0 - 0.15 / 0.95) < 0.025);
    mllm_sampler_free(s);

    p.min_p = 0.35f; /* threshold 0.175: drops tokens 2 and 3 */
    s = make(p, 4);
    counts_of(s, 10000, c);
    CHECK(c[2] == 0 && c[3] == 0);
    CHECK(fabs(c[0] / 10000.0 - 0.5 / 0.8) < 0.025);
    mllm_sampler_free(s);

    p = plain(1.0f, 9);
    p.top_k = 2; /* keeps tokens 0 and 1 */
    s = make(p, 4);
    counts_of(s, 10000, c);
    CHECK(c[2] == 0 && c[3] == 0 && fabs(c[0] / 10000.0 - 0.625) < 0.025);
    mllm_sampler_free(s);
}

/* Larger vocabulary: the kept sets of top-k and top-p are computed here independently (sorting
 * with qsort, softmax in double) and every draw must fall inside them. */
static double g_sort_logits[1000];
static int by_logit_desc(const void *a, const void *b) {
    double x = g_sort_logits[*(const int *)a], y = g_sort_logits[*(const int *)b];
    return x > y ? -1 : x < y ? 1 : 0;
}

static void test_large_vocab_cutoffs(void) {
    enum { N = 1000 };
    static float logits[N];
    static int order[N];
    static unsigned char in_top_k[N], in_top_p[N];
    uint64_t x = 88172645463325252ull; /* xorshift64: distinct values, no ties in practice */
    for (int i = 0; i < N; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        logits[i] = (float)((double)(x >> 11) / 9007199254740992.0 * 6.0 - 3.0);
        g_sort_logits[i] = logits[i];
        order[i] = i;
    }
    qsort(order, N, sizeof(int), by_logit_desc);
    for (int i = 0; i < 10; i++) in_top_k[order[i]] = 1;
    double sum = 0, cum = 0;
    for (int i = 0; i < N; i++) sum += exp(logits[i]);
    for (int i = 0; i < N && cum < 0.5; i++) {
        in_top_p[order[i]] = 1;
        cum += exp(logits[order[i]]) / sum;
    }

    mllm_sampler_params p = plain(100.0f, 5); /* T = 100: nearly uniform over what is kept */
    p.top_k = 10;
    mllm_sampler *s = make(p, N);
    int seen[N] = {0}, outside = 0, distinct = 0;
    for (int i = 0; i < 5000; i++) {
        int32_t t = mllm_sampler_sample(s, logits, N);
        if (t < 0 || !in_top_k[t]) outside++;
        else if (!seen[t]++) distinct++;
    }
    CHECK(outside == 0);
    CHECK(distinct == 10); /* each of 10 has ~0.1 per draw: missing one is ~10 * 0.9^5000 */
    mllm_sampler_free(s);

    p = plain(1.0f, 6);
    p.top_p = 0.5f;
    s = make(p, N);
    outside = 0;
    for (int i = 0; i < 5000; i++) {
        int32_t t = mllm_sampler_sample(s, logits, N);
        if (t < 0 || !in_top_p[t]) outside++;
    }
    CHECK(outside == 0);
    mllm_sampler_free(s);
}

static void test_repeat_penalty(void) {
    mllm_sampler_params p = plain(1.0f, 1);
    p.top_k = 1; /* deterministic: the argmax after the penalty */
    p.repeat_penalty = 2.0f;
    p.repeat_last_n = 64;
    float logits[4] = {2.0f, 1.9f, -1.0f, -1.5f};
    float copy[4];
    memcpy(copy, logits, sizeof logits);
    mllm_sampler *s = make(p, 4);
    CHECK(mllm_sampler_accept(s, 0) == MLLM_OK);
    CHECK(mllm_sampler_sample(s, logits, 4) == 1); /* 2.0 / 2 = 1.0 < 1.9 */
    CHECK(memcmp(logits, copy, sizeof logits) == 0); /* caller's logits untouched */
    mllm_sampler_free(s);

    const float neg[2] = {-1.0f, -1.5f};
    s = make(p, 2);
    CHECK(mllm_sampler_sample(s, neg, 2) == 0);   /* also records token 0 */
    CHECK(mllm_sampler_sample(s, neg, 2) == 1);   /* -1.0 * 2 = -2.0 < -1.5 */
    mllm_sampler_free(s);

    p.repeat_penalty = 1.5f; /* 2.0 -> 1.333 > 1.2 once; twice would give 0.889 < 1.2 */
    const float two[2] = {2.0f, 1.2f};
    s = make(p, 2);
    mllm_sampler_accept(s, 0);
    mllm_sampler_accept(s, 0);
    CHECK(mllm_sampler_sample(s, two, 2) == 0);
    mllm_sampler_free(s);

    p.repeat_penalty = 2.0f;
    p.repeat_last_n = 1; /* only the last accepted token counts */
    s = make(p, 4);
    mllm_sampler_accept(s, 0);
    mllm_sampler_accept(s, 2);
    CHECK(mllm_sampler_sample(s, logits, 4) == 0);
    mllm_sampler_free(s);

    /* a penalty never makes a finite logit infinite: -1e37 * 1e23 overflows float, yet the only
     * token stays possible (found by fuzz_sampler: it returned -1, "no usable logit") */
    p = plain(1.0f, 3);
    p.repeat_penalty = 1e23f;
    const float huge_neg[1] = {-1e37f};
    s = make(p, 1);
    CHECK(mllm_sampler_sample(s, huge_neg, 1) == 0); /* records token 0 */
    CHECK(mllm_sampler_sample(s, huge_neg, 1) == 0);
    mllm_sampler_free(s);
    /* nor certain: 1e37 / 1e-30 stays the largest float, which ties with FLT_MAX, so both tokens
     * are drawn (an infinite logit would take every draw; both equal: 2^-63 chance of one only) */
    p.repeat_penalty = 1e-30f;
    const float big[2] = {1e37f, FLT_MAX};
    s = make(p, 2);
    CHECK(mllm_sampler_accept(s, 0) == MLLM_OK);
    int seen[2] = {0, 0};
    for (int i = 0; i < 64; i++) {
        int32_t t = mllm_sampler_sample(s, big, 2);
        if (t == 0 || t == 1) seen[t]++;
    }
    CHECK(seen[0] > 0 && seen[1] > 0 && seen[0] + seen[1] == 64);
    mllm_sampler_free(s);
}

static void test_errors(void) {
    mllm_sampler *s = (mllm_sampler *)&s; /* non-NULL: create must reset it to NULL on failure */
    mllm_sampler_params p = plain(1.0f, 0);
    CHECK(mllm_sampler_create(&p, 0, &s) == MLLM_ERR_INVALID_ARGUMENT && s == NULL && strstr(mllm_last_error(), "n_vocab"));
    p.temperature = NAN;
    CHECK(mllm_sampler_create(&p, 4, &s) == MLLM_ERR_INVALID_ARGUMENT && strstr(mllm_last_error(), "temperature"));
    p = plain(1.0f, 0);
    p.repeat_penalty = 0.0f;
    CHECK(mllm_sampler_create(&p, 4, &s) == MLLM_ERR_INVALID_ARGUMENT && strstr(mllm_last_error(), "repeat_penalty"));
    p = plain(1.0f, 0);
    p.repeat_last_n = -1;
    CHECK(mllm_sampler_create(&p, 4, &s) == MLLM_ERR_INVALID_ARGUMENT && strstr(mllm_last_error(), "repeat_last_n"));
    CHECK(mllm_sampler_create(NULL, 4, &s) == MLLM_ERR_INVALID_ARGUMENT);
    CHECK(mllm_sampler_create(&p, 4, NULL) == MLLM_ERR_INVALID_ARGUMENT);

    s = make(plain(1.0f, 0), 4);
    const float ok[4] = {0, 0, 0, 0};
    const float dead[4] = {-INFINITY, NAN, -INFINITY, -INFINITY};
    CHECK(mllm_sampler_sample(s, ok, 3) == -1 && strstr(mllm_last_error(), "n_vocab"));
    CHECK(mllm_sampler_sample(s, NULL, 4) == -1 && strstr(mllm_last_error(), "logits"));
    CHECK(mllm_sampler_sample(s, dead, 4) == -1 && strstr(mllm_last_error(), "NaN"));
    CHECK(mllm_sampler_accept(s, 4) == MLLM_ERR_INVALID_ARGUMENT && strstr(mllm_last_error(), "out of range"));
    const float inf[4] = {0, INFINITY, 0, 0};
    CHECK(mllm_sampler_sample(s, inf, 4) == 1);
    mllm_sampler_free(s);
    /* Infinite temperature: uniform over the finite logits; -inf ones stay impossible. */
    s = make(plain(INFINITY, 3), 4);
    const float masked[4] = {-INFINITY, 1.0f, -INFINITY, 5.0f};
    int bad = 0;
    for (int i = 0; i < 200; i++) {
        int32_t t = mllm_sampler_sample(s, masked, 4);
        bad += t != 1 && t != 3;
    }
    CHECK(bad == 0);
    mllm_sampler_free(s);
    CHECK(mllm_sampler_sample(NULL, ok, 4) == -1);
    CHECK(mllm_sampler_reset(NULL, 1) == MLLM_ERR_INVALID_ARGUMENT);
    mllm_sampler_free(NULL);
}

/* The 99.99% quantile of a chi-square law with df degrees of freedom (Wilson-Hilferty: within 1%
 * of the exact value for df >= 2, z = 3.719 is the standard normal's 99.99% quantile). A correct
 * sampler exceeds it with probability 1e-4 per check, and never for the fixed seeds used here. */
static double chi2_bound(int df) {
    double a = 2.0 / (9.0 * df), c = 1.0 - a + 3.719 * sqrt(a);
    return df * c * c * c;
}

enum { DIST_VOCAB = 12, DIST_DRAWS = 20000 };
static const float k_dist_logits[DIST_VOCAB] = {1.2f, -0.3f, 2.0f, 0.7f, -1.5f, 1.9f, 0.1f, -0.8f, 1.4f, 0.0f, -2.5f, 0.9f};
static const int32_t k_dist_history[3] = {2, 5, 2}; /* token 2 twice: penalised once */

/* A fresh sampler with the given seed that has seen k_dist_history. */
static mllm_sampler *with_history(mllm_sampler_params p, uint64_t seed) {
    p.seed = seed;
    mllm_sampler *s = make(p, DIST_VOCAB);
    for (int i = 0; i < 3; i++) mllm_sampler_accept(s, k_dist_history[i]);
    return s;
}

/* mllm_sampler_distribution is what sample() draws from: for each setting, DIST_DRAWS single draws
 * (one per seed, each sampler with the same history, so the repetition penalty applies) are compared
 * with the written distribution by Pearson's chi-square over its nonzero tokens (df = nonzero - 1),
 * and a token it gives probability 0 must never be drawn. A distribution that left out one stage of
 * the pipeline (the penalty, a cut-off, the temperature) moves some expected count by hundreds. */
static void test_distribution_matches_sample(void) {
    mllm_sampler_params base = plain(0.8f, 0);
    base.repeat_penalty = 1.3f;
    mllm_sampler_params settings[4] = {base, base, base, base};
    settings[0].top_k = 0, settings[0].top_p = 1.0f, settings[0].min_p = 0.0f; /* penalty + temperature only */
    settings[1].top_k = 6, settings[1].top_p = 1.0f, settings[1].min_p = 0.0f;
    settings[2].top_k = 0, settings[2].top_p = 0.8f, settings[2].min_p = 0.0f;
    settings[3].top_k = 8, settings[3].top_p = 0.95f, settings[3].min_p = 0.1f; /* the defaults' stages */
    for (int c = 0; c < 4; c++) {
        float probs[DIST_VOCAB];
        mllm_sampler *d = with_history(settings[c], 0);
        CHECK(mllm_sampler_distribution(d, k_dist_logits, DIST_VOCAB, probs) == MLLM_OK);
        mllm_sampler_free(d);
        double sum = 0.0;
        int nonzero = 0;
        for (int j = 0; j < DIST_VOCAB; j++) sum += probs[j], nonzero += probs[j] > 0.0f;
        CHECK(fabs(sum - 1.0) < 1e-5); /* float rounding of 12 terms */
        int counts[DIST_VOCAB] = {0}, impossible = 0;
        for (int i = 0; i < DIST_DRAWS; i++) {
            mllm_sampler *s = with_history(settings[c], 1000 + (uint64_t)i);
            int32_t t = mllm_sampler_sample(s, k_dist_logits, DIST_VOCAB);
            mllm_sampler_free(s);
            if (t >= 0 && t < DIST_VOCAB) counts[t]++;
            impossible += t < 0 || t >= DIST_VOCAB || probs[t] == 0.0f;
        }
        double x2 = 0.0;
        for (int j = 0; j < DIST_VOCAB; j++) {
            if (probs[j] == 0.0f) continue;
            double e = probs[j] * DIST_DRAWS;
            x2 += (counts[j] - e) * (counts[j] - e) / e;
        }
        double bound = chi2_bound(nonzero - 1);
        printf("distribution vs sample, setting %d: %d tokens, chi-square %.2f (bound %.2f)\n", c, nonzero, x2, bound);
        CHECK(nonzero >= 3 && impossible == 0 && x2 < bound);
    }
    /* Greedy: all mass on the argmax. */
    float probs[DIST_VOCAB];
    mllm_sampler_params g = plain(0.8f, 0);
    g.greedy = 1;
    mllm_sampler *s = make(g, DIST_VOCAB);
    CHECK(mllm_sampler_distribution(s, k_dist_logits, DIST_VOCAB, probs) == MLLM_OK);
    CHECK(probs[2] == 1.0f && probs[5] == 0.0f);
    CHECK(mllm_sampler_distribution(s, k_dist_logits, DIST_VOCAB - 1, probs) == MLLM_ERR_INVALID_ARGUMENT);
    CHECK(mllm_sampler_distribution(NULL, k_dist_logits, DIST_VOCAB, probs) == MLLM_ERR_INVALID_ARGUMENT);
    mllm_sampler_free(s);
}

/* mllm_sampler_draw follows its weights (chi-square as above), never picks a zero weight, and
 * refuses weights that sum to 0; uniform() stays in [0, 1) with mean 1/2 (sd of the mean over
 * 20000 draws is 0.002; 0.01 is 5 sd). */
static void test_draw_and_uniform(void) {
    const float w[5] = {0.5f, 0.0f, 2.0f, 1.0f, 0.5f};
    mllm_sampler *s = make(plain(1.0f, 77), 5);
    int counts[5] = {0};
    for (int i = 0; i < DIST_DRAWS; i++) {
        int32_t t = mllm_sampler_draw(s, w, 5);
        if (t >= 0 && t < 5) counts[t]++;
    }
    double x2 = 0.0;
    for (int j = 0; j < 5; j++) {
        if (w[j] == 0.0f) continue;
        double e = w[j] / 4.0 * DIST_DRAWS;
        x2 += (counts[j] - e) * (counts[j] - e) / e;
    }
    printf("draw: chi-square %.2f (bound %.2f)\n", x2, chi2_bound(3));
    CHECK(counts[1] == 0 && x2 < chi2_bound(3));
    const float zero[5] = {0};
    CHECK(mllm_sampler_draw(s, zero, 5) == -1 && strstr(mllm_last_error(), "sum to 0"));
    CHECK(mllm_sampler_draw(s, w, 4) == -1);
    double mean = 0.0;
    int outside = 0;
    for (int i = 0; i < DIST_DRAWS; i++) {
        double u = mllm_sampler_uniform(s);
        outside += u < 0.0 || u >= 1.0;
        mean += u / DIST_DRAWS;
    }
    CHECK(outside == 0 && fabs(mean - 0.5) < 0.01);
    CHECK(mllm_sampler_uniform(NULL) < 0.0);
    mllm_sampler_free(s);
}

int main(void) {
    test_defaults();
    test_rng_vectors();
    test_greedy();
    test_reproducible();
    test_distribution();
    test_top_p_min_p();
    test_large_vocab_cutoffs();
    test_repeat_penalty();
    test_errors();
    test_distribution_matches_sample();
    test_draw_and_uniform();
    return test_result("test_sampler");
}
