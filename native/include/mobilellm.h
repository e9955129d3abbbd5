/*
 * mobilellm.h - public C API of the mobilellm4j native engine.
 *
 * Conventions
 *  - Every handle is opaque and created/freed explicitly (`*_create`/`*_load` and `*_free`).
 *    Free functions accept NULL.
 *  - Functions that can fail return mllm_status; MLLM_OK is 0. On failure a human-readable
 *    message naming the problem is kept per thread and read with mllm_last_error().
 *  - No function aborts the process on bad arguments: NULL pointers, out-of-range values and
 *    misuse are reported as MLLM_ERR_INVALID_ARGUMENT (or the status named below).
 *  - A model is immutable after loading and may be shared by threads. A session (one sequence's
 *    KV cache) must be used by one thread at a time. Everything else a model's evaluations need
 *    (weights as the backend reads them, activation memory, threads or GPU queue) belongs to the
 *    model and is shared by its sessions: evaluations of one model run one at a time, callers on
 *    several threads taking turns in arrival order (chunk by chunk). Many sequences are best
 *    advanced together in one pass: see mllm_batch and mllm_scheduler.
 *  - Sizes are in elements unless named *_bytes. Token ids are int32_t.
 */
#ifndef MOBILELLM_H
#define MOBILELLM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define MLLM_API __declspec(dllexport)
#else
#define MLLM_API __attribute__((visibility("default")))
#endif

/* Bumped on every incompatible change of this header (also of a documented behaviour, such as the decode
 * contract below); the Java bindings check it at load. */
#define MLLM_ABI_VERSION 4

/* ---------------------------------------------------------------------------------------------
 * Status and errors
 * ------------------------------------------------------------------------------------------- */
typedef enum mllm_status {
    MLLM_OK = 0,
    MLLM_ERR_INVALID_ARGUMENT = 1, /* NULL pointer, value out of range, buffer too small */
    MLLM_ERR_IO = 2,               /* file missing, unreadable, mmap failed */
    MLLM_ERR_FORMAT = 3,           /* malformed GGUF / model metadata */
    MLLM_ERR_UNSUPPORTED = 4,      /* valid input we do not implement (type, architecture) */
    MLLM_ERR_OUT_OF_MEMORY = 5,
    MLLM_ERR_CONTEXT_FULL = 6,     /* the session's context cannot hold the tokens */
    MLLM_ERR_BACKEND = 7,          /* the requested backend is unavailable or failed */
    MLLM_ERR_STATE = 8,            /* call not valid in the object's current state */
    MLLM_ERR_CANCELLED = 9         /* stopped by mllm_session_cancel or an abort callback; the session is
                                      as before the call (see mllm_session_eval) */
} mllm_status;

MLLM_API int32_t mllm_abi_version(void);
/* Library version string, e.g. "0.1.0". */
MLLM_API const char *mllm_version(void);
/* The message of the last failed call on this thread ("" if none). Valid until the next call. */
MLLM_API const char *mllm_last_error(void);
/* Name of a status code, e.g. "MLLM_ERR_FORMAT". */
MLLM_API const char *mllm_status_name(mllm_status status);

/* ---------------------------------------------------------------------------------------------
 * Tensor types (numbering identical to ggml's ggml_type, as stored in GGUF files)
 * ------------------------------------------------------------------------------------------- */
typedef enum mllm_type {
    MLLM_TYPE_F32 = 0,
    MLLM_TYPE_F16 = 1,
    MLLM_TYPE_Q4_0 = 2,
    MLLM_TYPE_Q4_1 = 3,
    MLLM_TYPE_Q5_0 = 6,
    MLLM_TYPE_Q5_1 = 7,
    MLLM_TYPE_Q8_0 = 8,
    MLLM_TYPE_Q8_1 = 9,
    MLLM_TYPE_Q2_K = 10,
    MLLM_TYPE_Q3_K = 11,
    MLLM_TYPE_Q4_K = 12,
    MLLM_TYPE_Q5_K = 13,
    MLLM_TYPE_Q6_K = 14,
    MLLM_TYPE_Q8_K = 15,
    MLLM_TYPE_BF16 = 30
} mllm_type;

/* "f32", "q4_0", ...; NULL for an unknown type. */
MLLM_API const char *mllm_type_name(int32_t type);
/* 1 if the engine can store weights of this type and run matmuls on them. */
MLLM_API int32_t mllm_type_supported(int32_t type);
/* Elements per block (1 for f32/f16/bf16, 32 for q8_0 ...); 0 for an unknown type. */
MLLM_API int64_t mllm_type_block_size(int32_t type);
/* Bytes per block; 0 for an unknown type. */
MLLM_API int64_t mllm_type_block_bytes(int32_t type);
/* Bytes of a row of n elements; -1 if n is not a multiple of the block size, the type is unknown
 * or the size does not fit int64_t. */
