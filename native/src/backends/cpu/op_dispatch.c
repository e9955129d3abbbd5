/* Op table. */
#include "backends/cpu/ops.h"

typedef void (*op_fn)(const mllm_node *, const mllm_cpu_run *, int, int);

static const op_fn k_ops[MLLM_OP_COUNT] = {
    [MLLM_OP_GET_ROWS] = mllm_op_get_rows,
    [MLLM_OP_RMS_NORM] = mllm_op_rms_norm,
    [MLLM_OP_MATMUL] = mllm_op_matmul,
    [MLLM_OP_ROPE_STORE] = mllm_op_rope_store,
    [MLLM_OP_ATTENTION] = mllm_op_attention,
    [MLLM_OP_SWIGLU] = mllm_op_swiglu,
};

void mllm_op_run(const mllm_node *n, const mllm_cpu_run *run, int ith, int nth) { k_ops[n->op](n, run, ith, nth); }
