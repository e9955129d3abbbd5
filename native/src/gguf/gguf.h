/* GGUF v3 reader. The whole file is mapped (or read) once; every header field, metadata value
 * and tensor descriptor is validated by mllm_gguf_open before anything uses it, so accessors
 * below never read outside the file. */
#ifndef MLLM_GGUF_H
#define MLLM_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "mobilellm.h"

#define MLLM_GGUF_MAGIC 0x46554747u /* "GGUF" little-endian */
#define MLLM_GGUF_VERSION 3u
#define MLLM_GGUF_DEFAULT_ALIGNMENT 32u
#define MLLM_GGUF_MIN_ALIGNMENT 8u /* general.alignment: a power of two, at least this */
#define MLLM_GGUF_MAX_DIMS 4
#define MLLM_GGUF_MAX_NAME 64 /* tensor names, including the NUL */

typedef enum mllm_gguf_type {
    MLLM_GGUF_UINT8 = 0,
    MLLM_GGUF_INT8 = 1,
    MLLM_GGUF_UINT16 = 2,
    MLLM_GGUF_INT16 = 3,
    MLLM_GGUF_UINT32 = 4,
    MLLM_GGUF_INT32 = 5,
    MLLM_GGUF_FLOAT32 = 6,
    MLLM_GGUF_BOOL = 7,
    MLLM_GGUF_STRING = 8,
    MLLM_GGUF_ARRAY = 9,
    MLLM_GGUF_UINT64 = 10,
    MLLM_GGUF_INT64 = 11,
    MLLM_GGUF_FLOAT64 = 12,
    MLLM_GGUF_TYPE_COUNT
} mllm_gguf_type;

typedef struct mllm_gguf_kv {
    char *key;               /* NUL-terminated copy */
    uint32_t type;           /* mllm_gguf_type */
    const uint8_t *value;    /* raw value in the file (strings: the u64 length prefix) */
    uint32_t arr_type;       /* arrays: element type */
    uint64_t arr_count;      /* arrays: element count */
    const uint8_t *arr_data; /* arrays: first element */
} mllm_gguf_kv;

typedef struct mllm_gguf_tensor {
    char name[MLLM_GGUF_MAX_NAME];
    int32_t type;            /* mllm_type */
    int32_t n_dims;
    int64_t ne[MLLM_GGUF_MAX_DIMS]; /* unused dims are 1 */
    uint64_t offset;         /* inside the data section */
    uint64_t n_bytes;
    const void *data;        /* inside the mapped file */
} mllm_gguf_tensor;

typedef struct mllm_gguf {
    uint8_t *base;           /* the file's bytes */
    size_t size;
    int mapped;              /* 1: a file mapping, 0: an aligned heap block (mllm_gguf_release) */
    uint32_t version;
    uint64_t alignment;
    size_t data_offset;      /* start of the tensor data section */
    int64_t n_kv;
    mllm_gguf_kv *kv;
    int64_t n_tensors;
    mllm_gguf_tensor *tensors;
    const mllm_gguf_kv **by_key;      /* the kv pairs sorted by key: lookups in O(log n) */
    const mllm_gguf_tensor **by_name; /* the tensors sorted by name */
} mllm_gguf;

/* Opens and validates a file. On failure *out is NULL and the error message is set. */
mllm_status mllm_gguf_open(const char *path, int use_mmap, mllm_gguf **out);
/* Validates a file already in memory. base must be at least MLLM_GGUF_MIN_ALIGNMENT-byte aligned
 * (mappings and mllm_aligned_alloc blocks are) so that aligned offsets in the file are aligned
 * addresses. Takes ownership of `base` (a block from mllm_aligned_alloc, or a file mapping when
 * mapped = 1), also on failure. */
mllm_status mllm_gguf_parse(uint8_t *base, size_t size, int mapped, mllm_gguf **out);
void mllm_gguf_close(mllm_gguf *g);
/* Frees or unmaps a file's bytes, whichever `mapped` says they are. */
void mllm_gguf_release(uint8_t *base, size_t size, int mapped);

/* gguf_parse.c, for the functions above: validates g->base[0, g->size) and fills in g's
 * directory (kv, tensors, alignment, data offset); frees that directory again. The bytes stay
 * the caller's. */
mllm_status mllm_gguf_read_directory(mllm_gguf *g);
void mllm_gguf_free_directory(mllm_gguf *g);

/* Sorted indexes behind the lookups below (g->by_key, g->by_name), built by the parser; they
 * fail on duplicate names. */
mllm_status mllm_gguf_index_keys(mllm_gguf *g);
mllm_status mllm_gguf_index_tensors(mllm_gguf *g);
/* Index of key or tensor, -1 if absent. */
int64_t mllm_gguf_find_key(const mllm_gguf *g, const char *key);
const mllm_gguf_tensor *mllm_gguf_find_tensor(const mllm_gguf *g, const char *name);

/* Typed getters. Return MLLM_OK, MLLM_ERR_FORMAT (present with another type, or out of range
 * for the destination; message names the key) or MLLM_ERR_STATE when the key is absent (no
 * message set, so callers can apply defaults). Integer getters accept any integer type whose
 * value fits. */
mllm_status mllm_gguf_get_u32(const mllm_gguf *g, const char *key, uint32_t *out);
mllm_status mllm_gguf_get_i64(const mllm_gguf *g, const char *key, int64_t *out);
mllm_status mllm_gguf_get_f32(const mllm_gguf *g, const char *key, float *out);
mllm_status mllm_gguf_get_bool(const mllm_gguf *g, const char *key, int *out);
/* String value (not NUL-terminated) as pointer + length into the file. */
mllm_status mllm_gguf_get_str(const mllm_gguf *g, const char *key, const char **s, uint64_t *len);
/* Array with elements of `elem_type`; *data points at the first element, *count receives the count. */
mllm_status mllm_gguf_get_arr(const mllm_gguf *g, const char *key, uint32_t elem_type,
                              const uint8_t **data, uint64_t *count);

/* Reads a string element at p (u64 length + bytes) and returns the pointer after it. Only for
 * pointers inside a validated file. */
const uint8_t *mllm_gguf_read_str(const uint8_t *p, const char **s, uint64_t *len);

/* Size in bytes of one value of a fixed-size type; 0 for strings, arrays and unknown types. */
size_t mllm_gguf_scalar_size(uint32_t type);
/* "uint32", "string", ... ; "?" for an unknown type. */
const char *mllm_gguf_type_name(uint32_t type);
/* Writes the value of kv i as text (arrays abbreviated, e.g. "[32000 strings]") into buf, like
 * snprintf: returns the full length. */
int mllm_gguf_render_value(const mllm_gguf *g, int64_t i, char *buf, size_t buf_size);

#endif
