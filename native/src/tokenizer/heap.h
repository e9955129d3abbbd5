/* A binary heap of fixed-size items (the BPE encoders' queues of candidate merges) and a growable
 * list of token ids. The caller owns the storage of the heap (capacity is its business). */
#ifndef MLLM_TOKENIZER_HEAP_H
#define MLLM_TOKENIZER_HEAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct mllm_heap {
    void *items;
    size_t item_size;   /* at most MLLM_HEAP_MAX_ITEM bytes */
    int32_t n;
    int (*before)(const void *a, const void *b); /* a must come out before b */
} mllm_heap;

#define MLLM_HEAP_MAX_ITEM 32

void mllm_heap_push(mllm_heap *h, const void *item);
/* Removes the first item into out; h->n must be > 0. */
void mllm_heap_pop(mllm_heap *h, void *out);

/* Token ids appended one at a time; `failed` is set (and stays set) when memory runs out. */
typedef struct mllm_token_list {
    int32_t *ids;
    int64_t n, cap;
    int failed;
} mllm_token_list;

void mllm_token_list_push(mllm_token_list *l, int32_t id);

/* Copies the list to out (capacity n_max) under mllm_tokenize's contract: the count, its negation
 * when it does not fit, INT32_MIN after a failure. Frees the list. */
int32_t mllm_token_list_finish(mllm_token_list *l, int32_t *out, int32_t n_max);

#endif