MLLM_API int64_t mllm_row_bytes(int32_t type, int64_t n);
/* Quantize (or convert) n floats to `type`, writing exactly mllm_row_bytes(type, n) bytes.
 * Bit-identical to ggml's reference quantizers for the 32-element types; q4_k, q5_k and q6_k
 * (n a multiple of 256) use our own quantizer in ggml's layout (docs/k-quants.md). */
MLLM_API mllm_status mllm_quantize_row(int32_t type, const float *src, void *dst, int64_t n);
/* Inverse of mllm_quantize_row. */
MLLM_API mllm_status mllm_dequantize_row(int32_t type, const void *src, float *dst, int64_t n);

/* ---------------------------------------------------------------------------------------------
 * CPU features and kernel level
 * ------------------------------------------------------------------------------------------- */
/* Space-separated features detected on this CPU, e.g. "sse4.2 avx2 fma f16c avx512f ...". */
MLLM_API const char *mllm_cpu_features(void);
/* The kernel level in use ("scalar", "avx2", "avx512", "avx512vnni", "amx", "neon", ...).
 * The environment variable MOBILELLM_CPU (read once) or mllm_set_cpu_level() lowers it. */
MLLM_API const char *mllm_cpu_level(void);
/* Force a kernel level no higher than the CPU supports; MLLM_ERR_UNSUPPORTED otherwise.
 * Affects models loaded afterwards. */
MLLM_API mllm_status mllm_set_cpu_level(const char *level);

/* ---------------------------------------------------------------------------------------------
 * Models
 * ------------------------------------------------------------------------------------------- */
typedef struct mllm_model mllm_model;

typedef enum mllm_backend {
    MLLM_BACKEND_CPU = 0,
    MLLM_BACKEND_VULKAN = 1,
    MLLM_BACKEND_AUTO = 2 /* the best available GPU backend, else the CPU */
} mllm_backend;

/* Where a CPU model's worker threads come from (mllm_model_params.pool). Sessions never start
 * threads: every evaluation of a model runs on its pool, one at a time, callers taking turns in
 * arrival order; an idle pool sleeps. */
typedef enum mllm_pool_kind {
    MLLM_POOL_MODEL = 0,  /* the model starts its own n_threads - 1 workers (the caller is the n-th) */
    MLLM_POOL_PROCESS = 1 /* one pool for the whole process, started by the first model asking for it with
                             its n_threads; every model asking for it since shares it (models then take
                             turns too) and runs on min(n_threads, its size) threads */
} mllm_pool_kind;

typedef struct mllm_model_params {
    int32_t n_threads;  /* CPU threads; 0 = number of cores */
    int32_t use_mmap;   /* 1 = map the file (default), 0 = read it into memory */
    int32_t backend;    /* mllm_backend */
    int32_t gpu_device; /* index among the backend's devices; -1 = choose automatically */
    int32_t pool;       /* mllm_pool_kind; default MLLM_POOL_MODEL */
} mllm_model_params;

MLLM_API void mllm_model_params_init(mllm_model_params *params);

/* Loads a GGUF file (architectures "llama", "mobilellm", "llama4" (MobileLLM-R1, dense) and
 * "mobilellm-pro"; docs/gguf-conventions.md). Every header field, metadata value
 * and tensor descriptor is validated before use, and sizes the metadata declares are checked
 * against the tensors the file holds before anything is allocated from them (docs/reliability.md
 * lists the limits). A path that is not a regular file (directory, FIFO, device) fails with
 * MLLM_ERR_IO without blocking. With use_mmap = 1 the file must not be truncated while the model
 * lives (reading a page past the new end raises SIGBUS); use_mmap = 0 reads it into memory. */
MLLM_API mllm_status mllm_model_load(const char *path, const mllm_model_params *params,
                                     mllm_model **out_model);
MLLM_API void mllm_model_free(mllm_model *model);

typedef struct mllm_model_info {
    char architecture[32];  /* "llama", "mobilellm", "llama4" or "mobilellm-pro" */
    char name[128];         /* general.name, "" if absent */
    int32_t n_vocab;
    int32_t n_ctx_train;
    int32_t n_embd;
    int32_t n_ff;
    int32_t n_head;
    int32_t n_head_kv;
    int32_t head_dim;
    int32_t n_block;        /* distinct blocks stored in the file */
    int32_t block_repeat;   /* times each block is applied in a row (1 = no layer sharing) */
    int32_t n_layer;        /* applied layers = n_block * block_repeat (KV-cache slots) */
    float rms_norm_eps;
    float rope_freq_base;
    int32_t file_type;      /* general.file_type, -1 if absent */
    int32_t tied_embeddings;/* 1 if the output head is token_embd */
    int64_t n_params;       /* parameters stored in the file */
    int64_t size_bytes;     /* bytes of tensor data */
    int32_t bos_token;      /* -1 if none */
    int32_t eos_token;
    int32_t unk_token;
    int32_t pad_token;
    int32_t add_bos;
    int32_t add_eos;
    int32_t backend;        /* mllm_backend actually in use */
    int32_t n_threads;      /* threads actually in use */
} mllm_model_info;

