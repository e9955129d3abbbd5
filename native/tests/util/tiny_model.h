/* A tiny random llama / mobilellm / llama4 (MobileLLM-R1) / mobilellm-pro model for tests:
 * deterministic random weights, a GGUF writer for it, and a straightforward double-precision
 * reference forward pass written from the model description (shares no code with the engine's
 * ops). */
#ifndef TEST_TINY_MODEL_H
#define TEST_TINY_MODEL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mobilellm.h"
#include "quant/quant.h"
#include "gguf_writer.h"

#define TINY_MAX_BLOCKS 8

typedef struct tiny_cfg {
    const char *arch;   /* "llama", "mobilellm", "llama4" (R1: QK-norm everywhere) or "mobilellm-pro" */
    int n_vocab, n_embd, n_ff, n_head, n_kv, n_block, repeat, n_ctx;
    float eps, theta;
    int tied;           /* 0: write output.weight */
    int32_t wtype;      /* matrix weight type: F32, F16, Q8_0, a K-quant (n_embd, n_ff multiples of 256) */
    int32_t wtype_vd;   /* >= 0: attn_v and ffn_down in this type instead (like llama.cpp's *_k_m mixes) */
    int32_t eos;        /* eos token id */
    uint64_t seed;
    /* mutations for error tests */
    const char *skip_tensor;    /* do not write this tensor */
    const char *reshape_tensor; /* write this tensor with one more row */
    const char *f16_tensor;     /* write this (f32) tensor as f16 */
    const char *skip_key;       /* do not write this key */
    int32_t force_type_of;      /* with force_type_name: write that tensor with this type id */
    const char *force_type_name;
    uint32_t claim_block_count; /* > 0: the block_count key says this instead of n_block */
    uint32_t claim_vocab_size;  /* > 0: the vocab_size key says this instead of n_vocab */
    /* byte-level vocabulary (tokenizer.ggml.model "gpt2", needs n_vocab >= 261): ids 0..255 the
     * byte stand-ins in byte order, 256 "Ġt", 257 "he", 258 "Ġthe" (merges "Ġ t", "h e", "Ġt he"),
     * 259 "<|begin_of_text|>" (BOS), 260 "<|eot_id|>" (end of turn), then unused "[PADn]" */
    int bytelevel;
    const char *pre;            /* tokenizer.ggml.pre; NULL: no key */
    /* position handling (llama4 / mobilellm-pro): bit l of a mask is applied layer l */
    int qk_norm;                /* mobilellm-pro: QK-norm on RoPE layers (llama4 always has it) */
    uint32_t nope_mask;         /* mobilellm-pro: layers without RoPE */
    uint32_t swa_mask;          /* mobilellm-pro: sliding-window layers, window `window` */
    int window;
    int temp_tuning;            /* mobilellm-pro: temperature tuning of NoPE layers */
    float temp_scale;
    int temp_floor;
    int rope_freqs;             /* 1: write rope_freqs.weight (Llama 3 style factors 1..8) */
} tiny_cfg;

typedef struct tiny_block {
    float *attn_norm, *wq, *wk, *wv, *wo, *ffn_norm, *gate, *up, *down;
} tiny_block;

typedef struct tiny_model {
    tiny_cfg c;
    int hd;
    float *tok_embd, *out_norm, *output; /* output NULL when tied */
    tiny_block blk[TINY_MAX_BLOCKS];
} tiny_model;

static inline tiny_cfg tiny_default(void) {
    tiny_cfg c;
    memset(&c, 0, sizeof c);
    c.arch = "llama";
    c.n_vocab = 40;
    c.n_embd = 64;
    c.n_ff = 96;
    c.n_head = 4;
    c.n_kv = 2;
    c.n_block = 2;
    c.repeat = 1;
    c.n_ctx = 64;
    c.eps = 1e-5f;
    c.theta = 10000.0f;
    c.tied = 1;
    c.wtype = MLLM_TYPE_F32;
    c.wtype_vd = -1;
    c.eos = 2;
    c.seed = 12345;
    c.force_type_of = -1;
    return c;
}

