/* The assertion harness of the engine tests. A failed check prints where and what failed and is
 * counted; the test goes on, and main ends with `return test_result("test_name");`.
 *   CHECK(cond)                     cond holds
 *   CHECK(cond, "fmt", args...)     the same, printing the message when it fails
 *   CHECK_OK(expr)                  expr returns MLLM_OK (else the status and mllm_last_error())
 *   CHECK_ERR(expr, status, word)   expr returns status and mllm_last_error() contains word */
#ifndef TEST_CHECK_H
#define TEST_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "mobilellm.h"

static int g_fail = 0;

/* fmt starts with one space, after which the message (if any) follows */
MLLM_PRINTF(4, 5) static inline void test_check_failed(const char *file, int line, const char *cond,
                                                                            const char *fmt, ...) {
    fprintf(stderr, "%s:%d: CHECK failed: %s", file, line, cond);
    if (fmt[1]) {
        va_list ap;
        va_start(ap, fmt);
        fputs(" --", stderr);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fputc('\n', stderr);
    g_fail++;
}

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond)) test_check_failed(__FILE__, __LINE__, #cond, " " __VA_ARGS__);         \
    } while (0)

/* Status equals `want` and the last error message contains `word`. */
#define CHECK_ERR(expr, want, word)                                                                       \
    do {                                                                                                  \
        mllm_status s_ = (expr);                                                                          \
        if (s_ != (want) || !strstr(mllm_last_error(), (word))) {                                         \
            fprintf(stderr, "%s:%d: %s -> %s '%s', expected %s containing '%s'\n", __FILE__, __LINE__, #expr, \
                    mllm_status_name(s_), mllm_last_error(), mllm_status_name(want), (word));             \
            g_fail++;                                                                                     \
        }                                                                                                 \
    } while (0)

#define CHECK_OK(expr)                                                                                     \
    do {                                                                                                   \
        mllm_status s_ = (expr);                                                                           \
        if (s_ != MLLM_OK) {                                                                               \
            fprintf(stderr, "%s:%d: %s -> %s '%s'\n", __FILE__, __LINE__, #expr, mllm_status_name(s_), mllm_last_error()); \
            g_fail++;                                                                                      \
        }                                                                                                  \
    } while (0)

static inline int test_result(const char *name) {
    if (g_fail) fprintf(stderr, "%s: %d check(s) failed\n", name, g_fail);
    else printf("%s: all checks passed\n", name);
    return g_fail ? 1 : 0;
}

#endif