MLLM_API mllm_status mllm_model_get_info(const mllm_model *model, mllm_model_info *out_info);

/* Memory the model's backend holds right now, in bytes: its weights (CPU: the tensor data the
 * kernels read, repacked or in the file; GPU: the uploaded copy, one for all sessions), the KV
 * caches of its sessions, and its compute state (activations and scratch, one for all sessions,
 * sized for the largest batch and context asked for). device_memory is 1 when these live in GPU
 * memory. */
typedef struct mllm_memory_info {
    int64_t weights_bytes;
    int64_t kv_bytes;
    int64_t compute_bytes;
    int32_t device_memory;
} mllm_memory_info;

MLLM_API mllm_status mllm_model_get_memory(const mllm_model *model, mllm_memory_info *out_info);

/* Metadata key/value pairs of the GGUF file, values rendered as text (arrays abbreviated). */
MLLM_API int32_t mllm_model_meta_count(const mllm_model *model);
/* Copies the i-th key / value as a NUL-terminated string into buf. Returns the full length
 * (excluding NUL), or -1 if i is out of range. Truncates when buf_size is too small. */
MLLM_API int32_t mllm_model_meta_key(const mllm_model *model, int32_t i, char *buf, int32_t buf_size);
MLLM_API int32_t mllm_model_meta_value(const mllm_model *model, int32_t i, char *buf, int32_t buf_size);

typedef struct mllm_tensor_info {
    char name[64];
    int32_t type;      /* mllm_type */
    int32_t n_dims;
    int64_t ne[4];     /* elements per dimension, ne[0] innermost (GGUF order) */
    uint64_t offset;   /* byte offset inside the data section */
    uint64_t n_bytes;
} mllm_tensor_info;

MLLM_API int32_t mllm_model_tensor_count(const mllm_model *model);
MLLM_API mllm_status mllm_model_tensor_info(const mllm_model *model, int32_t i, mllm_tensor_info *out_info);

/* ---------------------------------------------------------------------------------------------
 * Tokenizer: SentencePiece BPE (tokenizer.ggml.model "llama") or byte-level BPE ("gpt2", with
 * tokenizer.ggml.merges and the pre-tokenizer tokenizer.ggml.pre), as described by the
 * tokenizer.ggml.* keys (docs/gguf-conventions.md)
 * ------------------------------------------------------------------------------------------- */
typedef enum mllm_token_type {
    MLLM_TOKEN_NORMAL = 1,
    MLLM_TOKEN_UNKNOWN = 2,
    MLLM_TOKEN_CONTROL = 3,
    MLLM_TOKEN_USER_DEFINED = 4,
    MLLM_TOKEN_UNUSED = 5,
    MLLM_TOKEN_BYTE = 6
} mllm_token_type;

/* Encodes text_len bytes of UTF-8 text (at most 715827881 bytes, about 682 MiB, per call).
 * add_bos: prepend BOS (-1 = the model's add_bos setting; EOS is never appended).
 * parse_special: 1 = control tokens written in the text (e.g. "<s>", "<|eot_id|>") become those
 * tokens; 0 = they are plain text. User-defined (added) tokens are always matched. Byte-level
 * vocabularies read ill-formed UTF-8 as its lossy decoding (U+FFFD). Returns the number of tokens;
 * if it exceeds n_max, returns its negation and
 * writes nothing (call again with a larger buffer). Returns INT32_MIN on error. */
MLLM_API int32_t mllm_tokenize(const mllm_model *model, const char *text, int32_t text_len,
                               int32_t *tokens, int32_t n_max, int32_t add_bos, int32_t parse_special);

/* Decodes tokens to UTF-8 as the vocabulary's tokenizer does: control tokens vanish; SentencePiece:
 * byte tokens become bytes and the dummy-prefix space of the first piece is removed; byte-level:
 * the tokens' bytes are joined and ill-formed sequences become U+FFFD. Returns the byte length; if it exceeds
 * buf_size, returns its negation (buffer contents unspecified). INT32_MIN on error. */
MLLM_API int32_t mllm_detokenize(const mllm_model *model, const int32_t *tokens, int32_t n_tokens,
                                 char *buf, int32_t buf_size);

/* The vocabulary entry as stored ("▁the", "<0x0A>", "<s>", "Ġthe"), NUL-terminated, or NULL if out of
 * range. Valid while the model lives. */
MLLM_API const char *mllm_token_piece(const mllm_model *model, int32_t token);
MLLM_API float mllm_token_score(const mllm_model *model, int32_t token);
/* mllm_token_type, or -1 if out of range. */
MLLM_API int32_t mllm_token_type_of(const mllm_model *model, int32_t token);

/* Streaming detokenizer: turns tokens into UTF-8 text incrementally, never emitting part of a
 * character (byte tokens are held until the character is complete). */