/* A MobileLLM-Pro shaped model: layers 1 and 2 slide a window of 5, layers 0 and 3 are NoPE with
 * temperature tuning, QK-norm on the RoPE layers. */
static inline tiny_cfg tiny_pro(void) {
    tiny_cfg c = tiny_default();
    c.arch = "mobilellm-pro";
    c.n_block = 4;
    c.swa_mask = 0x6u;
    c.window = 5;
    c.nope_mask = 0x9u;
    c.qk_norm = 1;
    c.temp_tuning = 1;
    c.temp_scale = 0.2f;
    c.temp_floor = 3;
    return c;
}

static inline double tiny_rand(uint64_t *s) { /* xorshift64*, uniform in [-1, 1) */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ull) >> 11) / (double)(1ull << 52) - 1.0;
}

/* rows x cols matrix, entries uniform * scale, rounded through the weight type when it is not f32
 * so that the reference sees exactly the values stored in the file (which tiny_put quantizes
 * again). Requantizing dequantized values is the identity for the 32-element types but not
 * always for the K-quants (their least-squares fit may move a scale, and a few rows cycle), so
 * rows are rounded until they are a fixed point, and a row that does not get there is drawn
 * anew (the random stream of the other types is unchanged). */
static inline float *tiny_mat(uint64_t *s, int rows, int cols, double scale, int32_t wtype) {
    float *m = malloc((size_t)rows * cols * sizeof(float));
    size_t rb = wtype != MLLM_TYPE_F32 ? (size_t)mllm_row_bytes(wtype, cols) : 0;
    uint8_t *q = malloc(rb + 1), *q2 = malloc(rb + 1);
    for (int r = 0; r < rows; r++) {
        float *row = m + (size_t)r * cols;
        for (int fixed = 0; !fixed;) {
            for (int i = 0; i < cols; i++) row[i] = (float)(tiny_rand(s) * scale);
            if (wtype == MLLM_TYPE_F32) break;
            mllm_quantize_row(wtype, row, q, cols);
            for (int round = 0; round < 8 && !fixed; round++) {
                mllm_dequantize_row(wtype, q, row, cols);
                mllm_quantize_row(wtype, row, q2, cols);
                fixed = memcmp(q, q2, rb) == 0;
                memcpy(q, q2, rb);
            }
        }
    }
    free(q);
    free(q2);
    return m;
}

static inline float *tiny_norm(uint64_t *s, int n) {
    float *w = malloc((size_t)n * sizeof(float));
    for (int i = 0; i < n; i++) w[i] = (float)(1.0 + 0.3 * tiny_rand(s));
    return w;
}

/* Type of attn_v / ffn_down. */
static inline int32_t tiny_vd_type(const tiny_cfg *c) { return c->wtype_vd >= 0 ? c->wtype_vd : c->wtype; }

static inline void tiny_init(tiny_model *m, const tiny_cfg *c) {
    memset(m, 0, sizeof *m);
    m->c = *c;
    m->hd = c->n_embd / c->n_head;
    uint64_t s = c->seed;
    const int d = c->n_embd, q = c->n_head * m->hd, kv = c->n_kv * m->hd;
    const double sd = 1.5 / sqrt((double)d), sf = 1.5 / sqrt((double)c->n_ff), sq = 1.5 / sqrt((double)q);
    m->tok_embd = tiny_mat(&s, c->n_vocab, d, 1.0, c->wtype);
    m->out_norm = tiny_norm(&s, d);
    m->output = c->tied ? NULL : tiny_mat(&s, c->n_vocab, d, sd * 2, c->wtype);
    for (int b = 0; b < c->n_block; b++) {
        tiny_block *k = &m->blk[b];
        k->attn_norm = tiny_norm(&s, d);
        k->wq = tiny_mat(&s, q, d, sd * 2, c->wtype); /* larger q/k: peaked attention exercises softmax */
        k->wk = tiny_mat(&s, kv, d, sd * 2, c->wtype);
        k->wv = tiny_mat(&s, kv, d, sd, tiny_vd_type(c));
        k->wo = tiny_mat(&s, d, q, sq, c->wtype);
        k->ffn_norm = tiny_norm(&s, d);
        k->gate = tiny_mat(&s, c->n_ff, d, sd, c->wtype);
        k->up = tiny_mat(&s, c->n_ff, d, sd, c->wtype);
        k->down = tiny_mat(&s, d, c->n_ff, sf, tiny_vd_type(c));
    }
}

