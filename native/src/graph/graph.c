/* Graph node storage. */
#include "graph/graph.h"

#include <stdlib.h>
#include <string.h>

mllm_graph *mllm_graph_create(int32_t cap) {
    mllm_graph *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->nodes = calloc((size_t)cap, sizeof *g->nodes);
    if (!g->nodes) {
        free(g);
        return NULL;
    }
    g->cap = cap;
    return g;
}

void mllm_graph_free(mllm_graph *g) {
    if (!g) return;
    free(g->nodes);
    free(g);
}

mllm_node *mllm_graph_add(mllm_graph *g, mllm_op op) {
    if (g->n_nodes >= g->cap) return NULL;
    mllm_node *n = &g->nodes[g->n_nodes++];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->id = g->n_nodes - 1;
    return n;
}
