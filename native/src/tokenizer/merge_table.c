#include "tokenizer/merge_table.h"

#include <stdlib.h>

static uint32_t hash_pair(int32_t a, int32_t b) {
    uint64_t k = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    k *= 0x9E3779B97F4A7C15ull; /* Fibonacci hashing: the high bits mix both ids */
    return (uint32_t)(k >> 32);
}

int mllm_merge_table_init(mllm_merge_table *t, int32_t n) {
    uint32_t cap = 16;
    while (cap < (uint32_t)n * 2u) cap <<= 1; /* load factor <= 0.5 */
    t->slots = malloc(sizeof(int32_t) * cap);
    t->left = malloc(sizeof(int32_t) * (size_t)(n > 0 ? n : 1));
    t->right = malloc(sizeof(int32_t) * (size_t)(n > 0 ? n : 1));
    t->result = malloc(sizeof(int32_t) * (size_t)(n > 0 ? n : 1));
    t->mask = cap - 1;
    t->n = 0;
    if (!t->slots || !t->left || !t->right || !t->result) {
        mllm_merge_table_free(t);
        return -1;
    }
    for (uint32_t i = 0; i < cap; i++) t->slots[i] = -1;
    return 0;
}

int mllm_merge_table_add(mllm_merge_table *t, int32_t left, int32_t right, int32_t result) {
    uint32_t i = hash_pair(left, right) & t->mask;
    while (t->slots[i] >= 0) {
        int32_t r = t->slots[i];
        if (t->left[r] == left && t->right[r] == right) return 1;
        i = (i + 1) & t->mask;
    }
    int32_t r = t->n++;
    t->left[r] = left;
    t->right[r] = right;
    t->result[r] = result;
    t->slots[i] = r;
    return 0;
}

void mllm_merge_table_free(mllm_merge_table *t) {
    free(t->slots);
    free(t->left);
    free(t->right);
    free(t->result);
    t->slots = t->left = t->right = t->result = NULL;
}

int32_t mllm_merge_table_find(const mllm_merge_table *t, int32_t left, int32_t right) {
    uint32_t i = hash_pair(left, right) & t->mask;
    for (;;) {
        int32_t r = t->slots[i];
        if (r < 0 || (t->left[r] == left && t->right[r] == right)) return r;
        i = (i + 1) & t->mask;
    }
}
