/* Validation of a GGUF v3 file in memory: the header, every metadata value (recursively for
 * arrays) and every tensor descriptor. Counts read from the file are checked against the bytes
 * that remain before anything is allocated from them. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/types.h"
#include "gguf/gguf.h"

#define MAX_ARRAY_DEPTH 8

typedef struct cursor {
    const uint8_t *base;
    size_t size;
    size_t pos;
} cursor;

static size_t remaining(const cursor *c) { return c->size - c->pos; }

static mllm_status need(const cursor *c, size_t n, const char *what) {
    if (n > remaining(c)) {
        return mllm_fail(MLLM_ERR_FORMAT, "truncated file: %s at offset %zu needs %zu bytes, file size is %zu",
                         what, c->pos, n, c->size);
    }
    return MLLM_OK;
}

static mllm_status rd_u32(cursor *c, uint32_t *v, const char *what) {
    mllm_status s = need(c, 4, what);
    if (s) return s;
    memcpy(v, c->base + c->pos, 4);
    c->pos += 4;
    return MLLM_OK;
}

static mllm_status rd_u64(cursor *c, uint64_t *v, const char *what) {
    mllm_status s = need(c, 8, what);
    if (s) return s;
    memcpy(v, c->base + c->pos, 8);
    c->pos += 8;
    return MLLM_OK;
}

/* A string: u64 length then bytes. */
static mllm_status rd_str(cursor *c, const uint8_t **p, uint64_t *len, const char *what) {
    mllm_status s = rd_u64(c, len, what);
    if (s) return s;
    if (*len > remaining(c)) {
        return mllm_fail(MLLM_ERR_FORMAT, "%s: string length %" PRIu64 " at offset %zu exceeds the %zu bytes left in the file",
                         what, *len, c->pos - 8, remaining(c));
    }
    *p = c->base + c->pos;
    c->pos += (size_t)*len;
    return MLLM_OK;
}

