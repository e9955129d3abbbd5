/* Sampling pipeline: repetition penalty -> top-k -> softmax(temperature) -> top-p -> min-p ->
 * renormalise -> seeded draw. Works on scratch copies made at creation; never allocates while
 * sampling and never writes to the caller's logits. */
#include "sampling/sampler.h"
#include "sampling/rng.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct candidate {
    float logit;
    int32_t id;
} candidate;

struct mllm_sampler {
    mllm_sampler_params p;
    int32_t n_vocab;
    float *work;          /* penalised copy of the logits */
    candidate *cand;      /* surviving candidates */
    double *prob;         /* their unnormalised probabilities */
    unsigned char *mark;  /* per-token flag: penalty already applied this round */
    int32_t *history;     /* ring of the last repeat_last_n accepted tokens */
    int32_t hist_n, hist_pos;
    mllm_rng rng;
};

int32_t mllm_argmax(const float *logits, int32_t n) {
    int32_t best = -1;
    for (int32_t i = 0; i < n; i++)
        if (!isnan(logits[i]) && (best < 0 || logits[i] > logits[best])) best = i;
    return best;
}

const char *mllm_sampling_check_params(const mllm_sampler_params *p) {
    if (isnan(p->temperature)) return "temperature is NaN";
    if (isnan(p->top_p)) return "top_p is NaN";
    if (isnan(p->min_p)) return "min_p is NaN";
    if (!(p->repeat_penalty > 0.0f) || isinf(p->repeat_penalty)) return "repeat_penalty must be a positive finite number";
    if (p->repeat_last_n < 0) return "repeat_last_n is negative";
    if (p->repeat_last_n > (1 << 20)) return "repeat_last_n exceeds 1048576";
    return NULL;
}

mllm_sampler *mllm_sampling_new(const mllm_sampler_params *p, int32_t n_vocab) {
    mllm_sampler *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->p = *p;
    s->n_vocab = n_vocab;
    s->work = malloc(sizeof(float) * (size_t)n_vocab);
    s->cand = malloc(sizeof(candidate) * (size_t)n_vocab);
    s->prob = malloc(sizeof(double) * (size_t)n_vocab);
    s->mark = calloc((size_t)n_vocab, 1);
    s->history = malloc(sizeof(int32_t) * (size_t)(p->repeat_last_n > 0 ? p->repeat_last_n : 1));
    if (!s->work || !s->cand || !s->prob || !s->mark || !s->history) {
        mllm_sampling_free(s);
        return NULL;
    }
    mllm_sampling_reset(s, p->seed);
    return s;
}

void mllm_sampling_free(mllm_sampler *s) {
    if (!s) return;
    free(s->work);
    free(s->cand);
    free(s->prob);
    free(s->mark);
    free(s->history);
    free(s);
}

int32_t mllm_sampling_n_vocab(const mllm_sampler *s) { return s->n_vocab; }

void mllm_sampling_reset(mllm_sampler *s, uint64_t seed) {
    s->hist_n = 0;
    s->hist_pos = 0;
    mllm_rng_seed(&s->rng, seed);
}

void mllm_sampling_accept(mllm_sampler *s, int32_t token) {
    int32_t cap = s->p.repeat_last_n;
    if (cap <= 0) return;
    s->history[s->hist_pos] = token;
    s->hist_pos = (s->hist_pos + 1) % cap;
    if (s->hist_n < cap) s->hist_n++;
}

/* Each distinct recent token is penalised once, however often it occurred. A penalty makes a
 * finite logit smaller or larger but never infinite: overflow would turn it into an impossible
 * (-inf) or certain (+inf) token. */
static void apply_repeat_penalty(mllm_sampler *s) {
    float pen = s->p.repeat_penalty;
    if (pen == 1.0f) return;
    for (int32_t i = 0; i < s->hist_n; i++) {
        int32_t t = s->history[i];
        if (s->mark[t]) continue;
        s->mark[t] = 1;
        float l = s->work[t];
        float p = l > 0.0f ? l / pen : l * pen;
        s->work[t] = isinf(l) ? p : fminf(fmaxf(p, -FLT_MAX), FLT_MAX);
    }
    for (int32_t i = 0; i < s->hist_n; i++) s->mark[s->history[i]] = 0;
}

