/* Lookups, typed getters and text rendering of GGUF metadata (file already validated). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "gguf/gguf.h"

const char *mllm_gguf_type_name(uint32_t type) {
    static const char *names[MLLM_GGUF_TYPE_COUNT] = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
                                                      "bool", "string", "array", "uint64", "int64", "float64"};
    return type < MLLM_GGUF_TYPE_COUNT ? names[type] : "?";
}

static int cmp_key(const void *a, const void *b) {
    return strcmp((*(const mllm_gguf_kv *const *)a)->key, (*(const mllm_gguf_kv *const *)b)->key);
}

static int cmp_tensor_name(const void *a, const void *b) {
    return strcmp((*(const mllm_gguf_tensor *const *)a)->name, (*(const mllm_gguf_tensor *const *)b)->name);
}

/* Sorting keeps lookups O(log n) and duplicate detection O(n log n) even for files with millions
 * of tiny entries. */
mllm_status mllm_gguf_index_keys(mllm_gguf *g) {
    g->by_key = malloc((size_t)(g->n_kv ? g->n_kv : 1) * sizeof *g->by_key);
    if (!g->by_key) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory indexing metadata keys");
    for (int64_t i = 0; i < g->n_kv; i++) g->by_key[i] = &g->kv[i];
    qsort(g->by_key, (size_t)g->n_kv, sizeof *g->by_key, cmp_key);
    for (int64_t i = 1; i < g->n_kv; i++) {
        if (strcmp(g->by_key[i - 1]->key, g->by_key[i]->key) == 0)
            return mllm_fail(MLLM_ERR_FORMAT, "duplicate metadata key '%s'", g->by_key[i]->key);
    }
    return MLLM_OK;
}

mllm_status mllm_gguf_index_tensors(mllm_gguf *g) {
    g->by_name = malloc((size_t)(g->n_tensors ? g->n_tensors : 1) * sizeof *g->by_name);
    if (!g->by_name) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory indexing tensor names");
    for (int64_t i = 0; i < g->n_tensors; i++) g->by_name[i] = &g->tensors[i];
    qsort(g->by_name, (size_t)g->n_tensors, sizeof *g->by_name, cmp_tensor_name);
    for (int64_t i = 1; i < g->n_tensors; i++) {
        if (strcmp(g->by_name[i - 1]->name, g->by_name[i]->name) == 0)
            return mllm_fail(MLLM_ERR_FORMAT, "duplicate tensor '%s'", g->by_name[i]->name);
    }
    return MLLM_OK;
}

int64_t mllm_gguf_find_key(const mllm_gguf *g, const char *key) {
    mllm_gguf_kv probe = {.key = (char *)key};
    const mllm_gguf_kv *p = &probe;
    const mllm_gguf_kv *const *hit = bsearch(&p, g->by_key, (size_t)g->n_kv, sizeof *g->by_key, cmp_key);
    return hit ? *hit - g->kv : -1;
}

const mllm_gguf_tensor *mllm_gguf_find_tensor(const mllm_gguf *g, const char *name) {
    if (strlen(name) >= MLLM_GGUF_MAX_NAME) return NULL; /* no tensor has a longer name */
    mllm_gguf_tensor probe;
    strcpy(probe.name, name);
    const mllm_gguf_tensor *p = &probe;
    const mllm_gguf_tensor *const *hit = bsearch(&p, g->by_name, (size_t)g->n_tensors, sizeof *g->by_name, cmp_tensor_name);
    return hit ? *hit : NULL;
}

const uint8_t *mllm_gguf_read_str(const uint8_t *p, const char **s, uint64_t *len) {
    memcpy(len, p, 8);
    *s = (const char *)(p + 8);
    return p + 8 + *len;
}

