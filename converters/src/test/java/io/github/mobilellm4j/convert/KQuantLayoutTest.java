package io.github.mobilellm4j.convert;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Q4_K / Q5_K / Q6_K dequantizers against blocks built byte by byte from the layout tables of
 * docs/k-quants.md, without our quantizer. Values are chosen exact in float, so every expected
 * value is compared exactly. Zeros and computed values are compared as boxed Floats, whose equals compares bit
 * patterns, so +0.0 and -0.0 differ.
 */
class KQuantLayoutTest {

    private static float[] dequantize(GgmlType t, byte[] block) {
        assertThat(block).hasSize(t.blockBytes);
        float[] y = new float[256];
        RowQuantizer.dequantizeRow(t, MemorySegment.ofArray(block), 0, y, 0, 256);
        return y;
    }

    private static void half(byte[] b, int at, int bits) {
        b[at] = (byte) bits;
        b[at + 1] = (byte) (bits >> 8);
    }

    @Test
    void q4_kHandWrittenBytes() {
        byte[] b = new byte[144];
        half(b, 0, 0x3C00);   // d = 1
        half(b, 2, 0x3C00);   // dmin = 1
        b[4] = 1;             // scales[0]: sc[0] = 1
        b[8] = 2;             // scales[4]: m[0] = 2
        b[12] = 0x53;         // scales[8]: sc[4] = 3, m[4] = 5
        b[16] = 0x21;         // qs[0]: element 0 q = 1, element 32 q = 2
        b[16 + 64] = 0x74;    // qs[64] (chunk 2, l = 0): element 128 q = 4, element 160 q = 7
        float[] y = dequantize(GgmlType.Q4_K, b);
        assertThat(y[0]).isEqualTo(1 * 1 - 2);       // d*sc[0]*1 - dmin*m[0]
        assertThat(y[1]).isEqualTo(0 * 1 - 2);       // q = 0
        assertThat(y[32]).isEqualTo((Float) 0f);             // sub-block 1: sc = m = 0
        assertThat(y[128]).isEqualTo(3 * 4 - 5);     // sub-block 4
        assertThat(y[129]).isEqualTo(-5f);
        assertThat(y[160]).isEqualTo((Float) 0f);            // sub-block 5
    }

    @Test
    void q5_kHandWrittenBytes() {
        byte[] b = new byte[176];
        half(b, 0, 0x3C00);   // d = 1, dmin = 0
        b[4] = 1;             // sc[0] = 1
        b[5] = 1;             // sc[1] = 1
        b[6] = 1;             // sc[2] = 1
        b[15] = 2;            // scales[11]: sc[7] = 2
        b[16] = 0b0000_0110;  // qh[0]: bit 1 -> element 32, bit 2 -> element 64 get +16
        b[16 + 5] = (byte) 0x80; // qh[5] bit 7 -> element 64*3 + 32 + 5 = 229 gets +16
        b[48] = 0x31;         // qs[0]: element 0 low 1, element 32 low 3
        float[] y = dequantize(GgmlType.Q5_K, b);
        assertThat(y[0]).isEqualTo(1f);
        assertThat(y[32]).isEqualTo(19f);
        assertThat(y[64]).isEqualTo(16f);
        assertThat(y[65]).isEqualTo((Float) 0f);
        assertThat(y[229]).isEqualTo(32f);           // 2 * 16
        assertThat(y[228]).isEqualTo((Float) 0f);
    }

    @Test
    void q6_kHandWrittenBytes() {
        byte[] b = new byte[210];
        b[0] = 0x21;                  // ql[0]: element 0 low 1, element 64 low 2
        b[128] = (byte) 0b11_10_01_10; // qh[0]: high bits of elements 0, 32, 64, 96 = 2, 1, 2, 3
        b[192] = 1;                   // scales[0] (elements 0..15)
        b[194] = -1;                  // scales[2] (32..47)
        b[196] = 2;                   // scales[4] (64..79)
        b[207] = 3;                   // scales[15] (240..255)
        half(b, 208, 0x3C00);         // d = 1
        float[] y = dequantize(GgmlType.Q6_K, b);
        assertThat(y[0]).isEqualTo(1f);       // q = 1 | 2 << 4 = 33
        assertThat(y[1]).isEqualTo(-32f);     // q = 0
        assertThat(y[32]).isEqualTo(16f);     // q = 0 | 1 << 4 = 16, scale -1
        assertThat(y[64]).isEqualTo(4f);      // q = 2 | 2 << 4 = 34, scale 2
        assertThat(y[96]).isEqualTo((Float) 0f);      // scale 0
        assertThat(y[255]).isEqualTo(-96f);   // q = 0, scale 3
    }

