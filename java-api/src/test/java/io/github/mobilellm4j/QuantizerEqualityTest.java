package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.mobilellm4j.convert.GgmlType;
import io.github.mobilellm4j.convert.RowQuantizer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The converter (Java) and the engine (C) each quantize rows; GGUF files must not depend on which one wrote
 * them. This proves the two produce the same bytes, on random rows and on edge cases (zeros, ties at .5,
 * huge and tiny magnitudes, a single dominant element, negative maxima).
 */
class QuantizerEqualityTest {
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"})
    void javaAndNativeQuantizersWriteIdenticalBytes(GgmlType type) {
        Native.ensureLoaded();
        Random rnd = new Random(99);
        int n = 32 * 64;
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 40; trial++) {
                float[] x = row(rnd, n, trial);
                long mismatch = firstDifference(type, x, arena);
                assertThat(mismatch).as("%s trial %d: first differing byte", type, trial).isEqualTo(-1L);
            }
        }
    }

    /**
     * Q4_K, Q5_K and Q6_K: both sides implement docs/k-quants.md step by step in float32, so the bytes must be
     * equal. Rows of 8 super-blocks, each row one distribution: Gaussian (several scales and offsets), all
     * zero, constant (positive, negative), all positive, all negative, subnormal floats, tiny values whose
     * scales are fp16 subnormals or underflow, large values (up to overflowing fp16 scales: then d is inf and
     * the saturating rne and the NaN guards decide), rounding ties, one dominant element per sub-block,
     * a zero sub-block next to busy ones, mixed -0.0 and +0.0.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void javaAndNativeKQuantizersWriteIdenticalBytes(GgmlType type) {
        Native.ensureLoaded();
        Random rnd = new Random(2718);
        int n = 256 * 8;
        int kinds = 20;
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 6 * kinds; trial++) {
                float[] x = kRow(rnd, n, trial % kinds);
                long mismatch = firstDifference(type, x, arena);
                assertThat(mismatch).as("%s trial %d (kind %d): first differing byte (super-block %d, byte %d)", type,
                        trial, trial % kinds, mismatch / type.blockBytes, mismatch % type.blockBytes).isEqualTo(-1L);
            }
        }
    }

    /** Quantizes x with the Java and the native quantizer: the offset of the first byte that differs, or -1. */
    private static long firstDifference(GgmlType type, float[] x, Arena arena) {
        int n = x.length;
        long bytes = RowQuantizer.rowBytes(type, n);
        assertThat(mllm_row_bytes(type.id, n)).isEqualTo(bytes);
        MemorySegment javaOut = arena.allocate(bytes);
        RowQuantizer.quantizeRow(type, x, 0, n, javaOut, 0);
        MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
        MemorySegment nativeOut = arena.allocate(bytes);
        Native.check(mllm_quantize_row(type.id, src, nativeOut, n), "quantize");
        return javaOut.mismatch(nativeOut);
    }

    private static float[] kRow(Random rnd, int n, int kind) {
        float[] x = new float[n];
        float c = (float) rnd.nextGaussian();
        for (int i = 0; i < n; i++) {
            float g = (float) rnd.nextGaussian();
            x[i] = switch (kind) {
                case 0 -> g;
                case 1 -> g * 0.02f; // weight-like
                case 2 -> 0f;
                case 3 -> Math.abs(c) + 0.5f; // constant, positive
                case 4 -> -Math.abs(c) - 0.5f; // constant, negative
                case 5 -> Math.abs(g) + 0.1f; // all positive: the min is held at 0
                case 6 -> -Math.abs(g) - 0.1f; // all negative
                case 7 -> g * 1e-40f; // subnormal floats
                case 8 -> g * 1e-6f; // scales below fp16's range: d = 0
                case 9 -> g * 2e-4f; // scales in fp16's subnormal range
                case 10 -> g * 1e4f;
                case 11 -> g * 3e9f; // maxs / 63 beyond fp16's maximum: d = inf
                case 12 -> (rnd.nextInt(33) - 16) * 0.5f; // exact halves: rounding ties
                case 13 -> i % 32 == 5 ? 40f * Math.signum(g) : g * 0.01f; // one dominant element per sub-block
                case 14 -> (i / 32) % 3 == 0 ? 0f : g; // zero sub-blocks among busy ones
                case 15 -> i % 2 == 0 ? -0f : 0f; // signed zeros
                case 16 -> g + 3f; // offset: large mins
                case 17 -> i % 16 == 0 ? 65000f : 1f; // near fp16's maximum
                case 18 -> rnd.nextInt(16); // integers, exact on the Q4_K grid
                default -> rnd.nextFloat() * 2 - 1;
            };
        }
        return x;
    }

    private static float[] row(Random rnd, int n, int trial) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (trial % 8) {
                case 0 -> (float) rnd.nextGaussian();
                case 1 -> 0f;
                case 2 -> (rnd.nextInt(17) - 8) * 0.5f; // exact halves: rounding ties
                case 3 -> (float) rnd.nextGaussian() * 1e4f;
                case 4 -> (float) rnd.nextGaussian() * 1e-6f; // below f16's normal range
                case 5 -> i % 32 == 7 ? -3f : (float) rnd.nextGaussian() * 0.01f; // negative dominant element
                case 6 -> i % 32 == 0 ? 65000f : 1f; // near f16's maximum
                default -> rnd.nextFloat() * 2 - 1;
            };
        }
        return x;
    }
}
