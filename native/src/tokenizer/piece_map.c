#include "tokenizer/piece_map.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a: simple, and good enough for short strings like vocabulary pieces. */
static uint32_t hash_bytes(const char *s, uint32_t len) {
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

int mllm_piece_map_build(mllm_piece_map *m, const char *const *pieces, const uint32_t *lens, int32_t n) {
    uint32_t cap = 16;
    while (cap < (uint32_t)n * 2u) cap <<= 1; /* load factor <= 0.5 keeps probes short */
    m->slots = malloc(sizeof(int32_t) * cap);
    if (!m->slots) return -1;
    for (uint32_t i = 0; i < cap; i++) m->slots[i] = -1;
    m->mask = cap - 1;
    m->pieces = pieces;
    m->lens = lens;
    for (int32_t id = 0; id < n; id++) {
        if (lens[id] == 0 || mllm_piece_map_find(m, pieces[id], lens[id]) >= 0) continue;
        uint32_t s = hash_bytes(pieces[id], lens[id]) & m->mask;
        while (m->slots[s] >= 0) s = (s + 1) & m->mask;
        m->slots[s] = id;
    }
    return 0;
}

void mllm_piece_map_free(mllm_piece_map *m) {
    free(m->slots);
    m->slots = NULL;
}

int32_t mllm_piece_map_find(const mllm_piece_map *m, const char *s, uint32_t len) {
    uint32_t i = hash_bytes(s, len) & m->mask;
    for (;;) {
        int32_t id = m->slots[i];
        if (id < 0) return -1;
        if (m->lens[id] == len && memcmp(m->pieces[id], s, len) == 0) return id;
        i = (i + 1) & m->mask;
    }
}