    /** Q4_K / Q5_K: d = 0.25, dmin = 0.125, 16 distinct six-bit numbers (high bits in use). */
    private static final int[] SC = {1, 2, 3, 4, 33, 50, 63, 17};
    private static final int[] MN = {5, 6, 7, 8, 40, 21, 9, 63};
    /** The 12 scale bytes of SC/MN, packed by hand from the table (see the comments). */
    private static final int[] SCALES = {
            0x81, 0xC2, 0xC3, 0x44,   // sc[j] | (sc[j+4] >> 4) << 6: 1|2<<6, 2|3<<6, 3|3<<6, 4|1<<6
            0x85, 0x46, 0x07, 0xC8,   // m[j] | (m[j+4] >> 4) << 6:   5|2<<6, 6|1<<6, 7|0<<6, 8|3<<6
            0x81, 0x52, 0x9F, 0xF1};  // sc[j+4] & 15 | (m[j+4] & 15) << 4

    private static byte[] q45Block(boolean five, int[] q) {
        byte[] b = new byte[five ? 176 : 144];
        half(b, 0, 0x3400);  // 0.25
        half(b, 2, 0x3000);  // 0.125
        for (int k = 0; k < 12; k++) b[4 + k] = (byte) SCALES[k];
        int qs = five ? 48 : 16;
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                int lo = q[64 * c + l], hi = q[64 * c + 32 + l];
                b[qs + 32 * c + l] = (byte) ((lo & 15) | (hi & 15) << 4);
                if (five) b[16 + l] |= (byte) (((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
            }
        }
        return b;
    }

    @Test
    void q4_kAndQ5_kEveryElement() {
        for (boolean five : new boolean[] {false, true}) {
            int[] q = new int[256];
            for (int e = 0; e < 256; e++) q[e] = (7 * e + 3) % (five ? 32 : 16);
            float[] y = dequantize(five ? GgmlType.Q5_K : GgmlType.Q4_K, q45Block(five, q));
            for (int e = 0; e < 256; e++) {
                int i = e / 32;
                assertThat(y[e]).as("%s element %d", five ? "q5_k" : "q4_k", e)
                        .isEqualTo(Float.valueOf(0.25f * SC[i] * q[e] - 0.125f * MN[i]));
            }
        }
    }

    @Test
    void q6_kEveryElement() {
        int[] sc = {1, -2, 3, -4, 5, -6, 7, -8, 127, -128, 10, -10, 20, -20, 64, -1};
        int[] q = new int[256];
        for (int e = 0; e < 256; e++) q[e] = (13 * e + 5) % 64;
        byte[] b = new byte[210];
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int e = 128 * h + l;
                b[64 * h + l] = (byte) ((q[e] & 15) | (q[e + 64] & 15) << 4);
                b[64 * h + l + 32] = (byte) ((q[e + 32] & 15) | (q[e + 96] & 15) << 4);
                b[128 + 32 * h + l] = (byte) ((q[e] >> 4) | (q[e + 32] >> 4) << 2 | (q[e + 64] >> 4) << 4 | (q[e + 96] >> 4) << 6);
            }
        }
        for (int s = 0; s < 16; s++) b[192 + s] = (byte) sc[s];
        half(b, 208, 0x3800); // d = 0.5
        float[] y = dequantize(GgmlType.Q6_K, b);
        for (int e = 0; e < 256; e++) {
            assertThat(y[e]).as("q6_k element %d", e).isEqualTo(Float.valueOf(0.5f * sc[e / 16] * (q[e] - 32)));
        }
    }

    @Test
    void rowsOfSeveralSuperBlocksUseTheirOwnBlocks() {
        // two Q6_K blocks: the second one's d doubles its values
        byte[] row = new byte[420];
        row[192] = 1;
        half(row, 208, 0x3C00);
        row[210 + 192] = 1;
        half(row, 210 + 208, 0x4000);
        float[] y = new float[512];
        RowQuantizer.dequantizeRow(GgmlType.Q6_K, MemorySegment.ofArray(row), 0, y, 0, 512);
        assertThat(y[0]).isEqualTo(-32f);
        assertThat(y[256]).isEqualTo(-64f);
        assertThat(y[16]).isZero(); // scale 0: -0.0 (isZero takes either zero)
    }
}
