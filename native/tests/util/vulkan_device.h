/* What the Vulkan tests share about the machine they run on. */
#ifndef TEST_VULKAN_DEVICE_H
#define TEST_VULKAN_DEVICE_H

#include <stdlib.h>
#include <string.h>

/* Exit code that ctest counts as skipped (SKIP_RETURN_CODE). */
#define SKIPPED 77

/* Whether a load failed because this machine has no usable Vulkan device (no loader, no driver, no device with
 * what the backend needs), as opposed to a failure of the backend itself. */
static inline int no_vulkan_device(const char *why) {
    return strstr(why, "no Vulkan loader") || strstr(why, "no compatible driver") || strstr(why, "no device found") ||
           strstr(why, "none of the");
}

/* Sets an environment variable for the backend to read at the next model load; NULL removes it. */
static inline void set_env(const char *name, const char *value) {
#if defined(_WIN32)
    _putenv_s(name, value ? value : ""); /* an empty value removes it on Windows */
#else
    if (value) setenv(name, value, 1);
    else unsetenv(name);
#endif
}

/* Turns the Vulkan validation layers on (MLLM_VULKAN_VALIDATION=1) unless the environment already says
 * otherwise: the tests require them to report no error. */
static inline void enable_vulkan_validation(void) {
#if defined(_WIN32)
    if (!getenv("MLLM_VULKAN_VALIDATION")) _putenv_s("MLLM_VULKAN_VALIDATION", "1");
#else
    setenv("MLLM_VULKAN_VALIDATION", "1", 0);
#endif
}

#endif
