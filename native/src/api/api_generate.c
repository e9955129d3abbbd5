/* mllm_generate: prompt evaluation, then sample -> stream text -> evaluate, one token at a time. */
#include <stdlib.h>

#include "core/errors.h"
#include "model/session.h"
#include "platform/clock.h"
#include "tokenizer/tokenizer.h"

static double now_seconds(void) { return 1e-9 * (double)mllm_now_ns(); }

/* Appends the text `token` completes and passes it to the callback; *stop set if it asks. */
static mllm_status emit(mllm_detokenizer *dt, int32_t token, int flush, mllm_token_callback cb, void *ud, int *stop) {
    char small[256];
    char *buf = small;
    int32_t cap = (int32_t)sizeof small;
    int32_t n = flush ? mllm_detokenizer_flush(dt, buf, cap) : mllm_detokenizer_push(dt, token, buf, cap);
    if (n < 0 && n != INT32_MIN) { /* piece longer than the stack buffer: retry with its size */
        cap = -n;
        buf = malloc((size_t)cap);
        if (!buf) return mllm_fail(MLLM_ERR_OUT_OF_MEMORY, "out of memory decoding token %d", token);
        n = flush ? mllm_detokenizer_flush(dt, buf, cap) : mllm_detokenizer_push(dt, token, buf, cap);
    }
    mllm_status st = MLLM_OK;
    if (n < 0) st = mllm_fail(MLLM_ERR_STATE, "cannot decode token %d", token);
    else if (cb && (!flush || n > 0) && cb(token, buf, n, ud) != 0) *stop = 1;
    if (buf != small) free(buf);
    return st;
}

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
    const int32_t n_vocab = s->model->hp.n_vocab;
    const struct mllm_vocab *vocab = mllm_model_vocab(s->model);
    double t0 = now_seconds();
    mllm_status st = n_prompt > 0 ? mllm_session_eval(s, prompt, n_prompt, MLLM_LOGITS_LAST) : MLLM_OK;
    if (st) return st;
    double t1 = now_seconds();
    mllm_detokenizer *dt = NULL;
    if ((st = mllm_detokenizer_create(s->model, 0, &dt))) return st;
    int stop = 0;
    int32_t n = 0;
    while (!st && !stop && n < n_max) {
        /* stop before sampling a token the cache could not hold, so every returned token is
         * in the cache */
        if (!s->params.context_shift && s->n_past >= s->params.n_ctx) {
            st = mllm_fail(MLLM_ERR_CONTEXT_FULL, "context full after %d generated tokens (n_ctx %d)", n, s->params.n_ctx);
            break;
        }
        /* logits of the last row: after an ALL eval that is the last of several rows */
        const float *logits = s->logits + (size_t)(s->n_logits - 1) * (size_t)n_vocab;
        int32_t tok = mllm_sampler_sample(sampler, logits, n_vocab);
        if (tok < 0 || tok >= n_vocab) {
            st = mllm_fail(MLLM_ERR_STATE, "sampler failed: %s", mllm_last_error());
            break;
        }
        if (!ignore_eos && mllm_vocab_is_eog(vocab, tok)) break; /* EOS (or end of turn) ends generation and is not returned */
        out_tokens[n++] = tok;
        if ((st = emit(dt, tok, 0, callback, user_data, &stop))) break;
        /* every returned token is evaluated, so the cache holds prompt + output */
        st = mllm_session_eval(s, &tok, 1, MLLM_LOGITS_LAST);
    }
    if (!st) st = emit(dt, -1, 1, callback, user_data, &stop); /* held bytes of an unfinished character */
    mllm_detokenizer_free(dt);
    double t2 = now_seconds();
    *n_out = n;
    if (timings) {
        timings->n_prompt = n_prompt;
        timings->n_generated = n;
        timings->prompt_seconds = t1 - t0;
        timings->generate_seconds = t2 - t1;
    }
    return st;
}