static inline void tiny_free(tiny_model *m) {
    free(m->tok_embd);
    free(m->out_norm);
    free(m->output);
    for (int b = 0; b < m->c.n_block; b++) {
        tiny_block *k = &m->blk[b];
        float *all[] = {k->attn_norm, k->wq, k->wk, k->wv, k->wo, k->ffn_norm, k->gate, k->up, k->down};
        for (int i = 0; i < 9; i++) free(all[i]);
    }
}

/* Writes one tensor (rows x cols floats) in `type`, honouring the config's mutations. */
static inline void tiny_put(gw_file *f, const tiny_cfg *c, const char *name, const float *w, int rows, int cols,
                            int32_t type) {
    if (c->skip_tensor && strcmp(c->skip_tensor, name) == 0) return;
    if (c->f16_tensor && strcmp(c->f16_tensor, name) == 0) type = MLLM_TYPE_F16;
    int extra = c->reshape_tensor && strcmp(c->reshape_tensor, name) == 0;
    uint64_t ne[2] = {(uint64_t)cols, (uint64_t)(rows + extra)};
    if (c->force_type_name && strcmp(c->force_type_name, name) == 0) { /* zero data of a foreign type */
        int64_t bs = mllm_type_block_size(c->force_type_of), bb = mllm_type_block_bytes(c->force_type_of);
        size_t bytes = (size_t)((int64_t)cols / bs * bb) * (size_t)(rows + extra);
        void *z = calloc(1, bytes);
        gwf_tensor(f, name, (uint32_t)c->force_type_of, rows == 1 ? 1 : 2, ne, z, bytes);
        free(z);
        return;
    }
    size_t rb = (size_t)mllm_row_bytes(type, cols);
    uint8_t *data = calloc((size_t)(rows + extra), rb);
    for (int r = 0; r < rows; r++) mllm_quantize_row(type, w + (size_t)r * cols, data + (size_t)r * rb, cols);
    gwf_tensor(f, name, (uint32_t)type, rows == 1 && !extra ? 1 : 2, ne, data, rb * (size_t)(rows + extra));
    free(data);
}

static inline void tiny_key_u32(gw_file *f, const tiny_cfg *c, const char *suffix, uint32_t v) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", c->arch, suffix);
    if (c->skip_key && strcmp(c->skip_key, key) == 0) return;
    gwf_u32(f, key, v);
}

static inline void tiny_spm_vocab(gw_file *f, const tiny_cfg *c) {
    gwf_str(f, "tokenizer.ggml.model", "llama");
    const char **pieces = malloc((size_t)c->n_vocab * sizeof *pieces);
    char(*names)[8] = malloc((size_t)c->n_vocab * 8);
    float *scores = malloc((size_t)c->n_vocab * sizeof(float));
    int32_t *types = malloc((size_t)c->n_vocab * sizeof(int32_t));
    for (int i = 0; i < c->n_vocab; i++) {
        if (i == 0) snprintf(names[i], 8, "<unk>");
        else if (i == 1) snprintf(names[i], 8, "<s>");
        else if (i == 2) snprintf(names[i], 8, "</s>");
        else snprintf(names[i], 8, "%c%c", 'a' + (i - 3) % 26, (i - 3) / 26 ? '0' + (i - 3) / 26 : 'x');
        pieces[i] = names[i];
        scores[i] = (float)-i;
        types[i] = i == 0 ? MLLM_TOKEN_UNKNOWN : i < 3 ? MLLM_TOKEN_CONTROL : MLLM_TOKEN_NORMAL;
    }
    gwf_arr_str(f, "tokenizer.ggml.tokens", pieces, (uint64_t)c->n_vocab);
    gwf_arr_f32(f, "tokenizer.ggml.scores", scores, (uint64_t)c->n_vocab);
    gwf_arr_i32(f, "tokenizer.ggml.token_type", types, (uint64_t)c->n_vocab);
    gwf_u32(f, "tokenizer.ggml.bos_token_id", 1);
    gwf_u32(f, "tokenizer.ggml.eos_token_id", (uint32_t)c->eos);
    gwf_u32(f, "tokenizer.ggml.unknown_token_id", 0);
    free(pieces);
    free(names);
    free(scores);
    free(types);
}