typedef struct mllm_detokenizer mllm_detokenizer;
/* strip_leading_space: remove the dummy-prefix space from the first emitted text (SentencePiece
 * vocabularies with a dummy prefix only). */
MLLM_API mllm_status mllm_detokenizer_create(const mllm_model *model, int32_t strip_leading_space,
                                             mllm_detokenizer **out);
MLLM_API void mllm_detokenizer_free(mllm_detokenizer *detok);
/* Appends the text completed by `token` to buf. Returns bytes written (possibly 0); if buf is too
 * small returns the negated size needed and consumes nothing. INT32_MIN on error. */
MLLM_API int32_t mllm_detokenizer_push(mllm_detokenizer *detok, int32_t token, char *buf, int32_t buf_size);
/* Emits what is still held (invalid sequences become U+FFFD) and resets. Same return convention. */
MLLM_API int32_t mllm_detokenizer_flush(mllm_detokenizer *detok, char *buf, int32_t buf_size);

/* ---------------------------------------------------------------------------------------------
 * Sessions: one sequence's KV cache and compute state
 * ------------------------------------------------------------------------------------------- */
typedef struct mllm_session mllm_session;

typedef enum mllm_kv_type {
    MLLM_KV_F16 = 0,
    MLLM_KV_F32 = 1,
    MLLM_KV_Q8_0 = 2 /* blocks of 32 values with an f16 scale (ggml's q8_0): about half of f16's memory;
                        needs n_head_kv * head_dim to be a multiple of 32; CPU backend only */
} mllm_kv_type;

/* Session context lengths (mllm_session_params.n_ctx). A model file's context_length is what the
 * model was trained for, not a budget: 0 (the default) gives min(n_ctx_train, MLLM_DEFAULT_N_CTX)
 * tokens, MLLM_N_CTX_TRAIN the full training context, a positive value exactly that many tokens
 * (up to MLLM_MAX_N_CTX). A context whose KV cache and position tables need more than the
 * machine's physical memory is refused with MLLM_ERR_OUT_OF_MEMORY before anything is allocated. */
#define MLLM_DEFAULT_N_CTX 4096
#define MLLM_N_CTX_TRAIN (-1)
#define MLLM_MAX_N_CTX (1 << 20)

typedef struct mllm_session_params {
    int32_t n_ctx;        /* context length in tokens; 0 = min(n_ctx_train, MLLM_DEFAULT_N_CTX),
                             MLLM_N_CTX_TRAIN (-1) = n_ctx_train, else 1..MLLM_MAX_N_CTX */
    int32_t n_batch;      /* max tokens evaluated per graph run (prompts are chunked); default 256 */
    int32_t kv_type;      /* mllm_kv_type; default MLLM_KV_F16 */
    int32_t n_threads;    /* 0 = the model's thread count */
    int32_t context_shift;/* 1 = when full, drop the oldest tokens after n_keep and continue;
                             0 (default) = MLLM_ERR_CONTEXT_FULL */
    int32_t n_keep;       /* tokens kept at the start on a context shift (e.g. 1 for BOS); >= 0,
                             and < n_ctx when context_shift is on (ignored otherwise) */
} mllm_session_params;

MLLM_API void mllm_session_params_init(mllm_session_params *params);
MLLM_API mllm_status mllm_session_create(mllm_model *model, const mllm_session_params *params,
                                         mllm_session **out_session);
MLLM_API void mllm_session_free(mllm_session *session);

typedef enum mllm_logits_mode {
    MLLM_LOGITS_LAST = 0, /* logits of the last token only */
    MLLM_LOGITS_ALL = 1,  /* logits of every token of this call */
    MLLM_LOGITS_NONE = 2  /* no logits (prefill only) */
} mllm_logits_mode;

/* Appends n_tokens to the sequence and runs the model over them (in chunks of n_batch).
 * Afterwards mllm_session_logits() holds the logits the mode asked for. Without context_shift, a
 * call whose tokens do not fit is rejected with MLLM_ERR_CONTEXT_FULL before anything is evaluated.
 * A call that fails, or is cancelled (MLLM_ERR_CANCELLED, see mllm_session_cancel), leaves the
 * sequence as it was (n_past unchanged; tokens a context shift already dropped stay dropped). */
MLLM_API mllm_status mllm_session_eval(mllm_session *session, const int32_t *tokens, int32_t n_tokens,
                                       int32_t logits_mode);
/* Row-major [n_rows x n_vocab] float logits of the last eval; *n_rows receives the row count.
 * Valid until the next eval, reset or free. NULL if none. */
MLLM_API const float *mllm_session_logits(const mllm_session *session, int32_t *n_rows);
/* Tokens currently in the KV cache. */
MLLM_API int32_t mllm_session_n_past(const mllm_session *session);
MLLM_API int32_t mllm_session_n_ctx(const mllm_session *session);
/* Keeps the first n_keep tokens of the sequence and forgets the rest. A model with sliding-window
 * layers keeps only the last window + n_batch - 1 positions of those layers (a ring): when that no
 * longer holds the keys the next tokens after n_keep would attend to, nothing is kept (as after
 * a reset). mllm_session_n_past tells how many tokens were kept. */