/* Integer value of a scalar integer element; 0 if it is not an integer type. */
static int read_int(uint32_t type, const uint8_t *p, int64_t *v, uint64_t *uv, int *is_unsigned) {
    *is_unsigned = 0;
    switch (type) {
    case MLLM_GGUF_UINT8: { uint8_t x; memcpy(&x, p, 1); *v = x; return 1; }
    case MLLM_GGUF_INT8: { int8_t x; memcpy(&x, p, 1); *v = x; return 1; }
    case MLLM_GGUF_UINT16: { uint16_t x; memcpy(&x, p, 2); *v = x; return 1; }
    case MLLM_GGUF_INT16: { int16_t x; memcpy(&x, p, 2); *v = x; return 1; }
    case MLLM_GGUF_UINT32: { uint32_t x; memcpy(&x, p, 4); *v = x; return 1; }
    case MLLM_GGUF_INT32: { int32_t x; memcpy(&x, p, 4); *v = x; return 1; }
    case MLLM_GGUF_INT64: { memcpy(v, p, 8); return 1; }
    case MLLM_GGUF_UINT64: { memcpy(uv, p, 8); *is_unsigned = 1; return 1; }
    default: return 0;
    }
}

mllm_status mllm_gguf_get_i64(const mllm_gguf *g, const char *key, int64_t *out) {
    int64_t i = mllm_gguf_find_key(g, key);
    if (i < 0) return MLLM_ERR_STATE;
    int64_t v = 0;
    uint64_t uv = 0;
    int is_unsigned;
    if (!read_int(g->kv[i].type, g->kv[i].value, &v, &uv, &is_unsigned)) {
        return mllm_fail(MLLM_ERR_FORMAT, "key '%s' has type %s, expected an integer", key, mllm_gguf_type_name(g->kv[i].type));
    }
    if (is_unsigned) {
        if (uv > (uint64_t)INT64_MAX) return mllm_fail(MLLM_ERR_FORMAT, "key '%s' = %" PRIu64 " is out of range", key, uv);
        v = (int64_t)uv;
    }
    *out = v;
    return MLLM_OK;
}

mllm_status mllm_gguf_get_u32(const mllm_gguf *g, const char *key, uint32_t *out) {
    int64_t v = 0;
    mllm_status s = mllm_gguf_get_i64(g, key, &v);
    if (s) return s;
    if (v < 0 || v > (int64_t)UINT32_MAX) return mllm_fail(MLLM_ERR_FORMAT, "key '%s' = %" PRId64 " is out of range", key, v);
    *out = (uint32_t)v;
    return MLLM_OK;
}

mllm_status mllm_gguf_get_f32(const mllm_gguf *g, const char *key, float *out) {
    int64_t i = mllm_gguf_find_key(g, key);
    if (i < 0) return MLLM_ERR_STATE;
    if (g->kv[i].type == MLLM_GGUF_FLOAT32) {
        memcpy(out, g->kv[i].value, 4);
    } else if (g->kv[i].type == MLLM_GGUF_FLOAT64) {
        double d;
        memcpy(&d, g->kv[i].value, 8);
        *out = (float)d;
    } else {
        return mllm_fail(MLLM_ERR_FORMAT, "key '%s' has type %s, expected float32", key, mllm_gguf_type_name(g->kv[i].type));
    }
    return MLLM_OK;
}

mllm_status mllm_gguf_get_bool(const mllm_gguf *g, const char *key, int *out) {
    int64_t i = mllm_gguf_find_key(g, key);
    if (i < 0) return MLLM_ERR_STATE;
    if (g->kv[i].type != MLLM_GGUF_BOOL) {
        return mllm_fail(MLLM_ERR_FORMAT, "key '%s' has type %s, expected bool", key, mllm_gguf_type_name(g->kv[i].type));
    }
    *out = g->kv[i].value[0] != 0;
    return MLLM_OK;
}

mllm_status mllm_gguf_get_str(const mllm_gguf *g, const char *key, const char **s, uint64_t *len) {
    int64_t i = mllm_gguf_find_key(g, key);
    if (i < 0) return MLLM_ERR_STATE;
    if (g->kv[i].type != MLLM_GGUF_STRING) {
        return mllm_fail(MLLM_ERR_FORMAT, "key '%s' has type %s, expected string", key, mllm_gguf_type_name(g->kv[i].type));
    }
    mllm_gguf_read_str(g->kv[i].value, s, len);
    return MLLM_OK;
}

