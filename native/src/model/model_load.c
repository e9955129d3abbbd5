/* Hyper-parameters, per-layer attention and weight tensors of llama / mobilellm / llama4
 * (MobileLLM-R1) / mobilellm-pro GGUF files, validated against each other: every tensor must exist
 * with the expected shape and a type the engine can use. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "cpu/matmul.h"
#include "gguf/gguf.h"
#include "graph/backend.h"
#include "model/compute.h"
#include "model/model.h"
#include "platform/memory.h"
#include "quant/quant.h"
#include "tokenizer/tokenizer.h"

/* Upper bounds on what the metadata may declare (docs/reliability.md). Each is far above any
 * model this engine runs; the sizes are then also checked against the tensors in the file. */
#define MAX_LAYERS 1024
#define MAX_REPEAT 16
#define MAX_HEAD_DIM 512
#define MAX_EMBD (1 << 16)
#define MAX_FF (1 << 20)
#define MAX_HEADS 4096

/* ARCH.suffix as a u32 in [lo, hi]; `def` < 0 means required. */
static mllm_status arch_u32(const mllm_gguf *f, const char *arch, const char *suffix, int64_t def, int64_t lo, int64_t hi,
                            int32_t *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    uint32_t v;
    mllm_status s = mllm_gguf_get_u32(f, key, &v);
    if (s == MLLM_ERR_STATE) {
        if (def < 0) return mllm_fail(MLLM_ERR_FORMAT, "missing metadata key '%s'", key);
        *out = (int32_t)def;
        return MLLM_OK;
    }
    if (s) return s;
    if ((int64_t)v < lo || (int64_t)v > hi) {
        return mllm_fail(MLLM_ERR_FORMAT, "metadata key '%s' = %u is outside %" PRId64 "..%" PRId64, key, v, lo, hi);
    }
    *out = (int32_t)v;
    return MLLM_OK;
}

static mllm_status arch_f32(const mllm_gguf *f, const char *arch, const char *suffix, float def, float *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    mllm_status s = mllm_gguf_get_f32(f, key, out);
    if (s == MLLM_ERR_STATE) {
        *out = def;
        return MLLM_OK;
    }
    if (s) return s;
    if (!(*out > 0.0f) || *out > 1e30f) return mllm_fail(MLLM_ERR_FORMAT, "metadata key '%s' = %g must be positive", key, (double)*out);
    return MLLM_OK;
}

/* The architectures this engine runs (docs/gguf-conventions.md). */
typedef enum { ARCH_LLAMA, ARCH_MOBILELLM, ARCH_LLAMA4, ARCH_MOBILELLM_PRO, ARCH_UNKNOWN } arch_kind;

static arch_kind arch_of(const char *a, uint64_t len) {
    static const char *const names[] = {"llama", "mobilellm", "llama4", "mobilellm-pro"};
    for (int i = 0; i < ARCH_UNKNOWN; i++)
        if (strlen(names[i]) == len && memcmp(names[i], a, (size_t)len) == 0) return (arch_kind)i;
    return ARCH_UNKNOWN;
}

static mllm_status arch_bool(const mllm_gguf *f, const char *arch, const char *suffix, int def, int32_t *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    int v;
    mllm_status s = mllm_gguf_get_bool(f, key, &v);
    if (s == MLLM_ERR_STATE) v = def;
    else if (s) return s;
    *out = v;
    return MLLM_OK;
}

/* ARCH.suffix, an array of n_layer booleans, into flags[l] (absent: def for every layer). */
static mllm_status arch_layer_flags(const mllm_gguf *f, const char *arch, const char *suffix, int32_t n_layer, int def,
                                    int32_t *flags, size_t stride) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    const uint8_t *data;
    uint64_t n;
    mllm_status s = mllm_gguf_get_arr(f, key, MLLM_GGUF_BOOL, &data, &n);
    if (s && s != MLLM_ERR_STATE) return s;
    if (!s && n != (uint64_t)n_layer) {
        return mllm_fail(MLLM_ERR_FORMAT, "metadata key '%s' has %" PRIu64 " entries for %d layers", key, n, n_layer);
    }
    for (int32_t l = 0; l < n_layer; l++) *(int32_t *)((char *)flags + (size_t)l * stride) = s ? def : data[l] != 0;
    return MLLM_OK;
}

