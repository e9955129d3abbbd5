package io.github.mobilellm4j.convert;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
        assertThat(q(GgmlType.Q8_0, x)).isEqualTo(expect);
    }

    @Test
    void q8_0ZeroBlockAndScale() {
        // all zero: d = 0, id = 0, everything 0
        assertThat(q(GgmlType.Q8_0, new float[32])).isEqualTo(new byte[34]);
        // amax = 63.5 -> d = 0.5 (fp16 0x3800), id = 2: 63.5 -> 127, 0.25 -> roundf(0.5) = 1, -0.75 -> roundf(-1.5) = -2
        float[] x = new float[32];
        x[0] = 63.5f;
        x[1] = 0.25f;
        x[2] = -0.75f;
        byte[] r = q(GgmlType.Q8_0, x);
        assertThat(r[0]).isEqualTo((byte) 0x00);
        assertThat(r[1]).isEqualTo((byte) 0x38);
        assertThat(r[2]).isEqualTo((byte) 127);
        assertThat(r[3]).isEqualTo((byte) 1);
        assertThat(r[4]).isEqualTo((byte) -2);
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
        assertThat(r).hasSize(18);
        assertThat(r[0]).isEqualTo((byte) 0x00);
        assertThat(r[1]).isEqualTo((byte) 0x3C);
        assertThat(r[2]).isEqualTo((byte) 0xF0);        // low nibble q[0] = 0, high nibble q[16] = 15
        assertThat(r[3]).isEqualTo((byte) (9 | (4 << 4))); // q[1] = 9, q[17] = 4
        assertThat(r[4]).isEqualTo((byte) (8 | (8 << 4))); // q[2] = 8, q[18] = 8 (x = 0)
        assertThat(r[5]).isEqualTo((byte) (11 | (8 << 4)));
        for (int j = 4; j < 16; j++) assertThat(r[2 + j]).isEqualTo((byte) 0x88);
    }

    @Test
    void q4_0PositiveMaxClampsAt15() {
        // max = +8 -> d = -1 (fp16 0xBC00), id = -1: 8 -> (int)(0.5) = 0; -8 -> (int)16.5 = 16 -> clamped 15
        float[] x = new float[32];
        x[0] = 8f;
        x[16] = -8f;
        x[1] = 2f;  // -2 + 8.5 = 6.5 -> 6
        byte[] r = q(GgmlType.Q4_0, x);
        assertThat(r[0]).isEqualTo((byte) 0x00);
        assertThat(r[1]).isEqualTo((byte) 0xBC);
        assertThat(r[2]).isEqualTo((byte) (0 | (15 << 4)));
        assertThat(r[3]).isEqualTo((byte) (6 | (8 << 4)));
    }

    @Test
    void f16AndBf16RoundToNearestEven() {
        // f16: 1 + 2^-11 is halfway between 1.0 (0x3C00) and 1+2^-10 (0x3C01): ties to even -> 0x3C00
        //      1 + 3*2^-11 is halfway between 0x3C01 and 0x3C02 -> 0x3C02; 65520 rounds to +inf 0x7C00
        float[] x = {1f + 0x1p-11f, 1f + 3 * 0x1p-11f, 65520f, -2f};
        assertThat(q(GgmlType.F16, x)).isEqualTo(new byte[] {0x00, 0x3C, 0x02, 0x3C, 0x00, 0x7C, 0x00, (byte) 0xC0});
        // bf16: 1 + 2^-8 halfway between 0x3F80 and 0x3F81 -> 0x3F80; 1 + 3*2^-8 -> 0x3F82; -2 -> 0xC000
        float[] y = {1f + 0x1p-8f, 1f + 3 * 0x1p-8f, -2f};
        assertThat(q(GgmlType.BF16, y)).isEqualTo(new byte[] {(byte) 0x80, 0x3F, (byte) 0x82, 0x3F, 0x00, (byte) 0xC0});
        // a signalling NaN stays a NaN (quiet bit set)
        short nan = RowQuantizer.floatToBf16(Float.intBitsToFloat(0x7F800001));
        assertThat(nan & 0xffff).isEqualTo(0x7FC0);
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
        assertThat(back[0]).isEqualTo(-8f);
        assertThat(back[5]).isEqualTo(3f);
        assertThat(back[1]).isEqualTo((Float) 0f); // boxed: Float.equals tells +0.0 from -0.0
    }

    @Test
    void rejectsPartialBlocks() {
        assertThatThrownBy(() -> q(GgmlType.Q8_0, new float[33])).isInstanceOf(IllegalArgumentException.class);
        assertThat(GgmlType.Q4_0.rowBytes(48)).isEqualTo(-1);
    }

    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) b[i] = (byte) v[i];
        return b;
    }

    private static byte[] concat(byte[] head, int fill, int total) {
        byte[] r = new byte[total];
        java.util.Arrays.fill(r, (byte) fill);
        System.arraycopy(head, 0, r, 0, head.length);
        return r;
    }

    @Test
    void q4_1KnownBlock() {
        // min = -1, max = 14 -> d = 15/15 = 1.0 (f16 0x3C00), m = -1 (f16 0xBC00), id = 1
        // q = min(15, (int8_t)((x - min) * id + 0.5f)):
        //   -1 -> 0.5 -> 0; 14 -> 15.5 -> 15; 2.5 -> 4.0 -> 4; 2.4 -> 3.9 -> 3 (truncation); 0 -> 1.5 -> 1
        float[] x = new float[32];
        x[0] = -1f;
        x[16] = 14f;
        x[1] = 2.5f;
        x[17] = 2.4f;
        // layout: d, m, then 16 bytes q[j] | q[j+16] << 4
        byte[] head = bytes(0x00, 0x3C, 0x00, 0xBC,
                0x00 | (15 << 4),   // q[0] = 0, q[16] = 15
                4 | (3 << 4));      // q[1] = 4, q[17] = 3
        assertThat(q(GgmlType.Q4_1, x)).isEqualTo(concat(head, 0x11, 20)); // all others q = 1
    }

    @Test
    void q4_1ConstantBlockStoresOnlyTheMinimum() {
        // all 5: d = 0 -> id = 0, q = (int8_t)(0 + 0.5f) = 0, m = 5 (f16 0x4500); dequantizes exactly
        float[] x = new float[32];
        java.util.Arrays.fill(x, 5f);
        byte[] r = q(GgmlType.Q4_1, x);
        assertThat(r).isEqualTo(concat(bytes(0x00, 0x00, 0x00, 0x45), 0x00, 20));
        float[] back = new float[32];
        RowQuantizer.dequantizeRow(GgmlType.Q4_1, MemorySegment.ofArray(r), 0, back, 0, 32);
        for (float v : back) assertThat(v).isEqualTo(5f);
    }

    @Test
    void q5_0KnownBlock() {
        // largest magnitude element is -16 -> d = -16 / -16 = 1.0 (0x3C00), id = 1
        // q = min(31, (int8_t)(x + 16.5f)): -16 -> 0; 0.5 -> 17; -0.5 -> 16; 3.2 -> 19.7 -> 19;
        //   15 -> 31; -3.7 -> 12.8 -> 12; 15.9 -> 32.4 -> 32 -> clamped 31; 0 -> 16
        float[] x = new float[32];
        x[0] = -16f;
        x[1] = 0.5f;
        x[2] = -0.5f;
        x[3] = 3.2f;
        x[16] = 15f;
        x[17] = -3.7f;
        x[18] = 15.9f;
        // qh bit j = bit 4 of q[j]: elements 0..15: all set except bit 0 (q[0] = 0) -> 0xFFFE;
        // elements 16..31: all set except bit 17 (q[17] = 12) -> 0xFFFD; qh = 0xFFFDFFFE little-endian
        // nibbles: byte j = (q[j] & 15) | (q[j+16] & 15) << 4 (q = 16 -> nibble 0, q = 31 -> 15)
        byte[] head = bytes(0x00, 0x3C, 0xFE, 0xFF, 0xFD, 0xFF,
                0 | (15 << 4),      // q[0] = 0, q[16] = 31
                1 | (12 << 4),      // q[1] = 17, q[17] = 12
                0 | (15 << 4),      // q[2] = 16, q[18] = 31
                3 | (0 << 4));      // q[3] = 19, q[19] = 16
        assertThat(q(GgmlType.Q5_0, x)).isEqualTo(concat(head, 0x00, 22)); // q = 16 -> nibbles 0
    }

    @Test
    void q5_1KnownBlock() {
        // min = -1, max = 30 -> d = 31/31 = 1.0 (0x3C00), m = -1 (0xBC00), id = 1
        // q = min(31, (uint8_t)((x - min) * id + 0.5f)): -1 -> 0; 30 -> 31.5 -> 31; 14.5 -> 16.0 -> 16;
        //   14.4 -> 15.9 -> 15; 0 -> 1
        float[] x = new float[32];
        x[0] = -1f;
        x[16] = 30f;
        x[1] = 14.5f;
        x[17] = 14.4f;
        // qh: bit 1 (q[1] = 16) and bit 16 (q[16] = 31) -> 0x00010002 little-endian
        byte[] head = bytes(0x00, 0x3C, 0x00, 0xBC, 0x02, 0x00, 0x01, 0x00,
                0 | (15 << 4),      // q[0] = 0, q[16] = 31 & 15
                0 | (15 << 4));     // q[1] = 16 & 15, q[17] = 15
        assertThat(q(GgmlType.Q5_1, x)).isEqualTo(concat(head, 0x11, 24)); // all others q = 1
    }

    @Test
    void lowBitRoundTripBounds() {
        java.util.Random rnd = new java.util.Random(7);
        int n = 32 * 16;
        for (GgmlType t : new GgmlType[] {GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1}) {
            for (int trial = 0; trial < 20; trial++) {
                float[] x = new float[n];
                float scale = (float) Math.pow(10, rnd.nextInt(7) - 3);
                float shift = trial % 2 == 0 ? 0f : scale * 3;
                for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian() * scale + shift;
                byte[] r = q(t, x);
                assertThat(r.length).as("row bytes").isEqualTo(t.rowBytes(n));
                float[] back = new float[n];
                RowQuantizer.dequantizeRow(t, MemorySegment.ofArray(r), 0, back, 0, n);
                for (int b = 0; b < n / 32; b++) {
                    float mn = Float.POSITIVE_INFINITY, mx = Float.NEGATIVE_INFINITY, amax = 0;
                    for (int j = 0; j < 32; j++) {
                        float v = x[32 * b + j];
                        mn = Math.min(mn, v);
                        mx = Math.max(mx, v);
                        amax = Math.max(amax, Math.abs(v));
                    }
                    // step d; rounding error <= d/2 (Q5_0: the side opposite the max clamps at 31,
                    // error up to d); plus f16 rounding of d (q*d*2^-11 <= 31/2048 d) and of m
                    double bound = switch (t) {
                        case Q4_1 -> 0.52 * (mx - mn) / 15 + Math.abs(mn) * 0x1p-11;
                        case Q5_1 -> 0.52 * (mx - mn) / 31 + Math.abs(mn) * 0x1p-11;
                        default -> 1.02 * amax / 16;
                    } + 1e-7 * scale;
                    for (int j = 0; j < 32; j++) {
                        int i = 32 * b + j;
                        assertThat((double) Math.abs(x[i] - back[i]))
                                .as("%s trial %d element %d: %s -> %s", t, trial, i, x[i], back[i])
                                .isLessThanOrEqualTo(bound);
                    }
                }
            }
        }
    }

    @Test
    void newOutputTypesParseAndFollowTheQ4_0Policy() {
        assertThat(OutputType.parse("q4_1").fileType).isEqualTo(3);
        assertThat(OutputType.parse("Q5_0").fileType).isEqualTo(8);
        assertThat(OutputType.parse("q5-1").fileType).isEqualTo(9);
        for (OutputType t : new OutputType[] {OutputType.Q4_1, OutputType.Q5_0, OutputType.Q5_1}) {
            assertThat(RowQuantizer.canQuantize(t.tensorType)).as("canQuantize(%s)", t.tensorType).isTrue();
            long[] ne = {64, 10};
            assertThat(TensorPolicy.choose("token_embd.weight", ne, t, false, null)).isEqualTo(GgmlType.Q8_0);
            assertThat(TensorPolicy.choose("token_embd.weight", ne, t, true, null)).isEqualTo(t.tensorType);
            assertThat(TensorPolicy.choose("blk.0.attn_q.weight", ne, t, false, null)).isEqualTo(t.tensorType);
            assertThat(TensorPolicy.choose("blk.0.ffn_down.weight", new long[] {80, 64}, t, false, null))
                    .isEqualTo(GgmlType.F16);
            assertThat(TensorPolicy.choose("blk.0.attn_norm.weight", new long[] {64}, t, false, null))
                    .isEqualTo(GgmlType.F32);
        }
    }
}