static inline void tiny_bytelevel_vocab(gw_file *f, const tiny_cfg *c) {
    gwf_str(f, "tokenizer.ggml.model", "gpt2");
    if (c->pre) gwf_str(f, "tokenizer.ggml.pre", c->pre);
    const char **pieces = malloc((size_t)c->n_vocab * sizeof *pieces);
    char(*names)[24] = malloc((size_t)c->n_vocab * 24);
    int32_t *types = malloc((size_t)c->n_vocab * sizeof(int32_t));
    for (int i = 0, shifted = 0; i < c->n_vocab; i++) {
        types[i] = MLLM_TOKEN_NORMAL;
        if (i < 256) { /* GPT-2's alphabet: printable bytes stand for themselves, the rest shift to U+0100.. */
            int self = (i >= 0x21 && i <= 0x7E) || (i >= 0xA1 && i <= 0xAC) || (i >= 0xAE && i <= 0xFF);
            unsigned cp = self ? (unsigned)i : 0x100u + (unsigned)shifted++;
            if (cp < 0x80) snprintf(names[i], 24, "%c", (char)cp);
            else snprintf(names[i], 24, "%c%c", (char)(0xC0 | (cp >> 6)), (char)(0x80 | (cp & 0x3F)));
        } else if (i < 261) {
            static const char *const extra[] = {"\xC4\xA0t", "he", "\xC4\xA0the", "<|begin_of_text|>", "<|eot_id|>"};
            snprintf(names[i], 24, "%s", extra[i - 256]);
            if (i >= 259) types[i] = MLLM_TOKEN_CONTROL;
        } else {
            snprintf(names[i], 24, "[PAD%d]", i);
            types[i] = MLLM_TOKEN_UNUSED;
        }
        pieces[i] = names[i];
    }
    static const char *const merges[] = {"\xC4\xA0 t", "h e", "\xC4\xA0t he"};
    gwf_arr_str(f, "tokenizer.ggml.tokens", pieces, (uint64_t)c->n_vocab);
    gwf_arr_i32(f, "tokenizer.ggml.token_type", types, (uint64_t)c->n_vocab);
    gwf_arr_str(f, "tokenizer.ggml.merges", merges, 3);
    gwf_u32(f, "tokenizer.ggml.bos_token_id", 259);
    gwf_u32(f, "tokenizer.ggml.eos_token_id", (uint32_t)c->eos);
    gwf_u32(f, "tokenizer.ggml.eot_token_id", 260);
    free(pieces);
    free(names);
    free(types);
}

static inline int tiny_is(const tiny_cfg *c, const char *arch) { return strcmp(c->arch, arch) == 0; }

/* Layer l's traits as the engine should read them from the file. */
static inline int tiny_rope(const tiny_cfg *c, int l) { return !(tiny_is(c, "mobilellm-pro") && (c->nope_mask >> l & 1u)); }
static inline int tiny_qk_norm(const tiny_cfg *c, int l) {
    return tiny_rope(c, l) && (tiny_is(c, "llama4") || (tiny_is(c, "mobilellm-pro") && c->qk_norm));
}
static inline int tiny_window(const tiny_cfg *c, int l) { return tiny_is(c, "mobilellm-pro") && (c->swa_mask >> l & 1u) ? c->window : 0; }
static inline int tiny_temp(const tiny_cfg *c, int l) { return tiny_is(c, "mobilellm-pro") && c->temp_tuning && !tiny_rope(c, l); }
/* rope_freqs factor i of hd/2: 1 for the first quarter, 8 for the last, a ramp between */
static inline double tiny_rope_factor(const tiny_cfg *c, int i, int half) {
    if (!c->rope_freqs) return 1.0;
    const double f = (double)i / (half - 1);
    return f < 0.25 ? 1.0 : f > 0.75 ? 8.0 : 1.0 + 7.0 * (f - 0.25) / 0.5;
}