static mllm_status read_hparams(const mllm_gguf *f, mllm_hparams *hp) {
    const char *arch;
    uint64_t len;
    mllm_status s = mllm_gguf_get_str(f, "general.architecture", &arch, &len);
    if (s == MLLM_ERR_STATE) return mllm_fail(MLLM_ERR_FORMAT, "missing metadata key 'general.architecture'");
    if (s) return s;
    if (arch_of(arch, len) == ARCH_UNKNOWN) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "unsupported architecture '%.*s' (supported: llama, mobilellm, llama4, mobilellm-pro)",
                         (int)(len > 64 ? 64 : len), arch);
    }
    memcpy(hp->arch, arch, (size_t)len);
    hp->arch[len] = '\0';
    const char *a = hp->arch;
    if ((s = arch_u32(f, a, "embedding_length", -1, 1, MAX_EMBD, &hp->n_embd))) return s;
    if ((s = arch_u32(f, a, "block_count", -1, 1, MAX_LAYERS, &hp->n_block))) return s;
    if ((s = arch_u32(f, a, "feed_forward_length", -1, 1, MAX_FF, &hp->n_ff))) return s;
    if ((s = arch_u32(f, a, "attention.head_count", -1, 1, MAX_HEADS, &hp->n_head))) return s;
    if ((s = arch_u32(f, a, "attention.head_count_kv", hp->n_head, 1, MAX_HEADS, &hp->n_head_kv))) return s;
    if ((s = arch_u32(f, a, "context_length", 2048, 1, MLLM_MAX_N_CTX, &hp->n_ctx_train))) return s;
    if ((s = arch_u32(f, a, "rope.dimension_count", hp->n_embd / hp->n_head, 2, MAX_HEAD_DIM, &hp->head_dim))) return s;
    if (strcmp(a, "mobilellm") == 0) {
        if ((s = arch_u32(f, a, "block_repeat", 1, 1, MAX_REPEAT, &hp->block_repeat))) return s;
    } else {
        hp->block_repeat = 1;
    }
    if ((s = arch_f32(f, a, "attention.layer_norm_rms_epsilon", 1e-5f, &hp->eps))) return s;
    if ((s = arch_f32(f, a, "rope.freq_base", 10000.0f, &hp->rope_base))) return s;
    if (hp->n_embd % hp->n_head != 0 || hp->n_embd / hp->n_head != hp->head_dim) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "rope.dimension_count %d must equal embedding_length %d / head_count %d",
                         hp->head_dim, hp->n_embd, hp->n_head);
    }
    int32_t kl;
    if ((s = arch_u32(f, a, "attention.key_length", hp->head_dim, 1, MAX_HEAD_DIM, &kl))) return s;
    if (kl != hp->head_dim) return mllm_fail(MLLM_ERR_UNSUPPORTED, "attention.key_length %d differs from the head dimension %d", kl, hp->head_dim);
    if ((s = arch_u32(f, a, "attention.value_length", hp->head_dim, 1, MAX_HEAD_DIM, &kl))) return s;
    if (kl != hp->head_dim) return mllm_fail(MLLM_ERR_UNSUPPORTED, "attention.value_length %d differs from the head dimension %d", kl, hp->head_dim);
    if (hp->head_dim % 2 != 0) return mllm_fail(MLLM_ERR_FORMAT, "head dimension %d is odd", hp->head_dim);
    if (hp->n_head % hp->n_head_kv != 0) {
        return mllm_fail(MLLM_ERR_FORMAT, "head_count %d is not a multiple of head_count_kv %d", hp->n_head, hp->n_head_kv);
    }
    if ((int64_t)hp->n_block * hp->block_repeat > MAX_LAYERS) {
        return mllm_fail(MLLM_ERR_FORMAT, "block_count %d x block_repeat %d exceeds %d layers", hp->n_block, hp->block_repeat,
                         MAX_LAYERS);
    }
    hp->n_layer = hp->n_block * hp->block_repeat;
    return MLLM_OK;
}

