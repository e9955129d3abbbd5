/* Minimal GGUF v3 writer for tests, written from the public format description: header, metadata
 * kv pairs, tensor descriptors, padding, tensor data. Header-only (each test is one executable).
 * Low-level put_* helpers let tests write deliberately malformed files. */
#ifndef TEST_GGUF_WRITER_H
#define TEST_GGUF_WRITER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gw_buf {
    uint8_t *p;
    size_t len, cap;
} gw_buf;

static inline void gw_put(gw_buf *b, const void *src, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) abort();
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, src, n);
    b->len += n;
}
static inline void gw_u8(gw_buf *b, uint8_t v) { gw_put(b, &v, 1); }
static inline void gw_u32(gw_buf *b, uint32_t v) { gw_put(b, &v, 4); }
static inline void gw_u64(gw_buf *b, uint64_t v) { gw_put(b, &v, 8); }
static inline void gw_f32(gw_buf *b, float v) { gw_put(b, &v, 4); }
static inline void gw_str(gw_buf *b, const char *s) {
    gw_u64(b, strlen(s));
    gw_put(b, s, strlen(s));
}
static inline void gw_free(gw_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

enum { GW_U8 = 0, GW_I8, GW_U16, GW_I16, GW_U32, GW_I32, GW_F32, GW_BOOL, GW_STR, GW_ARR, GW_U64, GW_I64, GW_F64 };

typedef struct gw_file {
    gw_buf kv, ti, data;
    uint64_t n_kv, n_tensors;
    uint32_t alignment;
} gw_file;

static inline void gwf_init(gw_file *f) {
    memset(f, 0, sizeof *f);
    f->alignment = 32;
}
static inline void gwf_free(gw_file *f) {
    gw_free(&f->kv);
    gw_free(&f->ti);
    gw_free(&f->data);
}
static inline void gwf_key(gw_file *f, const char *key, uint32_t type) {
    gw_str(&f->kv, key);
    gw_u32(&f->kv, type);
    f->n_kv++;
}
static inline void gwf_u32(gw_file *f, const char *key, uint32_t v) { gwf_key(f, key, GW_U32); gw_u32(&f->kv, v); }
static inline void gwf_f32(gw_file *f, const char *key, float v) { gwf_key(f, key, GW_F32); gw_f32(&f->kv, v); }
static inline void gwf_bool(gw_file *f, const char *key, int v) { gwf_key(f, key, GW_BOOL); gw_u8(&f->kv, (uint8_t)v); }
static inline void gwf_str(gw_file *f, const char *key, const char *v) { gwf_key(f, key, GW_STR); gw_str(&f->kv, v); }
static inline void gwf_arr_str(gw_file *f, const char *key, const char *const *v, uint64_t n) {
    gwf_key(f, key, GW_ARR);
    gw_u32(&f->kv, GW_STR);
    gw_u64(&f->kv, n);
    for (uint64_t i = 0; i < n; i++) gw_str(&f->kv, v[i]);
}
static inline void gwf_arr_f32(gw_file *f, const char *key, const float *v, uint64_t n) {
    gwf_key(f, key, GW_ARR);
    gw_u32(&f->kv, GW_F32);
    gw_u64(&f->kv, n);
    gw_put(&f->kv, v, n * 4);
}
static inline void gwf_arr_bool(gw_file *f, const char *key, const uint8_t *v, uint64_t n) {
    gwf_key(f, key, GW_ARR);
    gw_u32(&f->kv, GW_BOOL);
    gw_u64(&f->kv, n);
    gw_put(&f->kv, v, n);
}
static inline void gwf_arr_i32(gw_file *f, const char *key, const int32_t *v, uint64_t n) {
    gwf_key(f, key, GW_ARR);
    gw_u32(&f->kv, GW_I32);
    gw_u64(&f->kv, n);
    gw_put(&f->kv, v, n * 4);
}
/* Tensor with data appended at the next aligned offset. ne has n_dims entries. */
static inline void gwf_tensor(gw_file *f, const char *name, uint32_t type, uint32_t n_dims, const uint64_t *ne,
                              const void *data, size_t bytes) {
    while (f->data.len % f->alignment) gw_u8(&f->data, 0);
    gw_str(&f->ti, name);
    gw_u32(&f->ti, n_dims);
    for (uint32_t d = 0; d < n_dims; d++) gw_u64(&f->ti, ne[d]);
    gw_u32(&f->ti, type);
    gw_u64(&f->ti, f->data.len);
    gw_put(&f->data, data, bytes);
    f->n_tensors++;
}
/* The whole file; caller frees out->p. */
static inline void gwf_finish(const gw_file *f, gw_buf *out) {
    memset(out, 0, sizeof *out);
    gw_u32(out, 0x46554747u);
    gw_u32(out, 3);
    gw_u64(out, f->n_tensors);
    gw_u64(out, f->n_kv);
    gw_put(out, f->kv.p, f->kv.len);
    gw_put(out, f->ti.p, f->ti.len);
    while (out->len % f->alignment) gw_u8(out, 0);
    gw_put(out, f->data.p, f->data.len);
}
static inline int gw_write(const char *path, const void *p, size_t n) {
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    size_t w = fwrite(p, 1, n, fp);
    return fclose(fp) == 0 && w == n ? 0 : -1;
}

#endif
