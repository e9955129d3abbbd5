/* The CPU backend: graphs run by a thread pool over host memory, with the SIMD kernels of the
 * kernel level in use when the model was loaded. */
#ifndef MLLM_BACKEND_CPU_H
#define MLLM_BACKEND_CPU_H

#include "cpu/kernels.h"
#include "graph/backend.h"

/* A CPU device at the current kernel level (mllm_cpu_current()) running graphs on n_threads
 * threads: its own pool of n_threads - 1 workers, or with process_pool the process-wide pool that
 * the first device asking for it created (with that device's n_threads), shared by every device
 * asking for it since (each then runs on min(n_threads, its size) threads). */
mllm_status mllm_cpu_device_create(int n_threads, int process_pool, mllm_device **out);

/* Repacks the matmul weights the kernels K run faster in panels (repack.c): each such tensor then
 * points into one new allocation, returned in *packed (NULL when nothing was packed). */
mllm_status mllm_cpu_repack(const mllm_kernels *K, const mllm_model_desc *m, void **packed);

#endif