/* Each applied layer's attention: RoPE everywhere for llama / mobilellm; MobileLLM-R1's llama4
 * (dense, full attention, QK-norm, as llama.cpp reads these files); mobilellm-pro from its keys. */
static mllm_status read_attention(const mllm_gguf *f, mllm_model *m) {
    mllm_hparams *hp = &m->hp;
    const char *a = hp->arch;
    const arch_kind kind = arch_of(a, strlen(a));
    m->attn = calloc((size_t)hp->n_layer, sizeof *m->attn);
    if (!m->attn) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for %d layers", hp->n_layer);
    int32_t qk_norm = 0, temp = 0, floor_scale = 8192;
    float temp_scale = 0.1f;
    mllm_status s = MLLM_OK;
    for (int32_t l = 0; l < hp->n_layer; l++) m->attn[l].rope = 1;
    if (kind == ARCH_LLAMA4) {
        int32_t experts = 0, step = 0;
        if ((s = arch_u32(f, a, "expert_count", 0, 0, 1 << 16, &experts))) return s;
        if ((s = arch_u32(f, a, "interleave_moe_layer_step", 0, 0, MAX_LAYERS, &step))) return s;
        if (experts > 0 && step > 0) {
            return mllm_fail(MLLM_ERR_UNSUPPORTED, "llama4 with mixture-of-experts layers (expert_count %d, interleave_moe_layer_step %d) "
                                                   "is not supported: only the dense MobileLLM-R1 form is", experts, step);
        }
        uint32_t swa;
        s = mllm_gguf_get_u32(f, "llama4.attention.sliding_window", &swa);
        if (s && s != MLLM_ERR_STATE) return s;
        if (s == MLLM_ERR_STATE || swa != 0) {
            return mllm_fail(MLLM_ERR_UNSUPPORTED, "llama4 files without 'llama4.attention.sliding_window' = 0 use Llama 4's chunked "
                                                   "attention, which is not supported (MobileLLM-R1 files have it)");
        }
        qk_norm = 1;
    } else if (kind == ARCH_MOBILELLM_PRO) {
        if ((s = arch_u32(f, a, "attention.sliding_window", 0, 0, MLLM_MAX_N_CTX, &hp->n_swa))) return s;
        if ((s = arch_layer_flags(f, a, "attention.sliding_window_pattern", hp->n_layer, 0, &m->attn[0].window, sizeof *m->attn))) return s;
        if ((s = arch_layer_flags(f, a, "rope.layer_pattern", hp->n_layer, 1, &m->attn[0].rope, sizeof *m->attn))) return s;
        if ((s = arch_bool(f, a, "attention.qk_norm", 0, &qk_norm))) return s;
        if ((s = arch_bool(f, a, "attention.temperature_tuning", 0, &temp))) return s;
        if ((s = arch_f32(f, a, "attention.temperature_scale", 0.1f, &temp_scale))) return s;
        if ((s = arch_u32(f, a, "attention.temperature_floor_scale", 8192, 1, INT32_MAX, &floor_scale))) return s;
        for (int32_t l = 0; l < hp->n_layer; l++) {
            if (m->attn[l].window && hp->n_swa == 0) {
                return mllm_fail(MLLM_ERR_FORMAT, "layer %d is a sliding-window layer but 'mobilellm-pro.attention.sliding_window' is 0", l);
            }
        }
    }
    for (int32_t l = 0; l < hp->n_layer; l++) {
        mllm_attn_layer *at = &m->attn[l];
        at->window = at->window ? hp->n_swa : 0; /* the pattern's flag becomes the window */
        at->qk_norm = qk_norm && at->rope;    /* QK-norm and temperature tuning as Llama 4 applies them */
        at->temp_tuning = temp && !at->rope;
        at->eps = hp->eps;
        at->temp_scale = temp_scale;
        at->temp_floor = floor_scale;
    }
    return MLLM_OK;
}

typedef enum { NEED_F32, NEED_MATMUL } type_need;

