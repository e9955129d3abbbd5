/* Reading whole files by UTF-8 path, mapped or copied (posix.c, win32.c). */
#ifndef MLLM_PLATFORM_FILE_H
#define MLLM_PLATFORM_FILE_H

#include <stddef.h>
#include <stdint.h>

typedef struct mllm_file {
    intptr_t handle; /* file descriptor or HANDLE */
    uint64_t size;
} mllm_file;

/* Functions returning int give 0 on success, -1 on failure with the reason in why[why_size]
 * (e.g. "No such file or directory"). */
/* Opens a regular file for reading. A path naming something else (a directory, a FIFO, a device)
 * gives MLLM_FILE_NOT_REGULAR, with what it is in why (e.g. "a FIFO"), without waiting on it. */
#define MLLM_FILE_NOT_REGULAR (-2)
int mllm_file_open(const char *path, mllm_file *f, char *why, size_t why_size);
/* Reads exactly n bytes at the current position. */
int mllm_file_read(mllm_file *f, void *buf, size_t n, char *why, size_t why_size);
/* The whole file mapped read-only (copy-on-write), or NULL where it cannot be mapped. The mapping
 * outlives mllm_file_close; release it with mllm_file_unmap. */
void *mllm_file_map(mllm_file *f);
void mllm_file_unmap(void *base, size_t size);
void mllm_file_close(mllm_file *f);
/* Renames `from` to `to`, replacing a file `to` at once (readers see the old or the new one). */
int mllm_file_replace(const char *from, const char *to);

#endif
