/* The reference checkpoints of testdata/checkpoints (safetensors from transformers) turned into
 * GGUF files, following docs/gguf-conventions.md (HF names -> ggml names, q/k rows permuted for
 * adjacent-pair RoPE, norms in f32), and readers for testdata/reference (what transformers
 * computed in float64 from the same rounded weights). Shared by test_model_parity.c (the CPU
 * backend against transformers) and test_vulkan.c (the Vulkan backend against both).
 *
 * Tolerances against transformers: with an F32 KV cache the engine computes in f32 with the
 * exact weight values, through 4-6 layers of width 96-128; f32 rounding accumulates to ~1e-5 on
 * logits of magnitude <= ~15 (measured 1e-5), so TOL_F32 = 1e-4 leaves a 10x margin, while a
 * wrong RoPE pairing or a missing permutation moves logits by O(1). The default F16 KV cache
 * rounds K/V to 11 significant bits (measured ~8e-3 on these logits): TOL_F16 = 3e-2. */
#ifndef TEST_CHECKPOINTS_H
#define TEST_CHECKPOINTS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mobilellm.h"
#include "quant/quant.h"
#include "gguf_writer.h"

#define TOL_F32 1e-4
#define TOL_F16 3e-2

static inline char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) p[n] = '\0';
    if (len) *len = (size_t)n;
    return p;
}

/* ---- safetensors: 8-byte header length, JSON header, data ---- */
typedef struct shard {
    char *bytes;
    size_t len;
    char *header; /* NUL-terminated copy */
    size_t data_start;
} shard;

static inline int shard_open(shard *s, const char *path) {
    memset(s, 0, sizeof *s);
    s->bytes = read_all(path, &s->len);
    if (!s->bytes || s->len < 8) return -1;
    uint64_t hl;
    memcpy(&hl, s->bytes, 8);
    if (hl > s->len - 8) return -1;
    s->header = malloc(hl + 1);
    memcpy(s->header, s->bytes + 8, hl);
    s->header[hl] = '\0';
    s->data_start = 8 + hl;
    return 0;
}

/* Reads tensor `name` as f32 (F32/F16/BF16 sources). Returns element count, 0 if absent. */
static inline int64_t shard_tensor(const shard *s, const char *name, float **out, int64_t shape[2]) {
    char key[160];
    snprintf(key, sizeof key, "\"%s\":{", name);
    const char *o = strstr(s->header, key);
    if (!o) return 0;
    const char *dt = strstr(o, "\"dtype\":\"") + 9;
    const char *sh = strstr(o, "\"shape\":[") + 9;
    const char *of = strstr(o, "\"data_offsets\":[") + 16;
    char *end;
    shape[0] = strtoll(sh, &end, 10);
    shape[1] = *end == ',' ? strtoll(end + 1, &end, 10) : 1;
    int64_t n = shape[0] * shape[1];
    long long a = strtoll(of, &end, 10);
    const char *src = s->bytes + s->data_start + a;
    float *f = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        if (strncmp(dt, "F32", 3) == 0) memcpy(&f[i], src + 4 * i, 4);
        else {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            f[i] = strncmp(dt, "F16", 3) == 0 ? mllm_fp16_to_fp32(h) : mllm_bf16_to_fp32(h);
        }
    }
    *out = f;
    return n;
}

typedef struct ckpt {
    shard sh[3];
    int n_shards;
} ckpt;

static inline int64_t ck_tensor(const ckpt *c, const char *name, float **out, int64_t shape[2]) {
    for (int i = 0; i < c->n_shards; i++) {
        int64_t n = shard_tensor(&c->sh[i], name, out, shape);
        if (n) return n;
    }
    return 0;
}

/* Per head of hd rows: output row 2i+j is input row j*hd/2+i (HF rotate-half -> adjacent pairs). */
static inline void permute_rows(float *w, int64_t rows, int64_t cols, int hd) {
    float *t = malloc(sizeof(float) * (size_t)(rows * cols));
    for (int64_t r = 0; r < rows; r++) {
        int64_t head = r / hd, in = r % hd, i = in / 2, j = in % 2;
        memcpy(t + r * cols, w + (head * hd + j * (hd / 2) + i) * cols, sizeof(float) * (size_t)cols);
    }
    memcpy(w, t, sizeof(float) * (size_t)(rows * cols));
    free(t);
}

/* A checkpoint's file layout and shape. */
typedef struct spec {
    const char *name;
    int n_shards, n_layer_stored, repeat, n_head, n_kv, dim, ffn, vocab;
} spec;

static const spec k_checkpoints[] = {
    {"llama-f32", 1, 4, 1, 4, 2, 128, 352, 1024},
    {"mobilellm-ls-f16", 1, 3, 2, 3, 1, 96, 256, 1024},
    {"llama-sharded-bf16-lmhead", 3, 4, 1, 4, 2, 128, 352, 1024},
};
#define N_CHECKPOINTS (sizeof k_checkpoints / sizeof k_checkpoints[0])

