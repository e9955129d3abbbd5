/* ggml-style tensor view: a type, up to 4 dimensions (ne[0] innermost) with byte strides, and a
 * data pointer it does not own. */
#ifndef MLLM_TENSOR_H
#define MLLM_TENSOR_H

#include <stddef.h>
#include <stdint.h>

/* How a weight matrix's rows are stored. */
enum { MLLM_LAYOUT_ROWS = 0,   /* row-major, ggml's block layout */
       MLLM_LAYOUT_PANEL16 = 1 /* rows interleaved in panels of 16 (cpu/panel.h); no row pointers */ };

typedef struct mllm_tensor {
    int32_t type;   /* mllm_type */
    int32_t layout; /* MLLM_LAYOUT_* */
    int64_t ne[4];  /* elements per dimension */
    size_t nb[4];   /* bytes between consecutive elements/rows/planes; nb[1] = row bytes */
    void *data;
} mllm_tensor;

/* Contiguous tensor of the given shape over data. 0 on success, -1 for an unknown type or a row
 * length that is not a multiple of the type's block size. */
int mllm_tensor_init(mllm_tensor *t, int32_t type, const int64_t ne[4], void *data);
/* Contiguous f32 matrix of ne1 rows of ne0 floats. */
void mllm_tensor_f32(mllm_tensor *t, int64_t ne0, int64_t ne1, float *data);
int64_t mllm_tensor_nelements(const mllm_tensor *t);
/* Pointer to row i1 (of plane 0). */
static inline void *mllm_tensor_row(const mllm_tensor *t, int64_t i1) {
    return (char *)t->data + (size_t)i1 * t->nb[1];
}

#endif
