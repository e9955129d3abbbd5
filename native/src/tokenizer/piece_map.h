/* Open-addressing hash map from piece bytes to token id (read-only after building). */
#ifndef MLLM_PIECE_MAP_H
#define MLLM_PIECE_MAP_H

#include <stdint.h>

typedef struct mllm_piece_map {
    int32_t *slots;       /* token id or -1; capacity is a power of two */
    uint32_t mask;        /* capacity - 1 */
    const char *const *pieces; /* borrowed from the vocabulary */
    const uint32_t *lens;
} mllm_piece_map;

/* Indexes the n pieces (empty ones are skipped; for duplicates the lowest id wins).
 * Returns 0, or -1 when out of memory. */
int mllm_piece_map_build(mllm_piece_map *m, const char *const *pieces, const uint32_t *lens, int32_t n);
void mllm_piece_map_free(mllm_piece_map *m);
/* Id of the piece equal to s[0..len), or -1. */
int32_t mllm_piece_map_find(const mllm_piece_map *m, const char *s, uint32_t len);

#endif