static inline void tiny_arch_keys(gw_file *f, const tiny_cfg *c, int hd) {
    char key[128];
    const int n_layer = c->n_block * c->repeat;
    if (tiny_is(c, "llama4")) {
        tiny_key_u32(f, c, "attention.sliding_window", 0); /* as llama.cpp writes MobileLLM-R1 */
        tiny_key_u32(f, c, "expert_count", 0);
        tiny_key_u32(f, c, "interleave_moe_layer_step", 0);
    }
    if (tiny_is(c, "mobilellm-pro")) {
        uint8_t swa[32], rope[32];
        for (int l = 0; l < n_layer; l++) {
            swa[l] = (uint8_t)(c->swa_mask >> l & 1u);
            rope[l] = (uint8_t)tiny_rope(c, l);
        }
        tiny_key_u32(f, c, "attention.sliding_window", (uint32_t)c->window);
        snprintf(key, sizeof key, "%s.attention.sliding_window_pattern", c->arch);
        gwf_arr_bool(f, key, swa, (uint64_t)n_layer);
        snprintf(key, sizeof key, "%s.rope.layer_pattern", c->arch);
        gwf_arr_bool(f, key, rope, (uint64_t)n_layer);
        snprintf(key, sizeof key, "%s.attention.qk_norm", c->arch);
        gwf_bool(f, key, c->qk_norm);
        snprintf(key, sizeof key, "%s.attention.temperature_tuning", c->arch);
        gwf_bool(f, key, c->temp_tuning);
        snprintf(key, sizeof key, "%s.attention.temperature_scale", c->arch);
        gwf_f32(f, key, c->temp_scale);
        tiny_key_u32(f, c, "attention.temperature_floor_scale", (uint32_t)c->temp_floor);
    }
    if (c->rope_freqs) {
        float fr[256];
        for (int i = 0; i < hd / 2; i++) fr[i] = (float)tiny_rope_factor(c, i, hd / 2);
        uint64_t ne[1] = {(uint64_t)(hd / 2)};
        gwf_tensor(f, "rope_freqs.weight", MLLM_TYPE_F32, 1, ne, fr, sizeof(float) * (size_t)(hd / 2));
    }
}

