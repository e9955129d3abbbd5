package io.github.mobilellm4j.convert;

import io.github.mobilellm4j.convert.hf.WeightSet;
import io.github.mobilellm4j.convert.torch.TorchCheckpointReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static io.github.mobilellm4j.convert.TestFiles.Raw;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ShardedAndZip64Test {
    static final Shape TINY = ConverterTest.TINY;

    @TempDir
    Path tmp;

    Path base(String parent) throws Exception {
        Path dir = tmp.resolve(parent).resolve("tiny");
        Files.createDirectories(dir);
        TestFiles.config(dir, TINY, Map.of());
        Files.write(dir.resolve("tokenizer.model"), SyntheticCheckpoint.syntheticTokenizer(TINY.vocab()).toBytes());
        return dir;
    }

    @Test
    void shardedSafetensorsEqualSingleFile() throws Exception {
        List<Raw> all = TestFiles.modelTensors(TINY);
        Path single = base("a");
        TestFiles.safetensors(single.resolve("model.safetensors"), all);
        Path sharded = base("b");
        List<Raw> s1 = new ArrayList<>(all.subList(0, 8)), s2 = new ArrayList<>(all.subList(8, all.size()));
        TestFiles.safetensors(sharded.resolve("model-00001-of-00002.safetensors"), s1);
        TestFiles.safetensors(sharded.resolve("model-00002-of-00002.safetensors"), s2);
        StringBuilder idx = new StringBuilder("{\"metadata\":{},\"weight_map\":{");
        for (int i = 0; i < all.size(); i++) {
            idx.append(i == 0 ? "" : ",").append('"').append(all.get(i).name()).append("\":\"model-0000")
                    .append(i < 8 ? 1 : 2).append("-of-00002.safetensors\"");
        }
        Files.writeString(sharded.resolve("model.safetensors.index.json"), idx.append("}}"));
        Path oa = tmp.resolve("a.gguf"), ob = tmp.resolve("b.gguf");
        Converter.convert(single, oa, ConvertOptions.defaults().withType(OutputType.Q4_0));
        Converter.convert(sharded, ob, ConvertOptions.defaults().withType(OutputType.Q4_0));
        assertThat(Files.readAllBytes(ob)).isEqualTo(Files.readAllBytes(oa));

        // an index naming a tensor its shard lacks
        Files.writeString(sharded.resolve("model.safetensors.index.json"),
                idx.toString().replace("\"model.norm.weight\":\"model-00002", "\"model.norm.weight\":\"model-00001"));
        Path oc = tmp.resolve("c.gguf");
        assertThatThrownBy(() -> Converter.convert(sharded, oc, ConvertOptions.defaults()))
                .isInstanceOf(ConversionException.class)
                .hasMessageContaining("model-0000");
        TestFiles.assertNoOutput(oc);
    }

    /** java.util.zip switches to ZIP64 end records above 65535 entries. */
    @Test
    void zip64ArchiveIsRead() throws Exception {
        Raw t = TestFiles.bf16("w", new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6});
        byte[] pickle = TorchFiles.statePickle(List.of(new TorchFiles.View("w", 0, 0, t.shape(), new long[] {3, 1})),
                "BFloat16Storage", new long[] {6}, false);
        Path bin = tmp.resolve("big.bin");
        try (OutputStream os = new java.io.BufferedOutputStream(Files.newOutputStream(bin), 1 << 16); ZipOutputStream z = new ZipOutputStream(os)) {
            stored(z, "archive/data.pkl", pickle);
            stored(z, "archive/data/0", t.data());
            for (int i = 0; i < 65540; i++) stored(z, "archive/x/" + i, new byte[0]);
        }
        try (WeightSet ws = TorchCheckpointReader.open(bin); java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            assertThat(ws.tensors()).hasSize(1);
            assertThat(ws.get("w").open(a).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)).isEqualTo(t.data());
        }
    }

    private static void stored(ZipOutputStream z, String name, byte[] data) throws Exception {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 c = new CRC32();
        c.update(data);
        e.setCrc(c.getValue());
        z.putNextEntry(e);
        z.write(data);
        z.closeEntry();
    }

    @Test
    void consoleProgressPlainLines() throws Exception {
        Path dir = base("p");
        TestFiles.safetensors(dir.resolve("model.safetensors"), TestFiles.modelTensors(TINY));
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(bo, true, StandardCharsets.UTF_8);
        Path out = tmp.resolve("p.gguf");
        Converter.convert(dir, out, ConvertOptions.defaults().withType(OutputType.Q4_0).withListener(new ConsoleProgress(ps, false, true)));
        String[] lines = bo.toString(StandardCharsets.UTF_8).split("\n");
        assertThat(lines[0]).startsWith("writing p.gguf: 20 tensors, ");
        assertThat(lines[1]).isEqualTo("[ 1/20] token_embd.weight                q8_0  [64, 300]");
        assertThat(lines[3]).isEqualTo("[ 3/20] blk.0.attn_q.weight              q4_0  [64, 64]");
        assertThat(lines[lines.length - 1]).startsWith("wrote " + out);
        assertThat(bo.toString(StandardCharsets.UTF_8)).as("no carriage returns off a terminal").doesNotContain("\r");
    }
}