MLLM_API mllm_status mllm_session_truncate(mllm_session *session, int32_t n_keep);
MLLM_API mllm_status mllm_session_reset(mllm_session *session);

/* Scores a text continuation: appends tokens, and writes nll[i] = -log p(tokens[i+1] | prefix)
 * for i in [0, n_tokens-1) (natural log; n_tokens-1 values), without keeping all logits. */
MLLM_API mllm_status mllm_session_score(mllm_session *session, const int32_t *tokens, int32_t n_tokens,
                                        float *nll);

/* ---------------------------------------------------------------------------------------------
 * Cancellation
 * ------------------------------------------------------------------------------------------- */
/* Asked during a model call in the session (eval, score, embed, a generation): non-zero stops it. */
typedef int32_t (*mllm_abort_callback)(void *user_data);

/* Sets (cb non-NULL) or clears the session's abort callback. It is called on the thread running
 * the call: on the CPU once per layer, on a GPU between chunks. A call it stops returns
 * MLLM_ERR_CANCELLED and leaves the session usable and unchanged; a generation ends with
 * MLLM_STOP_CANCELLED. Not while a call runs in the session. */
MLLM_API mllm_status mllm_session_set_abort_callback(mllm_session *session, mllm_abort_callback cb, void *user_data);
/* Asks the model call running in the session to stop (from any thread, also while the call runs):
 * it returns MLLM_ERR_CANCELLED within about one layer's time on the CPU (one chunk on a GPU) and
 * leaves the session usable and unchanged; a generation in a scheduler ends with
 * MLLM_STOP_CANCELLED at its next step. The request is used up by the call it stops; made while no
 * call runs, it stops the next one (so a request made just as a call starts is never lost). */
MLLM_API mllm_status mllm_session_cancel(mllm_session *session);

/* ---------------------------------------------------------------------------------------------
 * Session state: saving and restoring a sequence's KV cache, sharing a prompt's prefix
 * ------------------------------------------------------------------------------------------- */
/* Format version of saved states (mllm_session_state_save); states of other versions are refused. */
#define MLLM_STATE_VERSION 1

/* Bytes mllm_session_state_save writes for the session as it is now. */
MLLM_API mllm_status mllm_session_state_size(const mllm_session *session, int64_t *out_bytes);
/* Writes the session's state: its n_past KV-cache rows, the last logits row (if any) and what they
 * belong to (the model's fingerprint: a hash of its hyper-parameters, tensor table and the first
 * bytes of every tensor; the KV type), followed by a checksum. *out_written receives the size
 * (also when buf_size is too small: MLLM_ERR_INVALID_ARGUMENT then, nothing written). A model with
 * sliding-window layers keeps only their last window + n_batch - 1 positions (a ring): its state can
 * be saved while the sequence still fits there, and MLLM_ERR_UNSUPPORTED says so once it does not. */
MLLM_API mllm_status mllm_session_state_save(const mllm_session *session, void *buf, int64_t buf_size, int64_t *out_written);
/* Restores a state saved by mllm_session_state_save into a session of the same model and KV type
 * whose context holds it: afterwards the session continues exactly as the saved one would (same
 * logits on the CPU backend, bit for bit). Refused with a message naming the problem, the session
 * unchanged: MLLM_ERR_FORMAT (not a state, truncated, checksum mismatch), MLLM_ERR_UNSUPPORTED
 * (another format version, or more tokens than this session's sliding-window rings hold),
 * MLLM_ERR_INVALID_ARGUMENT (another model, KV type, or too long for this session's n_ctx). */
MLLM_API mllm_status mllm_session_state_load(mllm_session *session, const void *buf, int64_t size);
/* The same through a file. Saving writes a temporary file next to `path` and renames it, so
 * `path` is either the complete state or untouched. */
MLLM_API mllm_status mllm_session_state_save_file(const mllm_session *session, const char *path);
MLLM_API mllm_status mllm_session_state_load_file(mllm_session *session, const char *path);
/* Prefix sharing: makes dst's sequence the first n_tokens tokens of src's (0 < n_tokens <=
 * src's n_past, <= dst's n_ctx) without evaluating them, by copying those KV-cache rows (both
 * sessions of one model and KV type; dst's previous contents are dropped, its logits cleared). A
 * copy, not shared memory: later changes to either session never affect the other, and each
 * costs its own KV memory. MLLM_ERR_UNSUPPORTED, dst unchanged, where a sliding-window ring of src
 * no longer holds those tokens or one of dst cannot hold them (see mllm_session_state_save). */
MLLM_API mllm_status mllm_session_copy_prefix(mllm_session *dst, const mllm_session *src, int32_t n_tokens);

typedef enum mllm_pooling {
    MLLM_POOLING_MEAN = 0,
    MLLM_POOLING_LAST = 1
} mllm_pooling;