static inline int tiny_write(const tiny_model *m, const char *path) {
    const tiny_cfg *c = &m->c;
    gw_file f;
    gwf_init(&f);
    gwf_str(&f, "general.architecture", c->arch);
    gwf_str(&f, "general.name", "tiny-test");
    gwf_u32(&f, "general.file_type", c->wtype == MLLM_TYPE_F32 ? 0 : c->wtype == MLLM_TYPE_F16 ? 1
                                     : c->wtype == MLLM_TYPE_Q4_K ? 15 : c->wtype == MLLM_TYPE_Q5_K ? 17
                                     : c->wtype == MLLM_TYPE_Q6_K ? 18 : 7);
    tiny_key_u32(&f, c, "context_length", (uint32_t)c->n_ctx);
    tiny_key_u32(&f, c, "embedding_length", (uint32_t)c->n_embd);
    tiny_key_u32(&f, c, "block_count", c->claim_block_count ? c->claim_block_count : (uint32_t)c->n_block);
    tiny_key_u32(&f, c, "feed_forward_length", (uint32_t)c->n_ff);
    tiny_key_u32(&f, c, "attention.head_count", (uint32_t)c->n_head);
    tiny_key_u32(&f, c, "attention.head_count_kv", (uint32_t)c->n_kv);
    tiny_key_u32(&f, c, "rope.dimension_count", (uint32_t)m->hd);
    tiny_key_u32(&f, c, "vocab_size", c->claim_vocab_size ? c->claim_vocab_size : (uint32_t)c->n_vocab);
    if (strcmp(c->arch, "mobilellm") == 0) tiny_key_u32(&f, c, "block_repeat", (uint32_t)c->repeat);
    char key[128];
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", c->arch);
    gwf_f32(&f, key, c->eps);
    snprintf(key, sizeof key, "%s.rope.freq_base", c->arch);
    gwf_f32(&f, key, c->theta);
    if (c->bytelevel) tiny_bytelevel_vocab(&f, c);
    else tiny_spm_vocab(&f, c);
    tiny_arch_keys(&f, c, m->hd);

    const int d = c->n_embd, q = c->n_head * m->hd, kv = c->n_kv * m->hd;
    tiny_put(&f, c, "token_embd.weight", m->tok_embd, c->n_vocab, d, c->wtype);
    tiny_put(&f, c, "output_norm.weight", m->out_norm, 1, d, MLLM_TYPE_F32);
    if (m->output) tiny_put(&f, c, "output.weight", m->output, c->n_vocab, d, c->wtype);
    for (int b = 0; b < c->n_block; b++) {
        const tiny_block *k = &m->blk[b];
        char name[64];
#define PUT(suffix, w, rows, cols, type)                      \
    snprintf(name, sizeof name, "blk.%d.%s.weight", b, suffix); \
    tiny_put(&f, c, name, w, rows, cols, type)
        PUT("attn_norm", k->attn_norm, 1, d, MLLM_TYPE_F32);
        PUT("attn_q", k->wq, q, d, c->wtype);
        PUT("attn_k", k->wk, kv, d, c->wtype);
        PUT("attn_v", k->wv, kv, d, tiny_vd_type(c));
        PUT("attn_output", k->wo, d, q, c->wtype);
        PUT("ffn_norm", k->ffn_norm, 1, d, MLLM_TYPE_F32);
        PUT("ffn_gate", k->gate, c->n_ff, d, c->wtype);
        PUT("ffn_up", k->up, c->n_ff, d, c->wtype);
        PUT("ffn_down", k->down, d, c->n_ff, tiny_vd_type(c));
#undef PUT
    }
    gw_buf out;
    gwf_finish(&f, &out);
    int r = gw_write(path, out.p, out.len);
    gw_free(&out);
    gwf_free(&f);
    return r;
}

/* ---- reference forward, double precision ---- */

/* y = W x. With block-quantized weights the engine (like ggml) rounds the activations to q8_0
 * (or q8_1: the same values) blocks first; the reference does the same through the quantizer's
 * public API so that only summation order differs. */
static inline void ref_matvec_t(int32_t wtype, const float *w, int rows, int cols, const double *x_in, double *y) {
    double *x = malloc(sizeof(double) * cols);
    memcpy(x, x_in, sizeof(double) * cols);
    if (mllm_type_block_size(wtype) > 1) {
        float *xf = malloc(sizeof(float) * cols);
        uint8_t *q = malloc((size_t)mllm_row_bytes(MLLM_TYPE_Q8_0, cols));
        for (int i = 0; i < cols; i++) xf[i] = (float)x[i];
        mllm_quantize_row(MLLM_TYPE_Q8_0, xf, q, cols);
        mllm_dequantize_row(MLLM_TYPE_Q8_0, q, xf, cols);
        for (int i = 0; i < cols; i++) x[i] = xf[i];
        free(xf);
        free(q);
    }
    for (int r = 0; r < rows; r++) {
        double s = 0;
        for (int i = 0; i < cols; i++) s += (double)w[(size_t)r * cols + i] * x[i];
        y[r] = s;
    }
    free(x);
}

static inline void ref_rmsnorm(const double *x, const float *w, int n, double eps, double *y) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    double sc = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) y[i] = x[i] * sc * w[i];
}

/* Rotates adjacent pairs of every head of x (n_heads x hd) for position pos. */
static inline void ref_rope(const tiny_cfg *c, double *x, int n_heads, int hd, int pos) {
    for (int h = 0; h < n_heads; h++) {
        for (int i = 0; i < hd / 2; i++) {
            double a = pos * pow(c->theta, -2.0 * i / hd) / tiny_rope_factor(c, i, hd / 2);
            double *p = x + h * hd + 2 * i, x0 = p[0], x1 = p[1];
            p[0] = x0 * cos(a) - x1 * sin(a);
            p[1] = x0 * sin(a) + x1 * cos(a);
        }
    }
}