/* Binds tensor `name` of shape [ne0, ne1] (ne1 = 0: 1-D [ne0]) into t. */
static mllm_status bind(const mllm_gguf *f, const char *name, int64_t ne0, int64_t ne1, type_need need, mllm_tensor *t) {
    const mllm_gguf_tensor *gt = mllm_gguf_find_tensor(f, name);
    if (!gt) return mllm_fail(MLLM_ERR_FORMAT, "tensor '%s' is missing", name);
    int want_dims = ne1 ? 2 : 1;
    int64_t want1 = ne1 ? ne1 : 1;
    if (gt->n_dims != want_dims || gt->ne[0] != ne0 || gt->ne[1] != want1) {
        char have[96];
        int o = snprintf(have, sizeof have, "[%" PRId64, gt->ne[0]);
        for (int d = 1; d < gt->n_dims; d++) o += snprintf(have + o, sizeof have - (size_t)o, ", %" PRId64, gt->ne[d]);
        snprintf(have + o, sizeof have - (size_t)o, "]");
        if (ne1) return mllm_fail(MLLM_ERR_FORMAT, "tensor '%s' has shape %s, expected [%" PRId64 ", %" PRId64 "]", name, have, ne0, ne1);
        return mllm_fail(MLLM_ERR_FORMAT, "tensor '%s' has shape %s, expected [%" PRId64 "]", name, have, ne0);
    }
    const mllm_type_traits *tr = mllm_type_traits_of(gt->type);
    if (need == NEED_F32 && gt->type != MLLM_TYPE_F32) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "tensor '%s' has type %s, expected f32", name, tr ? tr->name : "?");
    }
    if (need == NEED_MATMUL && (!tr || !tr->supported || !mllm_matmul_supported(gt->type, gt->ne[0]))) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "tensor '%s' has type %s, which this engine cannot compute with", name,
                         tr ? tr->name : "?");
    }
    int64_t ne[4] = {gt->ne[0], gt->ne[1], 1, 1};
    if (mllm_tensor_init(t, gt->type, ne, (void *)gt->data) != 0) {
        return mllm_fail(MLLM_ERR_FORMAT, "tensor '%s': invalid shape for its type", name);
    }
    return MLLM_OK;
}

static mllm_status bind_block(const mllm_gguf *f, const mllm_hparams *hp, int32_t b, mllm_block *bl) {
    const int64_t d = hp->n_embd, q = (int64_t)hp->n_head * hp->head_dim, kv = (int64_t)hp->n_head_kv * hp->head_dim;
    struct { const char *suffix; int64_t ne0, ne1; type_need need; mllm_tensor *t; } spec[] = {
        {"attn_norm", d, 0, NEED_F32, &bl->attn_norm}, {"attn_q", d, q, NEED_MATMUL, &bl->wq},
        {"attn_k", d, kv, NEED_MATMUL, &bl->wk},       {"attn_v", d, kv, NEED_MATMUL, &bl->wv},
        {"attn_output", q, d, NEED_MATMUL, &bl->wo},   {"ffn_norm", d, 0, NEED_F32, &bl->ffn_norm},
        {"ffn_gate", d, hp->n_ff, NEED_MATMUL, &bl->gate}, {"ffn_up", d, hp->n_ff, NEED_MATMUL, &bl->up},
        {"ffn_down", hp->n_ff, d, NEED_MATMUL, &bl->down},
    };
    for (size_t i = 0; i < sizeof spec / sizeof spec[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "blk.%d.%s.weight", b, spec[i].suffix);
        mllm_status s = bind(f, name, spec[i].ne0, spec[i].ne1, spec[i].need, spec[i].t);
        if (s) return s;
    }
    return MLLM_OK;
}

