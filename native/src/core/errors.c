/* Error state and version queries of the public API. */
#include "core/errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char g_error[1024];

/* Formats into a local buffer first: callers may pass the current message (mllm_last_error())
 * as an argument to wrap it, and vsnprintf must not write into a buffer it is reading from. */
static void set_error_v(const char *fmt, va_list ap) {
    char msg[sizeof g_error];
    vsnprintf(msg, sizeof msg, fmt, ap);
    memcpy(g_error, msg, sizeof msg);
}

void mllm_set_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    set_error_v(fmt, ap);
    va_end(ap);
}

mllm_status mllm_fail(mllm_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    set_error_v(fmt, ap);
    va_end(ap);
    return s;
}

void mllm_clear_error(void) { g_error[0] = '\0'; }

int32_t mllm_abi_version(void) { return MLLM_ABI_VERSION; }

const char *mllm_version(void) { return "0.1.0"; }

const char *mllm_last_error(void) { return g_error; }

const char *mllm_status_name(mllm_status status) {
    switch (status) {
    case MLLM_OK: return "MLLM_OK";
    case MLLM_ERR_INVALID_ARGUMENT: return "MLLM_ERR_INVALID_ARGUMENT";
    case MLLM_ERR_IO: return "MLLM_ERR_IO";
    case MLLM_ERR_FORMAT: return "MLLM_ERR_FORMAT";
    case MLLM_ERR_UNSUPPORTED: return "MLLM_ERR_UNSUPPORTED";
    case MLLM_ERR_OUT_OF_MEMORY: return "MLLM_ERR_OUT_OF_MEMORY";
    case MLLM_ERR_CONTEXT_FULL: return "MLLM_ERR_CONTEXT_FULL";
    case MLLM_ERR_BACKEND: return "MLLM_ERR_BACKEND";
    case MLLM_ERR_STATE: return "MLLM_ERR_STATE";
    case MLLM_ERR_CANCELLED: return "MLLM_ERR_CANCELLED";
    }
    return "MLLM_ERR_UNKNOWN";
}
