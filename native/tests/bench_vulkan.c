/* Speed of MobileLLM-shaped models (125M, 350M, 600M, 1B, 1.5B; random weights written straight in
 * F16, Q8_0, Q5_0 or Q4_0 blocks, or a Q4_K_M-like mix of Q4_K and Q6_K) on a backend, measured like
 * llama.cpp's llama-bench: pp128 and pp512 (one
 * prompt batch from an empty context) and tg128 (128 single-token steps from an empty context),
 * each the median of R repetitions. Not a test: built as bench_vulkan (cpu runs without Vulkan too).
 *   bench_vulkan [vulkan|cpu] [-r R] [-k DIR] [-t f16,q8_0,q5_0,q4_0,q4_k_m] [shape ...]   (shapes: 125M 350M 600M 1B 1.5B)
 * -k keeps the model files in DIR (mobilellm-<shape>-<type>-bench.gguf, reused when present) so
 * llama-bench can run the very same files: they carry a LLaMA-style vocabulary (<unk>, <s>, </s>,
 * the 256 byte pieces, then filler pieces). One JSON object per line on stdout. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mobilellm.h"
#include "quant/quant.h"
#include "util/gguf_writer.h"

typedef struct shape {
    const char *name;
    int dim, n_layer, n_head, n_kv, ffn, vocab;
} shape;

static const shape k_shapes[] = {
    {"125M", 576, 30, 9, 3, 1536, 32000},
    {"350M", 960, 32, 15, 5, 2560, 32000},
    {"600M", 1152, 40, 18, 6, 3072, 32000},
    {"1B", 1280, 54, 20, 5, 3584, 32000},
    {"1.5B", 1600, 54, 25, 5, 4352, 32000},
    {"tiny", 256, 2, 4, 2, 512, 1024}, /* a smoke test of the bench itself; only when named */
};

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static inline uint64_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

/* rows x cols random weights of `type`, scaled like a trained matrix (std ~ 1/sqrt(cols)). */
static void put_matrix(gw_file *f, const char *name, int32_t type, int rows, int cols) {
    size_t bytes = (size_t)mllm_row_bytes(type, cols) * (size_t)rows;
    uint8_t *p = malloc(bytes);
    const float sd = 1.0f / sqrtf((float)cols);
    if (type == MLLM_TYPE_F16) {
        uint16_t *h = (uint16_t *)p;
        for (size_t i = 0; i < bytes / 2; i++) h[i] = mllm_fp32_to_fp16(((float)(rnd() >> 40) / (float)(1 << 24) * 2 - 1) * 1.7f * sd);
    } else if (type == MLLM_TYPE_Q4_K || type == MLLM_TYPE_Q6_K) {
        /* random quants and scales; the super-block scales sized so values stay near sd */
        const size_t bb = type == MLLM_TYPE_Q4_K ? 144 : 210, d_at = type == MLLM_TYPE_Q4_K ? 0 : 208;
        const uint16_t d = mllm_fp32_to_fp16(type == MLLM_TYPE_Q4_K ? 1.7f * sd / (8 * 32) : 1.7f * sd / (32 * 64));
        for (size_t o = 0; o < bytes; o += bb) {
            for (size_t j = 0; j < bb; j += 8) {
                uint64_t r = rnd();
                memcpy(p + o + j, &r, bb - j < 8 ? bb - j : 8);
            }
            memcpy(p + o + d_at, &d, 2);
            if (type == MLLM_TYPE_Q4_K) memcpy(p + o + 2, &d, 2); /* dmin */
        }
    } else {
        const size_t bb = type == MLLM_TYPE_Q8_0 ? 34 : type == MLLM_TYPE_Q5_0 ? 22 : 18;
        const float qmax = type == MLLM_TYPE_Q8_0 ? 127 : type == MLLM_TYPE_Q5_0 ? 16 : 8;
        const uint16_t d = mllm_fp32_to_fp16(1.7f * sd / qmax);
        for (size_t o = 0; o < bytes; o += bb) {
            memcpy(p + o, &d, 2);
            for (size_t j = 2; j < bb; j += 8) {
                uint64_t r = rnd();
                memcpy(p + o + j, &r, bb - j < 8 ? bb - j : 8);
            }
        }
    }
    uint64_t ne[2] = {(uint64_t)cols, (uint64_t)rows};
    gwf_tensor(f, name, (uint32_t)type, 2, ne, p, bytes);
    free(p);
}

static void put_norm(gw_file *f, const char *name, int n) {
    float *w = malloc(sizeof(float) * (size_t)n);
    for (int i = 0; i < n; i++) w[i] = 1.0f;
    uint64_t ne[1] = {(uint64_t)n};
    gwf_tensor(f, name, MLLM_TYPE_F32, 1, ne, w, sizeof(float) * (size_t)n);
    free(w);
}

/* The matrix type of a file of `type`. Q4_K files mix like llama.cpp's Q4_K_M: Q6_K for attn_v,
 * ffn_down and the embedding, Q4_K elsewhere; rows that are no whole number of 256-element
 * super-blocks fall back to Q8_0. */