/* Reference KV state: slot j holds the keys/values of the token at position j. */
typedef struct ref_state {
    const tiny_model *m;
    int n, cap, L, kvd;
    int round_q8; /* 1: K and V rows are stored rounded to q8_0, as a q8_0 KV cache holds them */
    double *K, *V; /* [L][cap][kvd] */
} ref_state;

static inline void ref_init(ref_state *r, const tiny_model *m, int cap) {
    r->m = m;
    r->n = 0;
    r->round_q8 = 0;
    r->cap = cap;
    r->L = m->c.n_block * m->c.repeat;
    r->kvd = m->c.n_kv * m->hd;
    r->K = calloc((size_t)r->L * cap * r->kvd, sizeof(double));
    r->V = calloc((size_t)r->L * cap * r->kvd, sizeof(double));
}

static inline void ref_release(ref_state *r) {
    free(r->K);
    free(r->V);
}

/* Appends one token at position r->n. logits: vocab values (or NULL); hidden: embd values after
 * the output norm (or NULL). Applied layer l uses block l / repeat: the blocks are duplicated. */
static inline void ref_step(ref_state *r, int32_t token, double *logits, double *hidden) {
    const tiny_model *m = r->m;
    const tiny_cfg *c = &m->c;
    const int d = c->n_embd, hd = m->hd, q = c->n_head * hd, kvd = r->kvd, t = r->n, cap = r->cap;
    double *x = malloc(sizeof(double) * d), *h = malloc(sizeof(double) * d), *qv = malloc(sizeof(double) * q);
    double *att = malloc(sizeof(double) * q), *tmp = malloc(sizeof(double) * d), *sc = malloc(sizeof(double) * (t + 1));
    double *g = malloc(sizeof(double) * c->n_ff), *u = malloc(sizeof(double) * c->n_ff);
    for (int i = 0; i < d; i++) x[i] = m->tok_embd[(size_t)token * d + i];
    for (int l = 0; l < r->L; l++) {
        const tiny_block *b = &m->blk[l / c->repeat];
        double *Kl = r->K + (size_t)l * cap * kvd, *Vl = r->V + (size_t)l * cap * kvd;
        double *kt = Kl + (size_t)t * kvd, *vt = Vl + (size_t)t * kvd;
        ref_rmsnorm(x, b->attn_norm, d, c->eps, h);
        ref_matvec_t(c->wtype, b->wq, q, d, h, qv);
        ref_matvec_t(c->wtype, b->wk, kvd, d, h, kt);
        ref_matvec_t(tiny_vd_type(c), b->wv, kvd, d, h, vt);
        if (tiny_rope(c, l)) {
            ref_rope(c, qv, c->n_head, hd, t);
            ref_rope(c, kt, c->n_kv, hd, t);
        }
        for (int hh = 0; tiny_qk_norm(c, l) && hh < c->n_head + c->n_kv; hh++) { /* weightless RMS norm per head */
            double *x = hh < c->n_head ? qv + hh * hd : kt + (hh - c->n_head) * hd, ss = 0;
            for (int i = 0; i < hd; i++) ss += x[i] * x[i];
            for (int i = 0; i < hd; i++) x[i] /= sqrt(ss / hd + c->eps);
        }
        for (int v = 0; r->round_q8 && v < 2; v++) {
            double *row = v ? vt : kt;
            float f[1024];
            uint8_t qb[1024 / 32 * 34];
            for (int i = 0; i < kvd; i++) f[i] = (float)row[i];
            mllm_quantize_row(MLLM_TYPE_Q8_0, f, qb, kvd);
            mllm_dequantize_row(MLLM_TYPE_Q8_0, qb, f, kvd);
            for (int i = 0; i < kvd; i++) row[i] = f[i];
        }
        if (tiny_temp(c, l)) {
            const double temp = 1.0 + c->temp_scale * log(floor((t + 1.0) / c->temp_floor) + 1.0);
            for (int i = 0; i < q; i++) qv[i] *= temp;
        }
        const int first = tiny_window(c, l) && t - tiny_window(c, l) + 1 > 0 ? t - tiny_window(c, l) + 1 : 0;
        for (int hh = 0; hh < c->n_head; hh++) {
            int kvh = hh / (c->n_head / c->n_kv);
            double mx = -1e300, sum = 0;
            for (int s = first; s <= t; s++) {
                double dot = 0;
                for (int i = 0; i < hd; i++) dot += qv[hh * hd + i] * Kl[(size_t)s * kvd + kvh * hd + i];
                sc[s] = dot / sqrt((double)hd);
                if (sc[s] > mx) mx = sc[s];
            }
            for (int s = first; s <= t; s++) sum += (sc[s] = exp(sc[s] - mx));
            for (int i = 0; i < hd; i++) {
                double o = 0;
                for (int s = first; s <= t; s++) o += sc[s] * Vl[(size_t)s * kvd + kvh * hd + i];
                att[hh * hd + i] = o / sum;
            }
        }
        ref_matvec_t(c->wtype, b->wo, d, q, att, tmp);
        for (int i = 0; i < d; i++) x[i] += tmp[i];
        ref_rmsnorm(x, b->ffn_norm, d, c->eps, h);
        ref_matvec_t(c->wtype, b->gate, c->n_ff, d, h, g);
        ref_matvec_t(c->wtype, b->up, c->n_ff, d, h, u);
        for (int i = 0; i < c->n_ff; i++) g[i] = g[i] / (1.0 + exp(-g[i])) * u[i];
        ref_matvec_t(tiny_vd_type(c), b->down, d, c->n_ff, g, tmp);
        for (int i = 0; i < d; i++) x[i] += tmp[i];
    }
    ref_rmsnorm(x, m->out_norm, d, c->eps, h);
    if (hidden) memcpy(hidden, h, sizeof(double) * d);
    if (logits) ref_matvec_t(c->wtype, m->output ? m->output : m->tok_embd, c->n_vocab, d, h, logits);
    r->n++;
    free(x); free(h); free(qv); free(att); free(tmp); free(sc); free(g); free(u);
}

