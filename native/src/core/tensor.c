/* Tensor views. */
#include "core/tensor.h"

#include "core/types.h"

int mllm_tensor_init(mllm_tensor *t, int32_t type, const int64_t ne[4], void *data) {
    const mllm_type_traits *tr = mllm_type_traits_of(type);
    if (!tr || tr->block_size <= 0 || ne[0] % tr->block_size != 0) return -1;
    t->type = type;
    t->layout = MLLM_LAYOUT_ROWS;
    for (int d = 0; d < 4; d++) t->ne[d] = ne[d];
    t->nb[0] = tr->block_bytes; /* per block, like ggml */
    t->nb[1] = (size_t)(ne[0] / tr->block_size) * tr->block_bytes;
    t->nb[2] = t->nb[1] * (size_t)ne[1];
    t->nb[3] = t->nb[2] * (size_t)ne[2];
    t->data = data;
    return 0;
}

void mllm_tensor_f32(mllm_tensor *t, int64_t ne0, int64_t ne1, float *data) {
    t->type = 0; /* MLLM_TYPE_F32 */
    t->layout = MLLM_LAYOUT_ROWS;
    t->ne[0] = ne0;
    t->ne[1] = ne1;
    t->ne[2] = t->ne[3] = 1;
    t->nb[0] = sizeof(float);
    t->nb[1] = (size_t)ne0 * sizeof(float);
    t->nb[2] = t->nb[3] = t->nb[1] * (size_t)ne1;
    t->data = data;
}

int64_t mllm_tensor_nelements(const mllm_tensor *t) { return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]; }
