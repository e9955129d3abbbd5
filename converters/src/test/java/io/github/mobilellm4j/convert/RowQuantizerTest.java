package io.github.mobilellm4j.convert;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Known-answer blocks computed by hand from the ggml block definitions. */
class RowQuantizerTest {

    private static byte[] q(GgmlType t, float[] x) {
        MemorySegment seg = MemorySegment.ofArray(new byte[(int) t.rowBytes(x.length) + 3]);
        long n = RowQuantizer.quantizeRow(t, x, 0, x.length, seg, 3);
        byte[] all = seg.toArray(ValueLayout.JAVA_BYTE);
        byte[] r = new byte[(int) n];
        System.arraycopy(all, 3, r, 0, r.length);
        return r;
    }

    @Test
    void q8_0KnownBlock() {
        // amax = 127 -> d = 1.0 (fp16 0x3C00), id = 1, q = roundf(x): halves go away from zero
        float[] x = new float[32];
        x[0] = 127f;
        x[1] = 2.5f;        // -> 3 (Java's Math.round would also give 3)
        x[2] = -2.5f;       // -> -3 (Math.round would give -2)
        x[3] = 0.5f;        // -> 1
        x[4] = -0.5f;       // -> -1
        x[5] = 0.49999997f; // -> 0 (floor(x + 0.5f) in float would give 1)
        x[6] = -126.6f;     // -> -127
        byte[] expect = new byte[34];
        expect[0] = 0x00;
        expect[1] = 0x3C;
        expect[2] = 127;
        expect[3] = 3;
        expect[4] = -3;
        expect[5] = 1;
        expect[6] = -1;
        expect[7] = 0;
        expect[8] = -127;
        assertArrayEquals(expect, q(GgmlType.Q8_0, x));
    }

    @Test
    void q8_0ZeroBlockAndScale() {
        // all zero: d = 0, id = 0, everything 0
        assertArrayEquals(new byte[34], q(GgmlType.Q8_0, new float[32]));
        // amax = 63.5 -> d = 0.5 (fp16 0x3800), id = 2: 63.5 -> 127, 0.25 -> roundf(0.5) = 1, -0.75 -> roundf(-1.5) = -2
        float[] x = new float[32];
        x[0] = 63.5f;
        x[1] = 0.25f;
        x[2] = -0.75f;
        byte[] r = q(GgmlType.Q8_0, x);
        assertEquals(0x00, r[0]);
        assertEquals(0x38, r[1]);
        assertEquals(127, r[2]);
        assertEquals(1, r[3]);
        assertEquals(-2, r[4]);
    }

    @Test
    void q4_0KnownBlock() {
        // largest magnitude element is -8 -> max = -8, d = max / -8 = 1.0 (0x3C00), id = 1
        // q = min(15, (int)(x + 8.5f)): -8 -> 0, 7 -> 15, 0 -> 8, 0.5 -> 9, -0.5 -> 8, 3.2 -> 11, -3.7 -> 4
        float[] x = new float[32];
        x[0] = -8f;
        x[1] = 0.5f;
        x[2] = -0.5f;
        x[3] = 3.2f;
        x[16] = 7f;
        x[17] = -3.7f;
        byte[] r = q(GgmlType.Q4_0, x);
        assertEquals(18, r.length);
        assertEquals(0x00, r[0]);
        assertEquals(0x3C, r[1]);
        assertEquals((byte) 0xF0, r[2]);        // low nibble q[0] = 0, high nibble q[16] = 15
        assertEquals((byte) (9 | (4 << 4)), r[3]); // q[1] = 9, q[17] = 4
        assertEquals((byte) (8 | (8 << 4)), r[4]); // q[2] = 8, q[18] = 8 (x = 0)
        assertEquals((byte) (11 | (8 << 4)), r[5]);
        for (int j = 4; j < 16; j++) assertEquals((byte) 0x88, r[2 + j]);
    }

    @Test
    void q4_0PositiveMaxClampsAt15() {
        // max = +8 -> d = -1 (fp16 0xBC00), id = -1: 8 -> (int)(0.5) = 0; -8 -> (int)16.5 = 16 -> clamped 15
        float[] x = new float[32];
        x[0] = 8f;
        x[16] = -8f;
        x[1] = 2f;  // -2 + 8.5 = 6.5 -> 6
        byte[] r = q(GgmlType.Q4_0, x);
        assertEquals(0x00, r[0]);
        assertEquals((byte) 0xBC, r[1]);
        assertEquals((byte) (0 | (15 << 4)), r[2]);
        assertEquals((byte) (6 | (8 << 4)), r[3]);
    }

    @Test
    void f16AndBf16RoundToNearestEven() {
        // f16: 1 + 2^-11 is halfway between 1.0 (0x3C00) and 1+2^-10 (0x3C01): ties to even -> 0x3C00
        //      1 + 3*2^-11 is halfway between 0x3C01 and 0x3C02 -> 0x3C02; 65520 rounds to +inf 0x7C00
        float[] x = {1f + 0x1p-11f, 1f + 3 * 0x1p-11f, 65520f, -2f};
        assertArrayEquals(new byte[] {0x00, 0x3C, 0x02, 0x3C, 0x00, 0x7C, 0x00, (byte) 0xC0}, q(GgmlType.F16, x));
        // bf16: 1 + 2^-8 halfway between 0x3F80 and 0x3F81 -> 0x3F80; 1 + 3*2^-8 -> 0x3F82; -2 -> 0xC000
        float[] y = {1f + 0x1p-8f, 1f + 3 * 0x1p-8f, -2f};
        assertArrayEquals(new byte[] {(byte) 0x80, 0x3F, (byte) 0x82, 0x3F, 0x00, (byte) 0xC0}, q(GgmlType.BF16, y));
        // a signalling NaN stays a NaN (quiet bit set)
        short nan = RowQuantizer.floatToBf16(Float.intBitsToFloat(0x7F800001));
        assertEquals(0x7FC0, nan & 0xffff);
    }

    @Test
    void dequantizeInvertsKnownBlocks() {
        float[] x = new float[32];
        x[0] = -8f;
        x[5] = 3f;
        byte[] r = q(GgmlType.Q4_0, x);
        float[] back = new float[32];
        RowQuantizer.dequantizeRow(GgmlType.Q4_0, MemorySegment.ofArray(r), 0, back, 0, 32);
        // d = 1: values are q - 8: exact for integers in [-8, 7]
        assertEquals(-8f, back[0]);
        assertEquals(3f, back[5]);
        assertEquals(0f, back[1]);
    }

    @Test
    void rejectsPartialBlocks() {
        assertThrows(IllegalArgumentException.class, () -> q(GgmlType.Q8_0, new float[33]));
        assertEquals(-1, GgmlType.Q4_0.rowBytes(48));
    }
}
