/* Saved session states (the format is described in session_state.c) and prefix copies. */
#ifndef MLLM_SESSION_STATE_H
#define MLLM_SESSION_STATE_H

#include <stdint.h>
#include <stdio.h>

#include "model/session.h"

/* Bytes of the session's state now, and at most (a full context with logits). */
uint64_t mllm_state_bytes(const mllm_session *s);
uint64_t mllm_state_max_bytes(const mllm_session *s);
/* Writes the state to buf (mllm_state_bytes long) or, when file is set, to it. */
mllm_status mllm_state_write(const mllm_session *s, void *buf, FILE *file);
/* Checks a state against the session, then restores it; on a refusal the session is unchanged. */
mllm_status mllm_state_read(mllm_session *s, const uint8_t *p, uint64_t size);
/* dst's sequence becomes src's first n tokens (checked by the caller). */
mllm_status mllm_session_copy_prefix_impl(mllm_session *dst, const mllm_session *src, int32_t n);

#endif
