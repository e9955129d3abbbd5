package io.github.mobilellm4j.convert;

import io.github.mobilellm4j.convert.gguf.GgufReader;
import io.github.mobilellm4j.convert.gguf.GgufTensorInfo;
import io.github.mobilellm4j.convert.gguf.GgufValue;
import io.github.mobilellm4j.convert.gguf.GgufValueType;
import io.github.mobilellm4j.convert.gguf.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GgufTest {
    @TempDir
    Path tmp;

    Path writeSample() throws Exception {
        GgufWriter w = new GgufWriter();
        w.put("general.architecture", GgufValue.string("llama"));
        w.put("a.u8", new GgufValue(GgufValueType.UINT8, 200, null));
        w.put("a.i8", new GgufValue(GgufValueType.INT8, -5, null));
        w.put("a.u16", new GgufValue(GgufValueType.UINT16, 60000, null));
        w.put("a.i16", new GgufValue(GgufValueType.INT16, -300, null));
        w.put("a.u32", GgufValue.u32(4_000_000_000L));
        w.put("a.i32", GgufValue.i32(-7));
        w.put("a.f32", GgufValue.f32(0.25f));
        w.put("a.bool", GgufValue.bool(true));
        w.put("a.u64", new GgufValue(GgufValueType.UINT64, 1L << 40, null));
        w.put("a.i64", new GgufValue(GgufValueType.INT64, -(1L << 40), null));
        w.put("a.f64", new GgufValue(GgufValueType.FLOAT64, 1.5, null));
        w.put("a.strs", GgufValue.array(GgufValueType.STRING, List.of("x", "\u2581y", "")));
        w.put("a.ints", GgufValue.array(GgufValueType.INT32, List.of(1, -2, 3)));
        float[] v5 = {1, 2, 3, 4, 5};
        w.addTensor("v", GgmlType.F32, new long[] {5}, sink -> {
            long off = sink.reserve(20);
            RowQuantizer.quantizeRow(GgmlType.F32, v5, 0, 5, sink.segment(), off);
        });
        float[] m = new float[64];
        m[0] = 127;
        m[33] = -63.5f;
        w.addTensor("m", GgmlType.Q8_0, new long[] {32, 2}, sink -> {
            for (int r = 0; r < 2; r++) {
                long off = sink.reserve(34);
                RowQuantizer.quantizeRow(GgmlType.Q8_0, m, 32 * r, 32, sink.segment(), off);
            }
        });
        Path out = tmp.resolve("s.gguf");
        w.write(out, false, List.of(), null);
        return out;
    }

    @Test
    void writtenFileHasGgufLayoutAndReadsBack() throws Exception {
        Path out = writeSample();
        byte[] b = Files.readAllBytes(out);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        // header by hand: "GGUF", version 3, 2 tensors, 15 KVs (general.alignment + 14)
        assertThat(new String(b, 0, 4, StandardCharsets.ISO_8859_1)).as("magic").isEqualTo("GGUF");
        assertThat(bb.getInt(4)).isEqualTo(3);
        assertThat(bb.getLong(8)).isEqualTo(2);
        assertThat(bb.getLong(16)).isEqualTo(15);
        // first KV: key "general.alignment" (u64 len 17), type 4 (uint32), value 32
        assertThat(bb.getLong(24)).isEqualTo(17);
        assertThat(new String(b, 32, 17)).isEqualTo("general.alignment");
        assertThat(bb.getInt(49)).isEqualTo(4);
        assertThat(bb.getInt(53)).isEqualTo(32);
        try (GgufReader r = GgufReader.open(out)) {
            Map<String, GgufValue> md = r.metadata();
            assertThat(md.get("a.u8").value()).isEqualTo(200);
            assertThat(md.get("a.i8").value()).isEqualTo(-5);
            assertThat(md.get("a.u16").value()).isEqualTo(60000);
            assertThat(md.get("a.i16").value()).isEqualTo(-300);
            assertThat(md.get("a.u32").value()).isEqualTo(4_000_000_000L);
            assertThat(md.get("a.i32").value()).isEqualTo(-7);
            assertThat(md.get("a.f32").value()).isEqualTo(0.25f);
            assertThat(md.get("a.bool").value()).isEqualTo(true);
            assertThat(md.get("a.u64").value()).isEqualTo(1L << 40);
            assertThat(md.get("a.i64").value()).isEqualTo(-(1L << 40));
            assertThat(md.get("a.f64").value()).isEqualTo(1.5);
            assertThat(md.get("a.strs").asList()).isEqualTo(List.of("x", "\u2581y", ""));
            assertThat(md.get("a.ints").asList()).isEqualTo(List.of(1, -2, 3));
            GgufTensorInfo v = r.tensor("v");
            assertThat(v.offset()).isZero();
            assertThat(r.tensor("m").offset()).as("5 floats = 20 bytes, padded to 32").isEqualTo(32);
            assertThat(r.dataOffset() % 32).as("data offset modulo the alignment").isZero();
            MemorySegment vs = r.tensorData(v);
            assertThat(vs.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8)).isEqualTo(3f);
            MemorySegment ms = r.tensorData(r.tensor("m"));
            // row 1: amax 63.5 -> d = 0.5 (fp16 0x3800), element 1 of the row = -63.5 * 2 = -127
            assertThat(ms.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 34) & 0xffff)
                    .isEqualTo(0x3800);
            assertThat(ms.get(ValueLayout.JAVA_BYTE, 34 + 2 + 1)).isEqualTo((byte) -127);
            assertThat(r.dataOffset() + 32 + 68).isEqualTo(b.length);
        }
    }

    @Test
    void readerRejectsMalformedFiles() throws Exception {
        Path good = writeSample();
        byte[] b = Files.readAllBytes(good);
        Path bad = tmp.resolve("bad.gguf");

        Files.write(bad, Arrays.copyOf(b, b.length - 10));
        assertThatThrownBy(() -> GgufReader.open(bad).close()).isInstanceOf(ConversionException.class)
                .hasMessage(bad + ": truncated: data of tensor m extends past the end of the file");

        byte[] c = b.clone();
        c[0] = 'X';
        Files.write(bad, c);
        assertThatThrownBy(() -> GgufReader.open(bad).close()).isInstanceOf(ConversionException.class)
                .hasMessage(bad + ": not a GGUF file (bad magic)");

        c = b.clone();
        ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putLong(24, 1L << 40); // first key length
        Files.write(bad, c);
        assertThatThrownBy(() -> GgufReader.open(bad).close()).isInstanceOf(ConversionException.class)
                .hasMessageContaining("corrupt metadata key: length");

        Files.write(bad, Arrays.copyOf(b, 30));
        assertThatThrownBy(() -> GgufReader.open(bad).close()).isInstanceOf(ConversionException.class)
                .hasMessageStartingWith(bad + ": truncated");
    }

    @Test
    void quantizerRequantizesWithPolicyAndCopiesMetadata() throws Exception {
        Path dir = tmp.resolve("m").resolve("tiny");
        Files.createDirectories(dir);
        TestFiles.config(dir, ConverterTest.TINY, Map.of());
        Files.write(dir.resolve("tokenizer.model"), SyntheticCheckpoint.syntheticTokenizer(300).toBytes());
        TestFiles.safetensors(dir.resolve("model.safetensors"), TestFiles.modelTensors(ConverterTest.TINY));
        Path f32 = tmp.resolve("f32.gguf"), direct = tmp.resolve("direct.gguf"), requant = tmp.resolve("requant.gguf");
        Converter.convert(dir, f32, ConvertOptions.defaults().withType(OutputType.F32));
        Converter.convert(dir, direct, ConvertOptions.defaults().withType(OutputType.Q4_0));
        Map<String, String> before = TestFiles.snapshot(tmp.resolve("m"));
        byte[] in = Files.readAllBytes(f32);
        Quantizer.quantize(f32, requant, OutputType.Q4_0, false, null);
        assertThat(Files.readAllBytes(f32)).as("input unchanged").isEqualTo(in);
        // bf16 -> f32 was exact, so quantizing the f32 file equals converting straight to q4_0
        assertThat(Files.readAllBytes(requant)).isEqualTo(Files.readAllBytes(direct));
        try (GgufReader r = GgufReader.open(requant)) {
            assertThat(r.getLong("general.file_type", -1)).isEqualTo(2);
            assertThat(r.tensor("token_embd.weight").type()).isEqualTo(GgmlType.Q8_0);
        }
        // refuses its input as output, and an existing output without force
        assertThatThrownBy(() -> Quantizer.quantize(f32, f32, OutputType.Q8_0, true, null))
                .isInstanceOf(ConversionException.class)
                .hasMessageContaining("refusing to overwrite the input file");
        assertThatThrownBy(() -> Quantizer.quantize(f32, requant, OutputType.Q8_0, false, null))
                .isInstanceOf(ConversionException.class)
                .hasMessageContaining("already exists");
        assertThat(Files.readAllBytes(f32)).isEqualTo(in);
        TestFiles.assertSameSnapshot(before, tmp.resolve("m"));
        // a quantized input: tensors already q4_0 are copied, f32 norms stay
        Path again = tmp.resolve("again.gguf");
        Quantizer.quantize(requant, again, OutputType.Q8_0, false, null);
        try (GgufReader r = GgufReader.open(again); GgufReader s = GgufReader.open(requant)) {
            assertThat(r.getLong("general.file_type", -1)).isEqualTo(7);
            assertThat(r.tensor("blk.0.attn_q.weight").type()).isEqualTo(GgmlType.Q4_0);
            MemorySegment source = s.tensorData(s.tensor("blk.0.attn_q.weight"));
            assertThat(r.tensorData(r.tensor("blk.0.attn_q.weight")).mismatch(source))
                    .as("first differing byte of blk.0.attn_q.weight").isEqualTo(-1);
        }
        // a truncated input: clean error naming it, no output
        Path cut = tmp.resolve("cut.gguf");
        Files.write(cut, Arrays.copyOf(in, in.length / 2));
        Path o = tmp.resolve("o.gguf");
        assertThatThrownBy(() -> Quantizer.quantize(cut, o, OutputType.Q8_0, false, null))
                .isInstanceOf(ConversionException.class)
                .hasMessageStartingWith(cut + ": truncated");
        TestFiles.assertNoOutput(o);
    }
}
