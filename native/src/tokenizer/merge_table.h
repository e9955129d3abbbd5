/* BPE merge rules of a byte-level vocabulary: (left id, right id) -> rank and result id, in an
 * open-addressing hash table (read-only after building). Rank = position in the merge list;
 * lower ranks merge first. */
#ifndef MLLM_MERGE_TABLE_H
#define MLLM_MERGE_TABLE_H

#include <stdint.h>

typedef struct mllm_merge_table {
    int32_t *slots;  /* rank or -1; capacity is a power of two */
    uint32_t mask;
    int32_t n;
    int32_t *left, *right, *result; /* per rank */
} mllm_merge_table;

/* Allocates room for n merges. 0, or -1 when out of memory. */
int mllm_merge_table_init(mllm_merge_table *t, int32_t n);
/* Adds the next rank. A pair already present keeps its first (lower) rank: returns 1, else 0. */
int mllm_merge_table_add(mllm_merge_table *t, int32_t left, int32_t right, int32_t result);
void mllm_merge_table_free(mllm_merge_table *t);
/* Rank of the pair, or -1. */
int32_t mllm_merge_table_find(const mllm_merge_table *t, int32_t left, int32_t right);

#endif
