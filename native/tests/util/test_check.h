/* Tiny assertion helpers shared by the engine tests. */
#ifndef TEST_CHECK_H
#define TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "mobilellm.h"

static int g_fail = 0;

#define CHECK(c)                                                                  \
    do {                                                                          \
        if (!(c)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
            g_fail++;                                                             \
        }                                                                         \
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
