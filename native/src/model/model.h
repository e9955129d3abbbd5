/* A loaded model: hyper-parameters, weight tensors, vocabulary and the source GGUF file.
 * Immutable after mllm_model_load; shared by sessions and threads. */
#ifndef MLLM_MODEL_H
#define MLLM_MODEL_H

#include <stdint.h>

#include "core/tensor.h"
#include "graph/graph.h"
#include "mobilellm.h"

struct mllm_vocab;
struct mllm_gguf;
struct mllm_device;
struct mllm_compute;

/* The model's vocabulary (never NULL for a loaded model). Lives as long as the model. */
const struct mllm_vocab *mllm_model_vocab(const mllm_model *m);

typedef struct mllm_hparams {
    char arch[32];
    int32_t n_vocab, n_ctx_train, n_embd, n_ff;
    int32_t n_head, n_head_kv, head_dim;
    int32_t n_block, block_repeat, n_layer;
    float eps, rope_base;
    int32_t n_swa;      /* the sliding window of the layers that have one; 0: none */
} mllm_hparams;

typedef struct mllm_block {
    mllm_tensor attn_norm, wq, wk, wv, wo;
    mllm_tensor ffn_norm, gate, up, down;
} mllm_block;

struct mllm_model {
    struct mllm_gguf *file;   /* owned; weights point into it */
    mllm_hparams hp;
    mllm_tensor tok_embd, output_norm, output; /* output aliases tok_embd when tied */
    int32_t tied;
    mllm_block *blocks;       /* n_block, owned */
    mllm_attn_layer *attn;    /* n_layer, owned: each applied layer's position handling */
    const float *rope_freqs;  /* head_dim/2 RoPE frequency divisors (rope_freqs.weight, Llama 3 scaling), or NULL */
    struct mllm_vocab *vocab; /* owned */
    mllm_model_info info;
    int32_t backend;          /* mllm_backend in use */
    int32_t n_threads;        /* threads a run uses by default (<= the device's) */
    struct mllm_device *device;   /* owned: the backend's part of the model (graph/backend.h) */
    struct mllm_compute *compute; /* owned: the compute context all sessions share (model/compute.h) */
    double *inv_freq;         /* [head_dim/2] RoPE frequencies theta^(-2i/hd) / rope_freqs[i] */
    uint64_t fingerprint;     /* hash of the hyper-parameters and tensor table (saved session states name it) */
};

/* Loads hyper-parameters and weights from an opened file (no vocabulary). Takes ownership of
 * the file, also on failure. */
mllm_status mllm_model_from_gguf(struct mllm_gguf *file, mllm_model **out);
/* Builds m->vocab from the tokenizer.ggml.* keys. */
mllm_status mllm_model_load_vocab(mllm_model *m);
void mllm_model_destroy(mllm_model *m);
/* Creates the model's device for `backend` (mllm_backend; AUTO: Vulkan when a GPU suits the model,
 * else the CPU; the CPU runs on n_threads threads of its own pool or, with process_pool, of the
 * process-wide one), hands it the weights and makes the compute context (model_backend.c). Once,
 * right after loading. */
mllm_status mllm_model_attach_backend(mllm_model *m, int32_t backend, int32_t gpu_device, int32_t n_threads,
                                      int32_t process_pool);

/* Nodes of the model's graphs at most (mllm_model_build_graph's capacity). */
static inline int32_t mllm_model_graph_nodes(const mllm_model *m) { return 4 + m->hp.n_layer * 14; }
/* Builds a graph over the activation buffers act (model_graph.c); gather_out: the output rows are
 * those a run names (mllm_exec.out_rows) instead of the last n_out. */
mllm_graph *mllm_model_build_graph(const mllm_model *m, float *const act[MLLM_ACT_COUNT], int32_t n_tokens, int32_t n_out,
                                   int32_t out_hidden, int32_t gather_out);

/* Block applied at layer l (l / block_repeat). */
static inline const mllm_block *mllm_model_layer(const mllm_model *m, int32_t l) {
    return &m->blocks[l / m->hp.block_repeat];
}

#endif
