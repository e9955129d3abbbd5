/* How the threads of a matmul share its row chunks when the run has counters (mllm_exec.chunk_counters). */
#ifndef MLLM_CHUNK_CLAIM_H
#define MLLM_CHUNK_CLAIM_H

#include <stddef.h>
#include <stdint.h>

#include "graph/graph.h"

/* The next of n_chunks chunks for thread ith of nth, -1 when none is left: first its own range of
 * `per` consecutive chunks (from ith * per), in order, so that its weights are one stream that its
 * prefetches run along (1.1-1.15x the rate of chunks dealt out alternately, one sequence and eight,
 * Zen 5 EPYC); then what the other threads have not yet taken of theirs. counters: nth zeroed
 * counters, MLLM_CHUNK_COUNTER_STRIDE apart. Every chunk goes to exactly one claim. */
static inline int64_t mllm_claim_chunk(int32_t *counters, int ith, int nth, int64_t per, int64_t n_chunks) {
    for (int i = 0; i < nth; i++) {
        const int owner = (ith + i) % nth;
        int32_t *counter = counters + (size_t)owner * MLLM_CHUNK_COUNTER_STRIDE;
        const int64_t first = owner * per, left = n_chunks - first < per ? n_chunks - first : per;
        if (left <= 0 || __atomic_load_n(counter, __ATOMIC_RELAXED) >= left) continue;
        const int64_t c = __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
        if (c < left) return first + c;
    }
    return -1;
}

#endif
