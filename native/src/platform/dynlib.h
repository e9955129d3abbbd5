/* Opening shared libraries at run time (posix.c: dlopen; win32.c: LoadLibrary). */
#ifndef MLLM_PLATFORM_DYNLIB_H
#define MLLM_PLATFORM_DYNLIB_H

/* NULL when the library cannot be found or loaded. */
void *mllm_dynlib_open(const char *name);
void *mllm_dynlib_symbol(void *lib, const char *name);

#endif