static int32_t matrix_type(int32_t type, int more_bits, int cols) {
    if (type != MLLM_TYPE_Q4_K) return type;
    if (cols % 256 != 0) return MLLM_TYPE_Q8_0;
    return more_bits ? MLLM_TYPE_Q6_K : MLLM_TYPE_Q4_K;
}

static int write_model(const shape *s, int32_t type, const char *path) {
    gw_file f;
    gwf_init(&f);
    gwf_str(&f, "general.architecture", "llama");
    gwf_str(&f, "general.name", s->name);
    gwf_u32(&f, "llama.context_length", 2048);
    gwf_u32(&f, "llama.embedding_length", (uint32_t)s->dim);
    gwf_u32(&f, "llama.block_count", (uint32_t)s->n_layer);
    gwf_u32(&f, "llama.feed_forward_length", (uint32_t)s->ffn);
    gwf_u32(&f, "llama.attention.head_count", (uint32_t)s->n_head);
    gwf_u32(&f, "llama.attention.head_count_kv", (uint32_t)s->n_kv);
    gwf_u32(&f, "llama.rope.dimension_count", (uint32_t)(s->dim / s->n_head));
    gwf_f32(&f, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    gwf_f32(&f, "llama.rope.freq_base", 10000.0f);
    /* a vocabulary llama.cpp accepts: <unk> <s> </s>, byte pieces, filler pieces */
    const char **pieces = malloc(sizeof(char *) * (size_t)s->vocab);
    char(*names)[12] = malloc(12 * (size_t)s->vocab);
    float *scores = malloc(sizeof(float) * (size_t)s->vocab);
    int32_t *kinds = malloc(sizeof(int32_t) * (size_t)s->vocab);
    for (int i = 0; i < s->vocab; i++) {
        if (i < 3) snprintf(names[i], 12, "%s", i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>");
        else if (i < 259) snprintf(names[i], 12, "<0x%02X>", i - 3);
        else snprintf(names[i], 12, "p%d", i);
        pieces[i] = names[i];
        scores[i] = i < 259 ? 0.0f : -(float)i;
        kinds[i] = i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1; /* unknown, control, byte, normal */
    }
    gwf_str(&f, "tokenizer.ggml.model", "llama");
    gwf_arr_str(&f, "tokenizer.ggml.tokens", pieces, (uint64_t)s->vocab);
    gwf_arr_f32(&f, "tokenizer.ggml.scores", scores, (uint64_t)s->vocab);
    gwf_arr_i32(&f, "tokenizer.ggml.token_type", kinds, (uint64_t)s->vocab);
    gwf_u32(&f, "tokenizer.ggml.unknown_token_id", 0);
    gwf_u32(&f, "tokenizer.ggml.bos_token_id", 1);
    gwf_u32(&f, "tokenizer.ggml.eos_token_id", 2);
    free(pieces);
    free(names);
    free(scores);
    free(kinds);
    const int hd = s->dim / s->n_head;
    put_matrix(&f, "token_embd.weight", matrix_type(type, 1, s->dim), s->vocab, s->dim);
    put_norm(&f, "output_norm.weight", s->dim);
    for (int b = 0; b < s->n_layer; b++) {
        char n[64];
#define NM(x) (snprintf(n, sizeof n, "blk.%d.%s.weight", b, x), n)
        put_norm(&f, NM("attn_norm"), s->dim);
        put_matrix(&f, NM("attn_q"), matrix_type(type, 0, s->dim), s->n_head * hd, s->dim);
        put_matrix(&f, NM("attn_k"), matrix_type(type, 0, s->dim), s->n_kv * hd, s->dim);
        put_matrix(&f, NM("attn_v"), matrix_type(type, 1, s->dim), s->n_kv * hd, s->dim);
        put_matrix(&f, NM("attn_output"), matrix_type(type, 0, s->n_head * hd), s->dim, s->n_head * hd);
        put_norm(&f, NM("ffn_norm"), s->dim);
        put_matrix(&f, NM("ffn_gate"), matrix_type(type, 0, s->dim), s->ffn, s->dim);
        put_matrix(&f, NM("ffn_up"), matrix_type(type, 0, s->dim), s->ffn, s->dim);
        put_matrix(&f, NM("ffn_down"), matrix_type(type, 1, s->ffn), s->dim, s->ffn);
#undef NM
    }
    gw_buf out;
    gwf_finish(&f, &out);
    int r = gw_write(path, out.p, out.len);
    gw_free(&out);
    gwf_free(&f);
    return r;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int32_t argmax(const float *x, int n) {
    int32_t b = 0;
    for (int i = 1; i < n; i++) if (x[i] > x[b]) b = i;
    return b;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* tokens/s of one prompt batch of n tokens from an empty context */
static double run_prompt(mllm_session *ss, const int32_t *toks, int n) {
    mllm_session_reset(ss);
    double t0 = now();
    if (mllm_session_eval(ss, toks, n, MLLM_LOGITS_LAST)) return -1;
    return n / (now() - t0);
}

/* tokens/s of n single-token steps from an empty context (each step reads its logits back) */
static double run_decode(mllm_session *ss, int vocab, int n) {
    mllm_session_reset(ss);
    int32_t t = 1, rows;
    double t0 = now();
    for (int g = 0; g < n; g++) {
        if (mllm_session_eval(ss, &t, 1, MLLM_LOGITS_LAST)) return -1;
        t = argmax(mllm_session_logits(ss, &rows), vocab);
    }
    return n / (now() - t0);
}

int main(int argc, char **argv) {
    int backend = MLLM_BACKEND_VULKAN, reps = 3;
    const char *keep = NULL, *type_list = "f16,q8_0,q4_0";
    const char *shapes[8];
    int n_shapes = 0;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "cpu") == 0) backend = MLLM_BACKEND_CPU;
        else if (strcmp(argv[a], "vulkan") == 0) backend = MLLM_BACKEND_VULKAN;
        else if (strcmp(argv[a], "-r") == 0 && a + 1 < argc) reps = atoi(argv[++a]);
        else if (strcmp(argv[a], "-k") == 0 && a + 1 < argc) keep = argv[++a];
        else if (strcmp(argv[a], "-t") == 0 && a + 1 < argc) type_list = argv[++a];
        else if (n_shapes < 8 && argv[a][0] != '-') shapes[n_shapes++] = argv[a];
        else {
            fprintf(stderr, "usage: %s [vulkan|cpu] [-r R] [-k DIR] [-t f16,q8_0,q5_0,q4_0,q4_k_m] [125M|350M|600M|1B|1.5B ...]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1 || reps > 50) reps = 3;
    const int32_t types[] = {MLLM_TYPE_F16, MLLM_TYPE_Q8_0, MLLM_TYPE_Q5_0, MLLM_TYPE_Q4_0, MLLM_TYPE_Q4_K};
    const char *tnames[] = {"f16", "q8_0", "q5_0", "q4_0", "q4_k_m"};
    enum { N_GEN = 128 };
    for (size_t si = 0; si < sizeof k_shapes / sizeof k_shapes[0]; si++) {
        const shape *s = &k_shapes[si];
        int wanted = n_shapes == 0 && strcmp(s->name, "tiny") != 0;
        for (int a = 0; a < n_shapes; a++) wanted |= strcmp(shapes[a], s->name) == 0;
        if (!wanted) continue;
        for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
            if (!strstr(type_list, tnames[ti])) continue;
            char path[512];
            if (keep) snprintf(path, sizeof path, "%s/mobilellm-%s-%s-bench.gguf", keep, s->name, tnames[ti]);
            else snprintf(path, sizeof path, "/tmp/mllm_bench_%s_%s.gguf", s->name, tnames[ti]);
            double t0 = now();
            if ((!keep || access(path, R_OK) != 0) && write_model(s, types[ti], path)) {
                fprintf(stderr, "cannot write %s\n", path);
                return 1;
            }
            mllm_model_params mp;
            mllm_model_params_init(&mp);
            mp.backend = backend;
            mllm_model *m = NULL;
            mllm_session *ss = NULL;
            mllm_session_params sp;
            mllm_session_params_init(&sp);
            sp.n_ctx = 1024;
            sp.n_batch = 512;
            double t1 = now();
            if (mllm_model_load(path, &mp, &m) || mllm_session_create(m, &sp, &ss)) {
                fprintf(stderr, "%s %s: %s\n", s->name, tnames[ti], mllm_last_error());
                mllm_model_free(m);
                if (!keep) unlink(path);
                continue;
            }
            double t2 = now();
            int32_t toks[512];
            for (int i = 0; i < 512; i++) toks[i] = 1 + (int32_t)(rnd() % (uint64_t)(s->vocab - 1));
            /* warm-up: records the command buffers of every graph shape used below */
            run_prompt(ss, toks, 128);
            run_prompt(ss, toks, 512);
            run_decode(ss, s->vocab, 4);
            double pp128[50], pp512[50], tg[50];
            int ok = 1;
            for (int r = 0; r < reps && ok; r++) {
                pp128[r] = run_prompt(ss, toks, 128);
                pp512[r] = run_prompt(ss, toks, 512);
                tg[r] = run_decode(ss, s->vocab, N_GEN);
                ok = pp128[r] > 0 && pp512[r] > 0 && tg[r] > 0;
            }
            if (!ok) fprintf(stderr, "%s %s: %s\n", s->name, tnames[ti], mllm_last_error());
            else
                printf("{\"engine\": \"mobilellm4j\", \"backend\": \"%s\", \"shape\": \"%s\", \"type\": \"%s\", \"reps\": %d, "
                       "\"pp128\": %.1f, \"pp512\": %.1f, \"tg128\": %.1f, \"write_s\": %.2f, \"load_upload_s\": %.2f}\n",
                       backend == MLLM_BACKEND_VULKAN ? "vulkan" : "cpu", s->name, tnames[ti], reps, median(pp128, reps),
                       median(pp512, reps), median(tg, reps), t1 - t0, t2 - t1);
            fflush(stdout);
            mllm_session_free(ss);
            mllm_model_free(m);
            if (!keep) unlink(path);
        }
    }
    return 0;
}
