/* What the Vulkan tests share about the machine they run on. */
#ifndef TEST_VULKAN_DEVICE_H
#define TEST_VULKAN_DEVICE_H

#include <string.h>

/* Exit code that ctest counts as skipped (SKIP_RETURN_CODE). */
#define SKIPPED 77

/* Whether a load failed because this machine has no usable Vulkan device (no loader, no driver, no device with
 * what the backend needs), as opposed to a failure of the backend itself. */
static inline int no_vulkan_device(const char *why) {
    return strstr(why, "no Vulkan loader") || strstr(why, "no compatible driver") || strstr(why, "no device found") ||
           strstr(why, "none of the");
}

#endif
