/* Clocks (posix.c, win32.c). */
#ifndef MLLM_PLATFORM_CLOCK_H
#define MLLM_PLATFORM_CLOCK_H

#include <stdint.h>

/* Monotonic time in nanoseconds since an arbitrary start; only differences are meaningful. */
int64_t mllm_now_ns(void);

#endif
