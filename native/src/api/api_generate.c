/* mllm_generate: one sequence through a scheduler of its own (api_scheduler.c), stepped to the end. */
#include <string.h>

#include "core/errors.h"
#include "model/session.h"

mllm_status mllm_generate(mllm_session *s, mllm_sampler *sampler, const int32_t *prompt, int32_t n_prompt, int32_t n_max,
                          int32_t ignore_eos, int32_t *out_tokens, int32_t *n_out, mllm_token_callback callback,
                          void *user_data, mllm_timings *timings) {
    if (n_out) *n_out = 0;
    if (timings) *timings = (mllm_timings){0};
    if (!s || !sampler || !n_out) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_generate: session, sampler and n_out must not be NULL");
    if (n_prompt < 0 || (n_prompt > 0 && !prompt)) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_generate: invalid prompt");
    if (n_max < 0 || (n_max > 0 && !out_tokens)) return mllm_fail(MLLM_ERR_INVALID_ARGUMENT, "mllm_generate: invalid n_max/out_tokens");
    if (n_prompt == 0 && s->n_logits == 0) {
        return mllm_fail(MLLM_ERR_STATE, "mllm_generate: empty prompt and no logits from a previous eval");
    }
    mllm_status st = mllm_session_check_free(s, "mllm_generate");
    if (st) return st;
    /* prompts go in chunks of the session's n_batch, as mllm_session_eval reads them */
    mllm_scheduler_params sp;
    mllm_scheduler_params_init(&sp);
    sp.max_seqs = 1;
    sp.step_tokens = s->params.n_batch;
    mllm_scheduler *sch;
    if ((st = mllm_scheduler_create(s->model, &sp, &sch))) return st;
    const mllm_seq_params q = {.session = s, .sampler = sampler, .prompt = prompt, .n_prompt = n_prompt, .max_tokens = n_max,
                               .ignore_eos = ignore_eos, .callback = callback, .user_data = user_data};
    int32_t id, active = 1;
    st = mllm_scheduler_submit(sch, &q, &id);
    while (!st && active > 0) st = mllm_scheduler_step(sch, &active);
    mllm_seq_result r;
    if (!st) st = mllm_scheduler_result(sch, id, &r, out_tokens, n_max);
    if (!st) {
        *n_out = r.n_tokens;
        if (timings) *timings = r.timings;
        st = r.status;
        if (!st && r.stop_reason == MLLM_STOP_CANCELLED) st = MLLM_ERR_CANCELLED;
        if (st) mllm_fail(st, "%s", r.message[0] ? r.message : "cancelled");
    }
    mllm_scheduler_free(sch);
    return st;
}
