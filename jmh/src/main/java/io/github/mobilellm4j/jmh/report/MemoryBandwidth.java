package io.github.mobilellm4j.jmh.report;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A small STREAM-style measurement of memory bandwidth, so that the report says what the machine can move:
 * decode speed is bound by it (every generated token reads all the weights once). Buffers are far larger than
 * the caches. Reports the best of several runs, in GB/s (10^9 bytes).
 * <ul>
 *   <li>read: sum of a long array (what a matrix-vector product does with the weights);</li>
 *   <li>copy: {@code System.arraycopy} (bytes read plus bytes written).</li>
 * </ul>
 */
public final class MemoryBandwidth {
    /** Bytes per thread's buffer; two buffers per thread for copy. */
    private static final int BYTES_PER_THREAD = 256 << 20;
    private static final int RUNS = 5;

    public record Result(int threads, double readGBs, double copyGBs) {
    }

    private MemoryBandwidth() {
    }

    public static void main(String[] args) throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        for (int t : cores > 1 ? new int[] {1, cores} : new int[] {1}) {
            Result r = measure(t);
            System.out.printf(java.util.Locale.ROOT, "threads %d: read %.1f GB/s, copy %.1f GB/s%n", r.threads(),
                    r.readGBs(), r.copyGBs());
        }
    }

    /** Measures with the given number of threads, each on its own buffers. */
    public static Result measure(int threads) throws Exception {
        int longs = BYTES_PER_THREAD / 8;
        long[][] src = new long[threads][];
        long[][] dst = new long[threads][];
        for (int t = 0; t < threads; t++) {
            src[t] = new long[longs];
            dst[t] = new long[longs];
            for (int i = 0; i < longs; i += 512) src[t][i] = i; // touch every page
            java.util.Arrays.fill(dst[t], 1L);
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread th = new Thread(r, "membw");
            th.setDaemon(true);
            return th;
        });
        try {
            // warm-up: lets the JIT compile the loops
            run(pool, threads, t -> sum(src[t]));
            run(pool, threads, t -> {
                System.arraycopy(src[t], 0, dst[t], 0, longs);
                return 0L;
            });
            double bestRead = 0;
            double bestCopy = 0;
            for (int k = 0; k < RUNS; k++) {
                long t0 = System.nanoTime();
                run(pool, threads, t -> sum(src[t]));
                double s = (System.nanoTime() - t0) / 1e9;
                bestRead = Math.max(bestRead, (double) threads * BYTES_PER_THREAD / s / 1e9);
                t0 = System.nanoTime();
                run(pool, threads, t -> {
                    System.arraycopy(src[t], 0, dst[t], 0, longs);
                    return 0L;
                });
                s = (System.nanoTime() - t0) / 1e9;
                bestCopy = Math.max(bestCopy, 2.0 * threads * BYTES_PER_THREAD / s / 1e9);
            }
            return new Result(threads, bestRead, bestCopy);
        } finally {
            pool.shutdownNow();
        }
    }

    private interface Work {
        long run(int thread);
    }

    private static volatile long sink;

    private static void run(ExecutorService pool, int threads, Work w) throws Exception {
        List<Future<Long>> fs = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            final int id = t;
            Callable<Long> c = () -> w.run(id);
            fs.add(pool.submit(c));
        }
        long acc = 0;
        for (Future<Long> f : fs) acc += f.get();
        sink = acc;
    }

    private static long sum(long[] a) {
        // four accumulators: independent adds the JIT can vectorise
        long s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 4 <= a.length; i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
        }
        for (; i < a.length; i++) s0 += a[i];
        return s0 + s1 + s2 + s3;
    }
}