/* Total order: higher logit first, then lower id, so every platform sorts identically. */
static int better(const candidate *a, const candidate *b) {
    return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

/* Heaps below keep the worst candidate at the root ("worst-heap"). */
static void sift_down(candidate *h, int32_t i, int32_t n) {
    candidate x = h[i];
    for (;;) {
        int32_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && better(&h[c], &h[c + 1])) c++; /* the worse child */
        if (!better(&x, &h[c])) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

/* Turns a worst-heap into best-first order in place (heapsort: no allocation, unlike qsort in
 * some C libraries, and the same result everywhere since the order is total). */
static void heap_to_sorted(candidate *h, int32_t n) {
    for (int32_t end = n - 1; end > 0; end--) {
        candidate t = h[0];
        h[0] = h[end];
        h[end] = t;
        sift_down(h, 0, end);
    }
}

static void sort_best_first(candidate *h, int32_t n) {
    for (int32_t i = n / 2 - 1; i >= 0; i--) sift_down(h, i, n);
    heap_to_sorted(h, n);
}

/* Keeps the k best candidates in a worst-heap of size k, best first at the end: O(n log k). */
static int32_t select_top_k(mllm_sampler *s, int32_t k) {
    candidate *h = s->cand;
    for (int32_t id = 0; id < k; id++) {
        h[id].logit = s->work[id];
        h[id].id = id;
    }
    for (int32_t i = k / 2 - 1; i >= 0; i--) sift_down(h, i, k);
    for (int32_t id = k; id < s->n_vocab; id++) {
        candidate c = {s->work[id], id};
        if (!better(&c, &h[0])) continue;
        h[0] = c;
        sift_down(h, 0, k);
    }
    heap_to_sorted(h, k);
    return k;
}

static int32_t draw(mllm_sampler *s, int32_t n) {
    double total = 0.0;
    for (int32_t i = 0; i < n; i++) total += s->prob[i];
    double r = mllm_rng_uniform(&s->rng) * total, cum = 0.0;
    int32_t last = 0;
    for (int32_t i = 0; i < n; i++) {
        if (s->prob[i] <= 0.0) continue;
        cum += s->prob[i];
        last = i;
        if (r < cum) return s->cand[i].id;
    }
    return s->cand[last].id; /* r within rounding of total */
}

static int is_greedy(const mllm_sampler_params *p) { return p->greedy || p->temperature <= 0.0f; }

/* The greedy pick: the argmax, or -1 when no logit is a number above -infinity. */
static int32_t greedy_pick(const mllm_sampler *s, const float *logits) {
    int32_t token = mllm_argmax(logits, s->n_vocab);
    if (token >= 0 && logits[token] == -INFINITY) token = -1;
    return token;
}

/* The sampling pipeline up to the draw: leaves the surviving candidates in cand[0..n) with their
 * unnormalised probabilities in prob[0..n) and returns n; -1 when no logit is a number above
 * -infinity. Used only when the sampler is not greedy. */
static int32_t candidates(mllm_sampler *s, const float *logits) {
    const mllm_sampler_params *p = &s->p;
    for (int32_t i = 0; i < s->n_vocab; i++) s->work[i] = isnan(logits[i]) ? -INFINITY : logits[i];
    apply_repeat_penalty(s);

    int32_t n;
    if (p->top_k > 0 && p->top_k < s->n_vocab) {
        n = select_top_k(s, p->top_k);
    } else {
        n = s->n_vocab;
        for (int32_t i = 0; i < n; i++) {
            s->cand[i].logit = s->work[i];
            s->cand[i].id = i;
        }
        if (p->top_p < 1.0f) sort_best_first(s->cand, n); /* top-p needs order */
    }

    float max = -INFINITY;
    int32_t imax = 0;
    for (int32_t i = 0; i < n; i++)
        if (s->cand[i].logit > max) { max = s->cand[i].logit; imax = i; }
    if (max == -INFINITY) return -1;
    if (max == INFINITY) { /* exp would give inf/inf; the token is certain */
        s->cand[0] = s->cand[imax];
        s->prob[0] = 1.0;
        return 1;
    }

    /* Softmax with temperature, unnormalised: the largest candidate has probability weight 1. */
    double sum = 0.0, inv_t = 1.0 / (double)p->temperature;
    for (int32_t i = 0; i < n; i++) {
        float l = s->cand[i].logit; /* -inf stays impossible even at an infinite temperature */
        s->prob[i] = l == -INFINITY ? 0.0 : exp(((double)l - (double)max) * inv_t);
        sum += s->prob[i];
    }

    if (p->top_p < 1.0f) { /* smallest prefix whose mass reaches top_p; at least one */
        double cum = 0.0, target = (double)p->top_p * sum;
        int32_t keep = n;
        for (int32_t i = 0; i < n; i++) {
            cum += s->prob[i];
            if (cum >= target) { keep = i + 1; break; }
        }
        n = keep;
    }

    if (p->min_p > 0.0f) { /* drop p < min_p * p_max; p_max's weight is 1, and it always stays */
        double threshold = (double)p->min_p;
        int32_t kept = 0;
        for (int32_t i = 0; i < n; i++) {
            if (s->prob[i] >= threshold || s->cand[i].logit == max) {
                s->cand[kept] = s->cand[i];
                s->prob[kept] = s->prob[i];
                kept++;
            }
        }
        n = kept;
    }
    return n;
}

int32_t mllm_sampling_sample(mllm_sampler *s, const float *logits) {
    int32_t token;
    if (is_greedy(&s->p)) {
        token = greedy_pick(s, logits);
    } else {
        int32_t n = candidates(s, logits);
        token = n < 0 ? -1 : draw(s, n);
    }
    if (token >= 0) mllm_sampling_accept(s, token);
    return token;
}

int mllm_sampling_distribution(mllm_sampler *s, const float *logits, float *probs) {
    for (int32_t i = 0; i < s->n_vocab; i++) probs[i] = 0.0f;
    if (is_greedy(&s->p)) {
        int32_t token = greedy_pick(s, logits);
        if (token < 0) return -1;
        probs[token] = 1.0f;
        return 0;
    }
    int32_t n = candidates(s, logits);
    if (n < 0) return -1;
    double total = 0.0;
    for (int32_t i = 0; i < n; i++) total += s->prob[i];
    for (int32_t i = 0; i < n; i++) probs[s->cand[i].id] = (float)(s->prob[i] / total);
    return 0;
}

int32_t mllm_sampling_draw_weights(mllm_sampler *s, const float *weights) {
    double total = 0.0;
    for (int32_t i = 0; i < s->n_vocab; i++) total += weights[i];
    if (!(total > 0.0)) return -1;
    double r = mllm_rng_uniform(&s->rng) * total, cum = 0.0;
    int32_t last = -1;
    for (int32_t i = 0; i < s->n_vocab; i++) {
        if (!(weights[i] > 0.0f)) continue;
        cum += weights[i];
        last = i;
        if (r < cum) return i;
    }
    return last; /* r within rounding of total */
}

double mllm_sampling_uniform(mllm_sampler *s) { return mllm_rng_uniform(&s->rng); }