size_t mllm_gguf_scalar_size(uint32_t t) {
    switch (t) {
    case MLLM_GGUF_UINT8: case MLLM_GGUF_INT8: case MLLM_GGUF_BOOL: return 1;
    case MLLM_GGUF_UINT16: case MLLM_GGUF_INT16: return 2;
    case MLLM_GGUF_UINT32: case MLLM_GGUF_INT32: case MLLM_GGUF_FLOAT32: return 4;
    case MLLM_GGUF_UINT64: case MLLM_GGUF_INT64: case MLLM_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

/* Smallest encoding of one element of type t (used to bound counts by the remaining bytes). */
static size_t min_elem_size(uint32_t t) {
    if (t == MLLM_GGUF_STRING) return 8;
    if (t == MLLM_GGUF_ARRAY) return 12;
    return mllm_gguf_scalar_size(t);
}

static mllm_status skip_value(cursor *c, uint32_t type, const char *key, int depth);

static mllm_status skip_array(cursor *c, const char *key, int depth, uint32_t *elem_type, uint64_t *count) {
    if (depth >= MAX_ARRAY_DEPTH) {
        return mllm_fail(MLLM_ERR_FORMAT, "key '%s': arrays nested deeper than %d levels", key, MAX_ARRAY_DEPTH);
    }
    mllm_status s = rd_u32(c, elem_type, "array element type");
    if (!s) s = rd_u64(c, count, "array element count");
    if (s) return s;
    if (*elem_type >= MLLM_GGUF_TYPE_COUNT) {
        return mllm_fail(MLLM_ERR_FORMAT, "key '%s': unknown array element type %u", key, *elem_type);
    }
    size_t min = min_elem_size(*elem_type);
    if (*count > remaining(c) / min) {
        return mllm_fail(MLLM_ERR_FORMAT, "key '%s': array count %" PRIu64 " of %s exceeds what the %zu bytes left in the file can hold",
                         key, *count, mllm_gguf_type_name(*elem_type), remaining(c));
    }
    size_t fixed = mllm_gguf_scalar_size(*elem_type);
    if (fixed) { /* bound checked just above */
        c->pos += (size_t)*count * fixed;
        return MLLM_OK;
    }
    for (uint64_t i = 0; i < *count; i++) {
        s = skip_value(c, *elem_type, key, depth + 1);
        if (s) return s;
    }
    return MLLM_OK;
}

static mllm_status skip_value(cursor *c, uint32_t type, const char *key, int depth) {
    if (type == MLLM_GGUF_STRING) {
        const uint8_t *p;
        uint64_t len;
        return rd_str(c, &p, &len, key);
    }
    if (type == MLLM_GGUF_ARRAY) {
        uint32_t et;
        uint64_t n;
        return skip_array(c, key, depth, &et, &n);
    }
    size_t n = mllm_gguf_scalar_size(type);
    if (!n) return mllm_fail(MLLM_ERR_FORMAT, "key '%s': unknown value type %u", key, type);
    mllm_status s = need(c, n, key);
    if (s) return s;
    if (type == MLLM_GGUF_BOOL && c->base[c->pos] > 1) {
        return mllm_fail(MLLM_ERR_FORMAT, "key '%s': bool value %u is neither 0 nor 1", key, c->base[c->pos]);
    }
    c->pos += n;
    return MLLM_OK;
}

static mllm_status parse_kv(cursor *c, mllm_gguf *g) {
    for (int64_t i = 0; i < g->n_kv; i++) {
        mllm_gguf_kv *kv = &g->kv[i];
        const uint8_t *kp = NULL;
        uint64_t klen;
        mllm_status s = rd_str(c, &kp, &klen, "metadata key");
        if (s) return s;
        if (klen == 0) return mllm_fail(MLLM_ERR_FORMAT, "metadata entry %" PRId64 " has an empty key", i);
        if (memchr(kp, 0, (size_t)klen)) return mllm_fail(MLLM_ERR_FORMAT, "metadata key %" PRId64 " contains a NUL byte", i);
        kv->key = malloc((size_t)klen + 1);
        if (!kv->key) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory reading metadata key %" PRId64, i);
        memcpy(kv->key, kp, (size_t)klen);
        kv->key[klen] = '\0';
        s = rd_u32(c, &kv->type, kv->key);
        if (s) return s;
        if (kv->type >= MLLM_GGUF_TYPE_COUNT) {
            return mllm_fail(MLLM_ERR_FORMAT, "key '%s': unknown value type %u", kv->key, kv->type);
        }
        kv->value = c->base + c->pos;
        if (kv->type == MLLM_GGUF_ARRAY) {
            s = skip_array(c, kv->key, 0, &kv->arr_type, &kv->arr_count);
            kv->arr_data = kv->value + 12;
        } else {
            s = skip_value(c, kv->type, kv->key, 0);
        }
        if (s) return s;
    }
    return MLLM_OK;
}

static mllm_status read_alignment(mllm_gguf *g) {
    g->alignment = MLLM_GGUF_DEFAULT_ALIGNMENT;
    int64_t i = mllm_gguf_find_key(g, "general.alignment");
    if (i < 0) return MLLM_OK;
    if (g->kv[i].type != MLLM_GGUF_UINT32) {
        return mllm_fail(MLLM_ERR_FORMAT, "key 'general.alignment' has type %s, expected uint32",
                         mllm_gguf_type_name(g->kv[i].type));
    }
    uint32_t a;
    memcpy(&a, g->kv[i].value, 4);
    /* The GGUF specification asks for a multiple of 8; with a power of two >= 8 every tensor
     * starts 8-byte aligned in memory (the file's bytes are at least 64-byte aligned), enough for
     * every tensor type's elements and block fields, so the kernels read them directly. */
    if (a < MLLM_GGUF_MIN_ALIGNMENT || (a & (a - 1)) != 0) {
        return mllm_fail(MLLM_ERR_FORMAT, "key 'general.alignment' = %u is not a power of two >= %u", a, MLLM_GGUF_MIN_ALIGNMENT);
    }
    g->alignment = a;
    return MLLM_OK;
}

static mllm_status parse_tensor_info(cursor *c, mllm_gguf *g, int64_t i) {
    mllm_gguf_tensor *t = &g->tensors[i];
    const uint8_t *np = NULL;
    uint64_t nlen;
    mllm_status s = rd_str(c, &np, &nlen, "tensor name");
    if (s) return s;
    if (nlen == 0) return mllm_fail(MLLM_ERR_FORMAT, "tensor %" PRId64 " has an empty name", i);
    if (nlen >= MLLM_GGUF_MAX_NAME) {
        return mllm_fail(MLLM_ERR_FORMAT, "tensor %" PRId64 ": name of %" PRIu64 " bytes exceeds the limit of %d",
                         i, nlen, MLLM_GGUF_MAX_NAME - 1);
    }
    if (memchr(np, 0, (size_t)nlen)) return mllm_fail(MLLM_ERR_FORMAT, "tensor %" PRId64 ": name contains a NUL byte", i);
    memcpy(t->name, np, (size_t)nlen);
    t->name[nlen] = '\0';
    uint32_t n_dims;
    s = rd_u32(c, &n_dims, t->name);
    if (s) return s;
    if (n_dims < 1 || n_dims > MLLM_GGUF_MAX_DIMS) {
        return mllm_fail(MLLM_ERR_FORMAT, "tensor '%s': n_dims %u is outside 1..%d", t->name, n_dims, MLLM_GGUF_MAX_DIMS);
    }
    t->n_dims = (int32_t)n_dims;
    int64_t n_elems = 1;
    for (int d = 0; d < MLLM_GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        uint64_t ne;
        s = rd_u64(c, &ne, t->name);
        if (s) return s;
        if (ne == 0 || ne > (uint64_t)INT64_MAX) {
            return mllm_fail(MLLM_ERR_FORMAT, "tensor '%s': dimension %u is %" PRIu64 " (must be in 1..2^63-1)", t->name, d, ne);
        }
        if ((int64_t)ne > INT64_MAX / n_elems) {
            return mllm_fail(MLLM_ERR_FORMAT, "tensor '%s': element count overflows 64 bits", t->name);
        }
        n_elems *= (int64_t)ne;
        t->ne[d] = (int64_t)ne;
    }
    uint32_t type;
    s = rd_u32(c, &type, t->name);
    if (!s) s = rd_u64(c, &t->offset, t->name);
    if (s) return s;
    const mllm_type_traits *tr = mllm_type_traits_of((int32_t)type);
    if (!tr || tr->block_size <= 0 || tr->block_bytes == 0) {
        return mllm_fail(MLLM_ERR_FORMAT, "tensor '%s': unknown tensor type %u", t->name, type);
    }
    t->type = (int32_t)type;
    if (t->ne[0] % tr->block_size != 0) {
        return mllm_fail(MLLM_ERR_FORMAT, "tensor '%s': row of %" PRId64 " elements is not a multiple of the %s block size %" PRId64,
                         t->name, t->ne[0], tr->name, tr->block_size);
    }
    uint64_t blocks = (uint64_t)(n_elems / tr->block_size);
    if (blocks > UINT64_MAX / tr->block_bytes) return mllm_fail(MLLM_ERR_FORMAT, "tensor '%s': byte size overflows 64 bits", t->name);
    t->n_bytes = blocks * tr->block_bytes;
    return MLLM_OK;
}

static int cmp_offset(const void *a, const void *b) {
    const mllm_gguf_tensor *x = *(const mllm_gguf_tensor *const *)a, *y = *(const mllm_gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static mllm_status check_tensor_data(mllm_gguf *g) {
    size_t data_size = g->size - g->data_offset;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        mllm_gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment != 0) {
            return mllm_fail(MLLM_ERR_FORMAT, "tensor '%s': data offset %" PRIu64 " is not a multiple of the alignment %" PRIu64,
                             t->name, t->offset, g->alignment);
        }
        if (t->offset > data_size || t->n_bytes > data_size - t->offset) {
            return mllm_fail(MLLM_ERR_FORMAT, "tensor '%s': data [offset %" PRIu64 ", %" PRIu64 " bytes] exceeds file size %zu",
                             t->name, (uint64_t)g->data_offset + t->offset, t->n_bytes, g->size);
        }
        t->data = g->base + g->data_offset + t->offset;
    }
    if (g->n_tensors < 2) return MLLM_OK;
    const mllm_gguf_tensor **order = malloc((size_t)g->n_tensors * sizeof *order);
    if (!order) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory checking tensor overlap");
    for (int64_t i = 0; i < g->n_tensors; i++) order[i] = &g->tensors[i];
    qsort(order, (size_t)g->n_tensors, sizeof *order, cmp_offset);
    mllm_status s = MLLM_OK;
    for (int64_t i = 1; i < g->n_tensors; i++) {
        if (order[i - 1]->offset + order[i - 1]->n_bytes > order[i]->offset) {
            s = mllm_fail(MLLM_ERR_FORMAT, "tensors '%s' and '%s' overlap in the data section", order[i - 1]->name, order[i]->name);
            break;
        }
    }
    free(order);
    return s;
}

static mllm_status parse(mllm_gguf *g) {
    cursor c = {g->base, g->size, 0};
    uint32_t magic;
    uint64_t n_tensors, n_kv;
    mllm_status s = rd_u32(&c, &magic, "magic");
    if (s) return s;
    if (magic != MLLM_GGUF_MAGIC) {
        return mllm_fail(MLLM_ERR_FORMAT, "not a GGUF file: bad magic 0x%08x (expected \"GGUF\")", magic);
    }
    s = rd_u32(&c, &g->version, "version");
    if (s) return s;
    if (g->version == 0x03000000u) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "big-endian GGUF files are not supported (version field 0x03000000)");
    }
    if (g->version != MLLM_GGUF_VERSION) {
        return mllm_fail(MLLM_ERR_UNSUPPORTED, "unsupported GGUF version %u (only version 3 is supported)", g->version);
    }
    s = rd_u64(&c, &n_tensors, "tensor count");
    if (!s) s = rd_u64(&c, &n_kv, "metadata kv count");
    if (s) return s;
    /* A kv needs >= 13 bytes (key length, type, 1 byte value), a tensor >= 32 bytes. */
    if (n_kv > remaining(&c) / 13) {
        return mllm_fail(MLLM_ERR_FORMAT, "metadata kv count %" PRIu64 " exceeds what the %zu bytes left in the file can hold",
                         n_kv, remaining(&c));
    }
    if (n_tensors > remaining(&c) / 32) {
        return mllm_fail(MLLM_ERR_FORMAT, "tensor count %" PRIu64 " exceeds what the %zu bytes left in the file can hold",
                         n_tensors, remaining(&c));
    }
    g->kv = calloc(n_kv ? (size_t)n_kv : 1, sizeof *g->kv);
    g->tensors = calloc(n_tensors ? (size_t)n_tensors : 1, sizeof *g->tensors);
    if (!g->kv || !g->tensors) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory for GGUF directory");
    g->n_kv = (int64_t)n_kv; /* keys are freed up to n_kv; unset ones are NULL */
    s = parse_kv(&c, g);
    if (!s) s = mllm_gguf_index_keys(g);
    if (!s) s = read_alignment(g);
    if (s) return s;
    g->n_tensors = (int64_t)n_tensors;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        s = parse_tensor_info(&c, g, i);
        if (s) return s;
    }
    size_t pad = (size_t)((g->alignment - c.pos % g->alignment) % g->alignment);
    if (g->n_tensors > 0 && pad > remaining(&c)) {
        return mllm_fail(MLLM_ERR_FORMAT, "truncated file: tensor data section would start at offset %zu beyond file size %zu",
                         c.pos + pad, c.size);
    }
    g->data_offset = pad > remaining(&c) ? c.size : c.pos + pad;
    s = mllm_gguf_index_tensors(g);
    if (s) return s;
    return check_tensor_data(g);
}

mllm_status mllm_gguf_read_directory(mllm_gguf *g) {
    if ((uintptr_t)g->base % MLLM_GGUF_MIN_ALIGNMENT != 0) {
        return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "GGUF bytes at %p are not %u-byte aligned", (void *)g->base,
                         MLLM_GGUF_MIN_ALIGNMENT);
    }
    return parse(g);
}

void mllm_gguf_free_directory(mllm_gguf *g) {
    for (int64_t i = 0; i < g->n_kv; i++) free(g->kv[i].key);
    free(g->kv);
    free(g->tensors);
    free(g->by_key);
    free(g->by_name);
    g->kv = NULL;
    g->tensors = NULL;
    g->by_key = NULL;
    g->by_name = NULL;
    g->n_kv = g->n_tensors = 0;
}