/* Context shift as specified: forget slots [keep, keep+discard), move the later slots down and
 * rotate their keys (RoPE layers) by -discard positions. */
static inline void ref_shift(ref_state *r, int keep, int discard) {
    const tiny_model *m = r->m;
    for (int l = 0; l < r->L; l++) {
        for (int s = keep + discard; s < r->n; s++) {
            double *Kd = r->K + ((size_t)l * r->cap + s - discard) * r->kvd, *Ks = r->K + ((size_t)l * r->cap + s) * r->kvd;
            memcpy(Kd, Ks, sizeof(double) * r->kvd);
            if (tiny_rope(&m->c, l)) ref_rope(&m->c, Kd, m->c.n_kv, m->hd, -discard);
            memcpy(r->V + ((size_t)l * r->cap + s - discard) * r->kvd, r->V + ((size_t)l * r->cap + s) * r->kvd,
                   sizeof(double) * r->kvd);
        }
    }
    r->n -= discard;
}

/* Runs tokens[0..n) from position 0; logits n x vocab and hidden n x embd may be NULL. round_q8:
 * as ref_state. */
static inline void ref_forward_kv(const tiny_model *m, const int32_t *tokens, int n, double *logits, double *hidden,
                                  int round_q8) {
    ref_state r;
    ref_init(&r, m, n);
    r.round_q8 = round_q8;
    for (int t = 0; t < n; t++) {
        ref_step(&r, tokens[t], logits ? logits + (size_t)t * m->c.n_vocab : NULL,
                 hidden ? hidden + (size_t)t * m->c.n_embd : NULL);
    }
    ref_release(&r);
}

static inline void ref_forward(const tiny_model *m, const int32_t *tokens, int n, double *logits, double *hidden) {
    ref_forward_kv(m, tokens, n, logits, hidden, 0);
}

#endif