static inline int add_tensor(gw_file *f, const ckpt *c, const char *hf, const char *gg, int permute_hd) {
    float *w = NULL;
    int64_t shape[2];
    int64_t n = ck_tensor(c, hf, &w, shape);
    if (!n) {
        fprintf(stderr, "checkpoint tensor %s missing\n", hf);
        return -1;
    }
    if (permute_hd) permute_rows(w, shape[0], shape[1], permute_hd);
    /* safetensors shape [out, in] -> GGUF ne [in, out] */
    uint64_t ne[2] = {(uint64_t)(shape[1]), (uint64_t)shape[0]};
    int nd = shape[1] == 1 && !strstr(hf, "proj") && !strstr(hf, "embed") && !strstr(hf, "lm_head") ? 1 : 2;
    if (nd == 1) ne[0] = (uint64_t)shape[0];
    gwf_tensor(f, gg, MLLM_TYPE_F32, (uint32_t)nd, ne, w, sizeof(float) * (size_t)n);
    free(w);
    return 0;
}

/* Writes checkpoint sp as an f32 GGUF file at out_path; 0 on success. */
static inline int convert(const spec *sp, const char *out_path) {
    ckpt c = {.n_shards = sp->n_shards};
    char path[512];
    for (int i = 0; i < sp->n_shards; i++) {
        if (sp->n_shards == 1) snprintf(path, sizeof path, "%s/checkpoints/%s/model.safetensors", MLLM_TEST_DATA, sp->name);
        else snprintf(path, sizeof path, "%s/checkpoints/%s/model-%05d-of-%05d.safetensors", MLLM_TEST_DATA, sp->name, i + 1, sp->n_shards);
        if (shard_open(&c.sh[i], path)) {
            fprintf(stderr, "cannot read %s\n", path);
            return -1;
        }
    }
    const char *arch = sp->repeat > 1 ? "mobilellm" : "llama";
    gw_file f;
    gwf_init(&f);
    char key[128];
    gwf_str(&f, "general.architecture", arch);
#define U32(suffix, v) snprintf(key, sizeof key, "%s.%s", arch, suffix), gwf_u32(&f, key, (uint32_t)(v))
    U32("context_length", 2048);
    U32("embedding_length", sp->dim);
    U32("block_count", sp->n_layer_stored);
    U32("feed_forward_length", sp->ffn);
    U32("attention.head_count", sp->n_head);
    U32("attention.head_count_kv", sp->n_kv);
    U32("rope.dimension_count", sp->dim / sp->n_head);
    if (sp->repeat > 1) U32("block_repeat", sp->repeat);
#undef U32
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", arch);
    gwf_f32(&f, key, 1e-5f);
    snprintf(key, sizeof key, "%s.rope.freq_base", arch);
    gwf_f32(&f, key, 10000.0f);
    /* ids come from the reference file, so any vocabulary of the right size will do */
    const char **pieces = malloc(sizeof(char *) * (size_t)sp->vocab);
    char(*names)[12] = malloc(12 * (size_t)sp->vocab);
    for (int i = 0; i < sp->vocab; i++) {
        snprintf(names[i], 12, i == 0 ? "<unk>" : "p%d", i);
        pieces[i] = names[i];
    }
    gwf_arr_str(&f, "tokenizer.ggml.tokens", pieces, (uint64_t)sp->vocab);
    gwf_u32(&f, "tokenizer.ggml.unknown_token_id", 0);
    free(pieces);
    free(names);
    const int hd = sp->dim / sp->n_head;
    int bad = add_tensor(&f, &c, "model.embed_tokens.weight", "token_embd.weight", 0);
    bad |= add_tensor(&f, &c, "model.norm.weight", "output_norm.weight", 0);
    float *probe;
    int64_t shp[2];
    if (ck_tensor(&c, "lm_head.weight", &probe, shp)) {
        free(probe);
        bad |= add_tensor(&f, &c, "lm_head.weight", "output.weight", 0);
    }
    for (int b = 0; b < sp->n_layer_stored && !bad; b++) {
        struct { const char *hf, *gg; int perm; } map[] = {
            {"input_layernorm", "attn_norm", 0}, {"self_attn.q_proj", "attn_q", hd}, {"self_attn.k_proj", "attn_k", hd},
            {"self_attn.v_proj", "attn_v", 0}, {"self_attn.o_proj", "attn_output", 0},
            {"post_attention_layernorm", "ffn_norm", 0}, {"mlp.gate_proj", "ffn_gate", 0}, {"mlp.up_proj", "ffn_up", 0},
            {"mlp.down_proj", "ffn_down", 0},
        };
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
            char hf[128], gg[64];
            snprintf(hf, sizeof hf, "model.layers.%d.%s.weight", b, map[i].hf);
            snprintf(gg, sizeof gg, "blk.%d.%s.weight", b, map[i].gg);
            bad |= add_tensor(&f, &c, hf, gg, map[i].perm);
        }
    }
    gw_buf out;
    gwf_finish(&f, &out);
    if (!bad) bad = gw_write(out_path, out.p, out.len);
    gw_free(&out);
    gwf_free(&f);
    for (int i = 0; i < c.n_shards; i++) {
        free(c.sh[i].bytes);
        free(c.sh[i].header);
    }
    return bad ? -1 : 0;
}

/* The k-th JSON array after `key` (e.g. "\"ids\": [") as numbers; returns the count. */
static inline int json_array(const char *json, const char *key, int k, double *out, int cap) {
    const char *p = json;
    for (int i = 0; i <= k; i++) {
        p = strstr(p, key);
        if (!p) return 0;
        p += strlen(key);
    }
    int n = 0;
    char *end;
    while (n < cap) {
        out[n++] = strtod(p, &end);
        while (*end == ' ' || *end == '\n') end++;
        if (*end != ',') break;
        p = end + 1;
    }
    return n;
}

#endif