/* Embeds a token sequence from an empty state (the session is reset before and after): the final
 * hidden state after the output norm, pooled; L2-normalised if normalize != 0. out has n_embd. */
MLLM_API mllm_status mllm_session_embed(mllm_session *session, const int32_t *tokens, int32_t n_tokens,
                                        int32_t pooling, int32_t normalize, float *out);

/* Copies the embedding (n_embd floats) that the last mllm_batch_decode computed for a session added
 * with mllm_batch_add_embed. MLLM_ERR_STATE when the session holds none: it was not added so, the
 * decode failed, or a later model call, reset or truncation in the session dropped it. */
MLLM_API mllm_status mllm_session_embedding(const mllm_session *session, float *out);

/* ---------------------------------------------------------------------------------------------
 * Sampling
 * ------------------------------------------------------------------------------------------- */
typedef struct mllm_sampler mllm_sampler;

typedef struct mllm_sampler_params {
    int32_t greedy;          /* 1 = argmax, all other fields ignored */
    float temperature;       /* default 0.8; <= 0 behaves as greedy */
    int32_t top_k;           /* default 40; <= 0 = disabled */
    float top_p;             /* default 0.95; >= 1 = disabled */
    float min_p;             /* default 0.05; <= 0 = disabled */
    float repeat_penalty;    /* default 1.0 (disabled) */
    int32_t repeat_last_n;   /* default 64 */
    uint64_t seed;           /* default 0; same seed + same logits = same tokens */
} mllm_sampler_params;

MLLM_API void mllm_sampler_params_init(mllm_sampler_params *params);
MLLM_API mllm_status mllm_sampler_create(const mllm_sampler_params *params, int32_t n_vocab,
                                         mllm_sampler **out_sampler);
MLLM_API void mllm_sampler_free(mllm_sampler *sampler);
/* Picks a token from n_vocab logits (not modified). Returns the token or -1 on error. */
MLLM_API int32_t mllm_sampler_sample(mllm_sampler *sampler, const float *logits, int32_t n_vocab);
/* Records a token in the repetition-penalty history (sample() does this for its own picks). */
MLLM_API mllm_status mllm_sampler_accept(mllm_sampler *sampler, int32_t token);
MLLM_API mllm_status mllm_sampler_reset(mllm_sampler *sampler, uint64_t seed);
/* Writes to probs_out[0..n_vocab) the distribution sample() draws from for these logits and the
 * current repetition history: after the penalty, top-k, temperature, top-p and min-p, normalised to
 * sum 1, removed tokens 0 (greedy: 1 at the argmax). Draws nothing and records nothing; speculative
 * decoding compares the target's and the draft's distributions with it. */
MLLM_API mllm_status mllm_sampler_distribution(mllm_sampler *sampler, const float *logits, int32_t n_vocab,
                                               float *probs_out);
/* Draws a token with probability weights[i] / sum(weights) (weights >= 0, not modified) from the
 * sampler's seeded generator, the one sample() uses; records nothing. Returns -1 if every weight is 0
 * or an argument is bad. */
MLLM_API int32_t mllm_sampler_draw(mllm_sampler *sampler, const float *weights, int32_t n_vocab);
/* A uniform number in [0, 1) from the sampler's seeded generator (the accept/reject test of
 * speculative decoding). Returns -1 if sampler is NULL. */
MLLM_API double mllm_sampler_uniform(mllm_sampler *sampler);

/* ---------------------------------------------------------------------------------------------
 * Batches: one forward pass over tokens of several sessions
 * ------------------------------------------------------------------------------------------- */
typedef struct mllm_batch mllm_batch;

/* Most sessions one batch or scheduler step holds. */
#define MLLM_MAX_BATCH_SEQS 256

/* A batch for up to max_tokens tokens (1..65536) of up to max_seqs sessions (1..
 * MLLM_MAX_BATCH_SEQS) of `model`. The model's compute memory grows to max_tokens rows here. */
MLLM_API mllm_status mllm_batch_create(mllm_model *model, int32_t max_tokens, int32_t max_seqs, mllm_batch **out_batch);
MLLM_API void mllm_batch_free(mllm_batch *batch);
/* Adds n_tokens (copied) to append to a session's sequence, and which logits it wants
 * (mllm_logits_mode). Each session at most once per batch; sessions of one batch share their
 * model and KV cache type. Refused (the batch unchanged) when the tokens do not fit the batch or,
 * without context_shift, the session's context (MLLM_ERR_CONTEXT_FULL), and with MLLM_ERR_UNSUPPORTED
 * when a session with sliding-window layers gets more tokens than its n_batch (which sizes their
 * rings). The session must stay
 * alive and unused until the batch is decoded or cleared. */
MLLM_API mllm_status mllm_batch_add(mllm_batch *batch, mllm_session *session, const int32_t *tokens, int32_t n_tokens,
                                    int32_t logits_mode);