static mllm_status bind_weights(mllm_model *m) {
    const mllm_gguf *f = m->file;
    mllm_hparams *hp = &m->hp;
    const mllm_gguf_tensor *emb = mllm_gguf_find_tensor(f, "token_embd.weight");
    if (!emb) return mllm_fail(MLLM_ERR_FORMAT, "tensor 'token_embd.weight' is missing");
    if (emb->n_dims != 2) return mllm_fail(MLLM_ERR_FORMAT, "tensor 'token_embd.weight' must be 2-D [n_embd, n_vocab]");
    if (emb->ne[1] > MLLM_VOCAB_MAX_TOKENS) {
        return mllm_fail(MLLM_ERR_FORMAT, "tensor 'token_embd.weight' has %" PRId64 " rows, more than the vocabulary limit of %d",
                         emb->ne[1], MLLM_VOCAB_MAX_TOKENS);
    }
    int32_t n_vocab = (int32_t)emb->ne[1];
    char key[96];
    snprintf(key, sizeof key, "%s.vocab_size", hp->arch);
    mllm_status s = arch_u32(f, hp->arch, "vocab_size", n_vocab, 1, MLLM_VOCAB_MAX_TOKENS, &hp->n_vocab);
    if (s) return s;
    if (hp->n_vocab != n_vocab) {
        return mllm_fail(MLLM_ERR_FORMAT, "metadata key '%s' = %d does not match token_embd.weight's %d rows", key, hp->n_vocab,
                         n_vocab);
    }
    if ((s = bind(f, "token_embd.weight", hp->n_embd, n_vocab, NEED_MATMUL, &m->tok_embd))) return s;
    if ((s = bind(f, "output_norm.weight", hp->n_embd, 0, NEED_F32, &m->output_norm))) return s;
    if (mllm_gguf_find_tensor(f, "output.weight")) {
        if ((s = bind(f, "output.weight", hp->n_embd, n_vocab, NEED_MATMUL, &m->output))) return s;
        m->tied = 0;
    } else {
        m->output = m->tok_embd;
        m->tied = 1;
    }
    const mllm_gguf_tensor *rf = mllm_gguf_find_tensor(f, "rope_freqs.weight");
    if (rf) {
        mllm_tensor t;
        if ((s = bind(f, "rope_freqs.weight", hp->head_dim / 2, 0, NEED_F32, &t))) return s;
        const float *v = t.data;
        for (int32_t i = 0; i < hp->head_dim / 2; i++) {
            if (!(v[i] > 0.0f) || v[i] > 1e30f) return mllm_fail(MLLM_ERR_FORMAT, "rope_freqs.weight[%d] = %g is not a positive factor", i, (double)v[i]);
        }
        m->rope_freqs = v;
    }
    /* the last block first: a block_count the file's tensors do not back fails before the block
     * table is sized from it */
    mllm_block last;
    if ((s = bind_block(f, hp, hp->n_block - 1, &last))) return s;
    m->blocks = calloc((size_t)hp->n_block, sizeof *m->blocks);
    if (!m->blocks) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for %d blocks", hp->n_block);
    for (int32_t b = 0; b < hp->n_block; b++) {
        if ((s = bind_block(f, hp, b, &m->blocks[b]))) return s;
    }
    return MLLM_OK;
}

static int32_t key_u32_or(const mllm_gguf *f, const char *key, int32_t def) {
    uint32_t v;
    if (mllm_gguf_get_u32(f, key, &v) != MLLM_OK || v > INT32_MAX) return def;
    return (int32_t)v;
}

static void fill_info(mllm_model *m) {
    const mllm_gguf *f = m->file;
    mllm_model_info *in = &m->info;
    const mllm_hparams *hp = &m->hp;
    memset(in, 0, sizeof *in);
    snprintf(in->architecture, sizeof in->architecture, "%s", hp->arch);
    const char *name;
    uint64_t len;
    if (mllm_gguf_get_str(f, "general.name", &name, &len) == MLLM_OK) {
        snprintf(in->name, sizeof in->name, "%.*s", (int)(len < sizeof in->name ? len : sizeof in->name - 1), name);
    }
    in->n_vocab = hp->n_vocab;
    in->n_ctx_train = hp->n_ctx_train;
    in->n_embd = hp->n_embd;
    in->n_ff = hp->n_ff;
    in->n_head = hp->n_head;
    in->n_head_kv = hp->n_head_kv;
    in->head_dim = hp->head_dim;
    in->n_block = hp->n_block;
    in->block_repeat = hp->block_repeat;
    in->n_layer = hp->n_layer;
    in->rms_norm_eps = hp->eps;
    in->rope_freq_base = hp->rope_base;
    in->file_type = key_u32_or(f, "general.file_type", -1);
    in->tied_embeddings = m->tied;
    for (int64_t i = 0; i < f->n_tensors; i++) {
        const mllm_gguf_tensor *t = &f->tensors[i];
        in->n_params += t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
        in->size_bytes += (int64_t)t->n_bytes;
    }
    in->bos_token = key_u32_or(f, "tokenizer.ggml.bos_token_id", -1);
    in->eos_token = key_u32_or(f, "tokenizer.ggml.eos_token_id", -1);
    in->unk_token = key_u32_or(f, "tokenizer.ggml.unknown_token_id", -1);
    in->pad_token = key_u32_or(f, "tokenizer.ggml.padding_token_id", -1);
    int b = 1;
    in->add_bos = mllm_gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &b) == MLLM_OK ? b : 1;
    b = 0;
    in->add_eos = mllm_gguf_get_bool(f, "tokenizer.ggml.add_eos_token", &b) == MLLM_OK ? b : 0;
}

