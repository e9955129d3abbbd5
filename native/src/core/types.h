/* The tensor types the engine knows (ggml's numbering, mobilellm.h's mllm_type): sizes of all of
 * them, so files holding other types can be measured and rejected by name; which ones the engine
 * computes with; and the activation type each weight type's dot products take. */
#ifndef MLLM_TYPES_H
#define MLLM_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "mobilellm.h"

typedef struct mllm_type_traits {
    const char *name;
    int64_t block_size;  /* elements per block */
    size_t block_bytes;  /* bytes per block */
    int supported;       /* engine has matmul + (de)quantize for it */
    int has_ref;         /* scalar (de)quantizers exist (true for supported types and q8_1) */
    /* type the activations are converted to before a dot product with this weight type */
    int32_t vec_dot_type;
} mllm_type_traits;

/* NULL for unknown types. */
const mllm_type_traits *mllm_type_traits_of(int32_t type);
/* Bytes of a row of n elements; 0 if the type is unknown, n is not a multiple of its block or the
 * size does not fit size_t. */
size_t mllm_type_row_bytes(int32_t type, int64_t n);

#endif
