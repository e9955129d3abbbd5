/* Aligned heap blocks, address-space reservations and page advice (posix.c, win32.c). */
#ifndef MLLM_PLATFORM_MEMORY_H
#define MLLM_PLATFORM_MEMORY_H

#include <stddef.h>
#include <stdint.h>

/* `align` is a power of two; `size` need not be a multiple of it. Release with mllm_aligned_free
 * only (on Windows these blocks cannot go to free()). NULL when out of memory. */
void *mllm_aligned_alloc(size_t align, size_t size);
void mllm_aligned_free(void *p);

size_t mllm_page_size(void);
/* The machine's physical memory in bytes, 0 if unknown. */
uint64_t mllm_physical_memory(void);

/* `size` bytes of address space that no access may touch (any access faults), or NULL. */
void *mllm_reserve_address_space(size_t size);
void mllm_release_address_space(void *p, size_t size);

/* Advice only, both may do nothing: the whole pages inside [p, p + size) of a read-only file
 * mapping are not needed any more (they would be read again from the file if touched); a large
 * block is best backed by huge pages. */
void mllm_discard_file_pages(const void *p, size_t size);
void mllm_advise_huge_pages(void *p, size_t size);

#endif
