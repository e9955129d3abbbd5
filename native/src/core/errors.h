/* Per-thread error message behind mllm_last_error(), and helpers that set it. */
#ifndef MLLM_ERRORS_H
#define MLLM_ERRORS_H

#include "mobilellm.h"

#if defined(__MINGW32__) /* checked as C99 formats, which MinGW's stdio implements (CMakeLists.txt) */
#define MLLM_PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#elif defined(__GNUC__)
#define MLLM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MLLM_PRINTF(f, a)
#endif

/* Replaces this thread's message (truncated to a fixed buffer of 1024 bytes). The arguments may
 * include mllm_last_error() itself, e.g. to prefix the message of a failed inner call. */
void mllm_set_error(const char *fmt, ...) MLLM_PRINTF(1, 2);
/* Sets the message and returns s, so callers can write `return mllm_fail(MLLM_ERR_IO, ...)`. */
mllm_status mllm_fail(mllm_status s, const char *fmt, ...) MLLM_PRINTF(2, 3);
void mllm_clear_error(void);

#endif