/* FNV-1a, 64 bits. */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* What identifies the model a saved session state belongs to: the hyper-parameters, the tensor
 * table (names, types, shapes, sizes) and the first bytes of every tensor, which tell two
 * trainings of one architecture apart without reading the weights. */
static uint64_t fingerprint(const mllm_model *m) {
    const mllm_hparams *hp = &m->hp;
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv(h, hp->arch, strlen(hp->arch));
    const int32_t ints[] = {hp->n_vocab, hp->n_embd, hp->n_ff, hp->n_head, hp->n_head_kv, hp->head_dim, hp->n_block,
                            hp->block_repeat, hp->n_layer};
    h = fnv(h, ints, sizeof ints);
    h = fnv(h, &hp->eps, sizeof hp->eps);
    h = fnv(h, &hp->rope_base, sizeof hp->rope_base);
    for (int64_t i = 0; i < m->file->n_tensors; i++) {
        const mllm_gguf_tensor *t = &m->file->tensors[i];
        h = fnv(h, t->name, strlen(t->name));
        h = fnv(h, &t->type, sizeof t->type);
        h = fnv(h, t->ne, sizeof t->ne);
        h = fnv(h, &t->n_bytes, sizeof t->n_bytes);
        h = fnv(h, t->data, t->n_bytes < 32 ? (size_t)t->n_bytes : 32);
    }
    return h;
}

mllm_status mllm_model_from_gguf(mllm_gguf *file, mllm_model **out) {
    *out = NULL;
    mllm_model *m = calloc(1, sizeof *m);
    if (!m) {
        mllm_gguf_close(file);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for the model");
    }
    m->file = file;
    mllm_status s = read_hparams(file, &m->hp);
    if (!s) s = read_attention(file, m);
    if (!s) s = bind_weights(m);
    if (s) {
        mllm_model_destroy(m);
        return s;
    }
    fill_info(m);
    const int32_t half = m->hp.head_dim / 2;
    m->inv_freq = malloc((size_t)half * sizeof *m->inv_freq);
    if (!m->inv_freq) {
        mllm_model_destroy(m);
        return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for the model");
    }
    const float *factor = m->rope_freqs; /* Llama 3 scaling: frequency i divided by factor[i] */
    for (int32_t i = 0; i < half; i++) {
        m->inv_freq[i] = pow((double)m->hp.rope_base, -2.0 * i / m->hp.head_dim) / (factor ? (double)factor[i] : 1.0);
    }
    m->fingerprint = fingerprint(m);
    *out = m;
    return MLLM_OK;
}

void mllm_model_destroy(mllm_model *m) {
    if (!m) return;
    mllm_compute_free(m->compute);
    if (m->device) m->device->iface->free(m->device); /* before the file: it may hold copies of its pages */
    free(m->inv_freq);
    mllm_vocab_free(m->vocab);
    free(m->blocks);
    free(m->attn);
    mllm_gguf_close(m->file);
    free(m);
}

const struct mllm_vocab *mllm_model_vocab(const mllm_model *m) { return m ? m->vocab : NULL; }