/* Adds a text to embed (n_tokens copied, at most the session's n_ctx, MLLM_ERR_CONTEXT_FULL otherwise):
 * mllm_batch_decode evaluates the tokens from an empty sequence in its one pass and pools their
 * final hidden states after the output norm exactly as mllm_session_embed defines it (pooling, and
 * L2 normalisation if normalize != 0), computing no logits for them. The values equal
 * mllm_session_embed's up to f32 rounding: a matmul over the batch's rows may sum in another order.
 * The session is reset when the batch is decoded and left empty afterwards (n_past 0, no logits),
 * also when the decode fails; on success mllm_session_embedding reads the vector. One pass yields
 * either logits or embeddings: adding an embedding to a batch holding a session that asked for
 * logits (MLLM_LOGITS_LAST or ALL), or the reverse, is refused with MLLM_ERR_INVALID_ARGUMENT
 * (MLLM_LOGITS_NONE mixes with both). Otherwise as mllm_batch_add (each session once, one KV
 * type, the tokens must fit the batch). */
MLLM_API mllm_status mllm_batch_add_embed(mllm_batch *batch, mllm_session *session, const int32_t *tokens, int32_t n_tokens,
                                          int32_t pooling, int32_t normalize);
/* Runs ONE forward pass over every added token of every session: the weights are read once per
 * pass, however many sequences advance. Afterwards each session is as after mllm_session_eval of
 * its tokens (n_past advanced, mllm_session_logits holding what its mode asked for); on failure
 * every session is as before (sessions added with mllm_batch_add_embed: empty). Empties the batch
 * either way. */
MLLM_API mllm_status mllm_batch_decode(mllm_batch *batch);
/* Empties the batch without running it. */
MLLM_API mllm_status mllm_batch_clear(mllm_batch *batch);
/* Asked once per layer during mllm_batch_decode (CPU; GPU: before the pass): non-zero stops the
 * pass with MLLM_ERR_CANCELLED, every session as before. NULL clears it. */
MLLM_API mllm_status mllm_batch_set_abort_callback(mllm_batch *batch, mllm_abort_callback cb, void *user_data);

/* ---------------------------------------------------------------------------------------------
 * Generation of many sequences: the scheduler (continuous batching with chunked prefill)
 *
 * The decode contract (mllm_generate, the scheduler, and the Java API's Session.generate alike):
 * a generation evaluates its prompt, then samples a token from the last logits and evaluates it
 * before sampling the next. A token that ends the generation is never evaluated, since nothing
 * would read its logits: EOS or an end-of-turn token (not returned), and the returned token that
 * reached max_tokens / n_max (MLLM_STOP_MAX_TOKENS) or after which the callback asked to stop
 * (MLLM_STOP_CALLBACK). Afterwards the session's sequence is the prompt and every returned token
 * except such a last one:
 *     n_past = previous n_past + n_prompt + n_tokens, less one when a returned token ended it
 * and the session's logits are those that last returned token was sampled from. To continue such a
 * sequence, evaluate that token first, e.g. as the first token of the next prompt (as a llama.cpp loop passes
 * its sampled token to the next llama_decode); an empty prompt would sample its position again.
 * A generation that ends otherwise (EOS, a full context, cancelled, an error) has evaluated every
 * token it returned; a token sampled but not yet evaluated when it was cancelled is not returned.
 * ------------------------------------------------------------------------------------------- */
typedef struct mllm_timings {
    int32_t n_prompt;
    int32_t n_generated;
    double prompt_seconds;
    double generate_seconds;
} mllm_timings;

/* Called for each generated token with the text it completed (may be empty). Return non-zero to
 * stop. */
typedef int32_t (*mllm_token_callback)(int32_t token, const char *text, int32_t text_len, void *user_data);

typedef struct mllm_scheduler mllm_scheduler;

typedef struct mllm_scheduler_params {
    int32_t max_seqs;    /* sequences advanced together (1..MLLM_MAX_BATCH_SEQS, default 16); more
                            submissions wait for a place, in submission order */
    int32_t step_tokens; /* tokens per step at most (default 256): every running sequence's next
                            token, then chunks of the prompts still being read, oldest first */
} mllm_scheduler_params;

typedef enum mllm_stop_reason {
    MLLM_STOP_NONE = 0,       /* still running (or waiting for a place) */
    MLLM_STOP_EOS = 1,        /* EOS or an end-of-turn token (not returned) */
    MLLM_STOP_MAX_TOKENS = 2, /* the max_tokens-th token (returned, not evaluated) */
    MLLM_STOP_CALLBACK = 3,   /* the token callback returned non-zero (its token returned, not evaluated) */
    MLLM_STOP_CANCELLED = 4,  /* mllm_scheduler_cancel, mllm_session_cancel or the session's abort callback */
    MLLM_STOP_ERROR = 5       /* the result's status and message say what */
} mllm_stop_reason;

