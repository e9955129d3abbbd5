package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.*;
import static org.junit.jupiter.api.Assertions.*;

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
                long bytes = RowQuantizer.rowBytes(type, n);
                assertEquals(bytes, mllm_row_bytes(type.id, n));
                MemorySegment javaOut = arena.allocate(bytes);
                RowQuantizer.quantizeRow(type, x, 0, n, javaOut, 0);
                MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
                MemorySegment nativeOut = arena.allocate(bytes);
                Native.check(mllm_quantize_row(type.id, src, nativeOut, n), "quantize");
                long mismatch = javaOut.mismatch(nativeOut);
                assertEquals(-1L, mismatch, type + " trial " + trial + ": first differing byte " + mismatch);
            }
        }
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
