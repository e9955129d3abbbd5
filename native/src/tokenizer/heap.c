#include "tokenizer/heap.h"

#include <stdlib.h>
#include <string.h>

#define ITEM(h, i) ((char *)(h)->items + (size_t)(i) * (h)->item_size)

void mllm_heap_push(mllm_heap *h, const void *item) {
    int32_t i = h->n++;
    while (i > 0) {
        int32_t parent = (i - 1) / 2;
        if (!h->before(item, ITEM(h, parent))) break;
        memcpy(ITEM(h, i), ITEM(h, parent), h->item_size);
        i = parent;
    }
    memcpy(ITEM(h, i), item, h->item_size);
}

void mllm_heap_pop(mllm_heap *h, void *out) {
    char last[MLLM_HEAP_MAX_ITEM];
    memcpy(out, ITEM(h, 0), h->item_size);
    memcpy(last, ITEM(h, --h->n), h->item_size);
    int32_t i = 0, n = h->n;
    for (;;) {
        int32_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && h->before(ITEM(h, c + 1), ITEM(h, c))) c++;
        if (!h->before(ITEM(h, c), last)) break;
        memcpy(ITEM(h, i), ITEM(h, c), h->item_size);
        i = c;
    }
    if (n > 0) memcpy(ITEM(h, i), last, h->item_size);
}

void mllm_token_list_push(mllm_token_list *l, int32_t id) {
    if (l->failed) return;
    if (l->n == l->cap) {
        int64_t cap = l->cap ? l->cap * 2 : 64;
        int32_t *p = realloc(l->ids, sizeof(int32_t) * (size_t)cap);
        if (!p) {
            l->failed = 1;
            return;
        }
        l->ids = p;
        l->cap = cap;
    }
    l->ids[l->n++] = id;
}

int32_t mllm_token_list_finish(mllm_token_list *l, int32_t *out, int32_t n_max) {
    int32_t result;
    if (l->failed || l->n > INT32_MAX) {
        result = INT32_MIN;
    } else if (l->n > n_max) {
        result = -(int32_t)l->n;
    } else {
        if (l->n) memcpy(out, l->ids, sizeof(int32_t) * (size_t)l->n);
        result = (int32_t)l->n;
    }
    free(l->ids);
    l->ids = NULL;
    return result;
}