/* One sequence to generate. */
typedef struct mllm_seq_params {
    mllm_session *session;    /* held until the sequence finishes: its own model calls are refused
                                 (MLLM_ERR_STATE) meanwhile; freeing it cancels the sequence */
    mllm_sampler *sampler;    /* used by this sequence only, until it finishes; NULL = greedy */
    const int32_t *prompt;    /* appended to the session's sequence (copied) */
    int32_t n_prompt;         /* 0: sample from the logits the session holds from its last eval (after a
                                 generation that a returned token ended, pass that token instead) */
    int32_t max_tokens;       /* >= 0 */
    int32_t ignore_eos;
    mllm_token_callback callback; /* may be NULL; called on the thread running mllm_scheduler_step */
    void *user_data;
} mllm_seq_params;

typedef struct mllm_seq_result {
    int32_t status;       /* mllm_status: MLLM_OK, or what ended it (MLLM_ERR_CONTEXT_FULL, ...) */
    int32_t stop_reason;  /* mllm_stop_reason */
    int32_t n_tokens;     /* tokens generated so far, each in the session's KV cache but a last one that
                             ended the sequence (see the decode contract above; a token streamed just
                             before a cancellation, not yet evaluated, is not counted) */
    mllm_timings timings;
    char message[256];    /* the error message when status != MLLM_OK */
} mllm_seq_result;

MLLM_API void mllm_scheduler_params_init(mllm_scheduler_params *params);
MLLM_API mllm_status mllm_scheduler_create(mllm_model *model, const mllm_scheduler_params *params,
                                           mllm_scheduler **out_scheduler);
/* Ends every sequence still running (as cancelled) and releases their sessions. */
MLLM_API void mllm_scheduler_free(mllm_scheduler *scheduler);
/* Queues a sequence; *out_id receives its id (> 0). Refused when the session is held by another
 * sequence, belongs to another model, or cannot hold the prompt (without context_shift:
 * MLLM_ERR_CONTEXT_FULL). */
MLLM_API mllm_status mllm_scheduler_submit(mllm_scheduler *scheduler, const mllm_seq_params *params, int32_t *out_id);
/* Advances every running sequence by one forward pass: each decoding sequence's last token and
 * chunks of new prompts (within step_tokens), then samples, streams and applies the stop rules
 * for each sequence whose logits came out. Sequences join (when a place is free) and leave
 * between steps. *out_n_active (may be NULL) receives the sequences running or waiting
 * afterwards; 0 means everything submitted has finished. Failures of one sequence end that
 * sequence (see its result); the call itself fails only on invalid arguments. A finished sequence
 * leaves its session as the decode contract above says. */
MLLM_API mllm_status mllm_scheduler_step(mllm_scheduler *scheduler, int32_t *out_n_active);
/* Ends a sequence at the next step (as MLLM_STOP_CANCELLED). The only scheduler function that may
 * be called from any thread, also from a token callback; the others belong to one thread at a time. */
MLLM_API mllm_status mllm_scheduler_cancel(mllm_scheduler *scheduler, int32_t id);
/* A sequence's state; tokens (may be NULL) receives up to cap of its generated tokens. */
MLLM_API mllm_status mllm_scheduler_result(const mllm_scheduler *scheduler, int32_t id, mllm_seq_result *out_result,
                                           int32_t *tokens, int32_t cap);
/* Forgets a finished sequence (its id becomes unknown). MLLM_ERR_STATE while it runs. */
MLLM_API mllm_status mllm_scheduler_release(mllm_scheduler *scheduler, int32_t id);

/* One sequence generated to its end by a scheduler of its own (the same loop as above): evaluates
 * the prompt, then samples up to n_max tokens, stopping at EOS (or the end-of-turn /
 * end-of-message token the file names, tokenizer.ggml.eot_token_id / eom_token_id) unless
 * ignore_eos. Generated tokens go to out_tokens (capacity n_max) and their count to *n_out; the
 * EOS token itself is not returned. callback may be NULL; text still held by the streaming
 * detokenizer at the end is passed to the callback with token -1. Afterwards the session is as
 * the decode contract above says: n_past = previous n_past + n_prompt + *n_out, less one when the
 * last returned token ended the generation (*n_out == n_max > 0, or the callback asked to stop);
 * the n_max-th token is returned even when the context is full, as it needs no room. When the
 * context fills up before (and context_shift is off) the call returns MLLM_ERR_CONTEXT_FULL with
 * the tokens produced so far in out_tokens/n_out; when cancelled (mllm_session_cancel, the
 * session's abort callback) MLLM_ERR_CANCELLED likewise, every returned token evaluated in both
 * cases. */
MLLM_API mllm_status mllm_generate(mllm_session *session, mllm_sampler *sampler, const int32_t *prompt,
                                   int32_t n_prompt, int32_t n_max, int32_t ignore_eos,
                                   int32_t *out_tokens, int32_t *n_out, mllm_token_callback callback,
                                   void *user_data, mllm_timings *timings);

#ifdef __cplusplus
}
#endif

#endif /* MOBILELLM_H */