mllm_status mllm_gguf_get_arr(const mllm_gguf *g, const char *key, uint32_t elem_type, const uint8_t **data,
                              uint64_t *count) {
    int64_t i = mllm_gguf_find_key(g, key);
    if (i < 0) return MLLM_ERR_STATE;
    const mllm_gguf_kv *kv = &g->kv[i];
    if (kv->type != MLLM_GGUF_ARRAY || kv->arr_type != elem_type) {
        return mllm_fail(MLLM_ERR_FORMAT, "key '%s' has type %s%s%s, expected array of %s", key,
                         mllm_gguf_type_name(kv->type), kv->type == MLLM_GGUF_ARRAY ? " of " : "",
                         kv->type == MLLM_GGUF_ARRAY ? mllm_gguf_type_name(kv->arr_type) : "",
                         mllm_gguf_type_name(elem_type));
    }
    *data = kv->arr_data;
    *count = kv->arr_count;
    return MLLM_OK;
}

/* ---- rendering ---- */

typedef struct sbuf {
    char *buf;
    size_t size;
    size_t len; /* full length, may exceed size */
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) MLLM_PRINTF(2, 3);
static void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t avail = b->len < b->size ? b->size - b->len : 0;
    int n = vsnprintf(avail ? b->buf + b->len : NULL, avail, fmt, ap);
    va_end(ap);
    if (n > 0) b->len += (size_t)n;
}

static void render_scalar(sbuf *b, uint32_t type, const uint8_t *p) {
    int64_t v = 0;
    uint64_t uv;
    int is_unsigned;
    if (read_int(type, p, &v, &uv, &is_unsigned)) {
        if (is_unsigned) sb_printf(b, "%" PRIu64, uv);
        else sb_printf(b, "%" PRId64, v);
    } else if (type == MLLM_GGUF_FLOAT32) {
        float f;
        memcpy(&f, p, 4);
        sb_printf(b, "%g", (double)f);
    } else if (type == MLLM_GGUF_FLOAT64) {
        double d;
        memcpy(&d, p, 8);
        sb_printf(b, "%g", d);
    } else if (type == MLLM_GGUF_BOOL) {
        sb_printf(b, "%s", p[0] ? "true" : "false");
    }
}

#define RENDER_MAX_ELEMS 8 /* numeric arrays up to this length are shown in full */

int mllm_gguf_render_value(const mllm_gguf *g, int64_t i, char *buf, size_t buf_size) {
    sbuf b = {buf, buf_size, 0};
    if (buf && buf_size) buf[0] = '\0';
    if (i < 0 || i >= g->n_kv) return -1;
    const mllm_gguf_kv *kv = &g->kv[i];
    if (kv->type == MLLM_GGUF_STRING) {
        const char *s;
        uint64_t len;
        mllm_gguf_read_str(kv->value, &s, &len);
        sb_printf(&b, "%.*s", (int)(len > INT32_MAX ? INT32_MAX : len), s);
    } else if (kv->type == MLLM_GGUF_ARRAY) {
        size_t es = mllm_gguf_scalar_size(kv->arr_type);
        if (es && kv->arr_count <= RENDER_MAX_ELEMS) {
            sb_printf(&b, "[");
            for (uint64_t j = 0; j < kv->arr_count; j++) {
                if (j) sb_printf(&b, ", ");
                render_scalar(&b, kv->arr_type, kv->arr_data + j * es);
            }
            sb_printf(&b, "]");
        } else {
            const char *tn = kv->arr_type == MLLM_GGUF_STRING ? "strings"
                           : kv->arr_type == MLLM_GGUF_ARRAY  ? "arrays"
                                                               : mllm_gguf_type_name(kv->arr_type);
            sb_printf(&b, "[%" PRIu64 " %s]", kv->arr_count, tn);
        }
    } else {
        render_scalar(&b, kv->type, kv->value);
    }
    return b.len > INT32_MAX ? INT32_MAX : (int)b.len;
}
