package io.github.mobilellm4j.convert;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.github.mobilellm4j.convert.TestFiles.Raw;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every malformed input gives a one-line error naming the file and the problem, leaves neither
 * an output nor a temporary file, and does not modify the input folder.
 */
class MalformedInputTest {
    static final Shape TINY = ConverterTest.TINY;

    @TempDir
    Path tmp;

    Path dir;
    Path out;

    Path folder(List<Raw> tensors, String weights) throws IOException {
        dir = tmp.resolve("in").resolve("tiny");
        Files.createDirectories(dir);
        TestFiles.config(dir, TINY, Map.of());
        Files.write(dir.resolve("tokenizer.model"), SyntheticCheckpoint.syntheticTokenizer(TINY.vocab()).toBytes());
        if (weights.equals("safetensors")) TestFiles.safetensors(dir.resolve("model.safetensors"), tensors);
        else TorchFiles.checkpoint(dir.resolve("pytorch_model.bin"), tensors, weights.equals("bin-deflate"));
        out = tmp.resolve("out.gguf");
        return dir;
    }

    /** Converts, expecting failure: checks message, file naming, no output/temp, input unchanged. */
    void fails(Path named, String... fragments) throws IOException {
        Map<String, String> before = TestFiles.snapshot(dir);
        assertThatThrownBy(() -> Converter.convert(dir, out, ConvertOptions.defaults().withType(OutputType.Q4_0)))
                .isInstanceOf(ConversionException.class)
                .hasMessageStartingWith(named.toString())
                .hasMessageNotContaining("\n")
                .hasMessageContainingAll(fragments);
        TestFiles.assertNoOutput(out);
        TestFiles.assertSameSnapshot(before, dir);
    }

    List<Raw> tensors() {
        return new ArrayList<>(TestFiles.modelTensors(TINY));
    }

    @Test
    void truncatedSafetensors() throws IOException {
        folder(tensors(), "safetensors");
        Path st = dir.resolve("model.safetensors");
        byte[] b = Files.readAllBytes(st);
        Files.write(st, Arrays.copyOf(b, b.length / 2));
        fails(st, "truncated", "outside the");
        Files.write(st, Arrays.copyOf(b, 5));
        fails(st, "truncated", "shorter than the 8-byte header length");
    }

    @Test
    void corruptSafetensorsHeader() throws IOException {
        folder(tensors(), "safetensors");
        Path st = dir.resolve("model.safetensors");
        byte[] b = Files.readAllBytes(st);
        byte[] c = b.clone();
        c[8] = '[';
        c[9] = '!';
        Files.write(st, c);
        fails(st, "corrupt header: invalid JSON");
        c = b.clone();
        ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putLong(0, b.length + 100L);
        Files.write(st, c);
        fails(st, "truncated: header length");
    }

    @Test
    void unsupportedDtype() throws IOException {
        List<Raw> t = tensors();
        t.set(1, new Raw(t.get(1).name(), "I64", new long[] {8}, new byte[64]));
        folder(t, "safetensors");
        fails(dir.resolve("model.safetensors"), "tensor model.layers.0.input_layernorm.weight has unsupported dtype I64");
    }

    @Test
    void missingTensor() throws IOException {
        List<Raw> t = tensors();
        t.removeIf(r -> r.name().equals("model.layers.1.mlp.up_proj.weight"));
        folder(t, "safetensors");
        fails(dir.resolve("model.safetensors"), "missing tensor model.layers.1.mlp.up_proj.weight");
    }

    @Test
    void extraTensor() throws IOException {
        List<Raw> t = tensors();
        t.add(TestFiles.bf16("model.layers.2.mlp.up_proj.weight", new long[] {96, 64}, new float[96 * 64]));
        folder(t, "safetensors");
        fails(dir.resolve("model.safetensors"), "unexpected tensor model.layers.2.mlp.up_proj.weight");
    }

    @Test
    void shapeDiffersFromConfig() throws IOException {
        List<Raw> t = tensors();
        t.replaceAll(r -> r.name().equals("model.layers.0.self_attn.k_proj.weight")
                ? TestFiles.bf16(r.name(), new long[] {64, 64}, new float[64 * 64]) : r);
        folder(t, "safetensors");
        fails(dir.resolve("model.safetensors"), "tensor model.layers.0.self_attn.k_proj.weight has shape [64, 64] but config.json implies [32, 64]");
    }

    @Test
    void corruptZip() throws IOException {
        folder(tensors(), "bin");
        Path bin = dir.resolve("pytorch_model.bin");
        byte[] b = Files.readAllBytes(bin);
        Files.write(bin, Arrays.copyOf(b, b.length - 30));
        fails(bin, "corrupt zip");
        byte[] junk = new byte[4096];
        Arrays.fill(junk, (byte) 0x5a);
        Files.write(bin, junk);
        fails(bin, "corrupt zip: end of central directory not found");
    }

    @Test
    void corruptDeflateDataFailsDuringWriteAndLeavesNoTemp() throws IOException {
        folder(tensors(), "bin-deflate");
        Path bin = dir.resolve("pytorch_model.bin");
        byte[] b = Files.readAllBytes(bin);
        byte[] name = "archive/data/0".getBytes(StandardCharsets.US_ASCII);
        int at = indexOf(b, name); // first occurrence: the local header's file name
        assertThat(at).isPositive();
        for (int i = at + name.length + 40; i < at + name.length + 240; i++) b[i] ^= 0x55;
        Files.write(bin, b);
        fails(bin, "corrupt zip: entry archive/data/0");
    }

    @Test
    void forbiddenPickleGlobal() throws IOException {
        folder(tensors(), "bin");
        Path bin = dir.resolve("pytorch_model.bin");
        List<TorchFiles.View> views = List.of(new TorchFiles.View("x", 0, 0, new long[] {4}, new long[] {1}));
        TorchFiles.zip(bin, TorchFiles.statePickle(views, "BFloat16Storage", new long[] {4}, true), List.of(new byte[8]), false);
        fails(bin, "pickle: forbidden global os.system");
    }

    @Test
    void unknownPickleOpcode() throws IOException {
        folder(tensors(), "bin");
        Path bin = dir.resolve("pytorch_model.bin");
        byte[] pickle = {(byte) 0x80, 2, (byte) 0x7d, 'i', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm', '\n', '.'};
        TorchFiles.zip(bin, pickle, List.of(), false);
        fails(bin, "pickle: unsupported opcode 0x69");
    }

    @Test
    void nonContiguousTensor() throws IOException {
        folder(tensors(), "bin");
        Path bin = dir.resolve("pytorch_model.bin");
        List<TorchFiles.View> views = List.of(new TorchFiles.View("model.norm.weight2d", 0, 0, new long[] {8, 8}, new long[] {1, 8}));
        TorchFiles.zip(bin, TorchFiles.statePickle(views, "BFloat16Storage", new long[] {64}, false), List.of(new byte[128]), false);
        fails(bin, "tensor model.norm.weight2d is not contiguous");
    }

    @Test
    void tokenizerLargerThanVocab() throws IOException {
        folder(tensors(), "safetensors");
        Files.write(dir.resolve("tokenizer.model"), SyntheticCheckpoint.syntheticTokenizer(310).toBytes());
        fails(dir.resolve("tokenizer.model"), "tokenizer has 310 tokens but config.json vocab_size is 300");
    }

    @Test
    void corruptTokenizerAndConfig() throws IOException {
        folder(tensors(), "safetensors");
        Files.write(dir.resolve("tokenizer.model"), new byte[] {(byte) 0x0a, (byte) 0xff, 1, 2});
        fails(dir.resolve("tokenizer.model"), "not a valid SentencePiece model");
        Files.write(dir.resolve("tokenizer.model"), SyntheticCheckpoint.syntheticTokenizer(TINY.vocab()).toBytes());
        Files.writeString(dir.resolve("config.json"), "{\"architectures\":[\"MobileLLMForCausalLM\"],\"num_attention_heads\":4}");
        fails(dir.resolve("config.json"), "missing \"hidden_size\"");
    }

    @Test
    void existingOutputNeedsForce() throws IOException, ConversionException {
        folder(tensors(), "safetensors");
        Files.writeString(out, "keep me");
        Map<String, String> before = TestFiles.snapshot(dir);
        assertThatThrownBy(() -> Converter.convert(dir, out, ConvertOptions.defaults()))
                .isInstanceOf(ConversionException.class)
                .hasMessageStartingWith(out.toString())
                .hasMessageContaining("already exists (use --force to overwrite)");
        assertThat(Files.readAllBytes(out)).isEqualTo("keep me".getBytes(StandardCharsets.UTF_8));
        TestFiles.assertSameSnapshot(before, dir);
        Converter.convert(dir, out, ConvertOptions.defaults().withForce(true));
        assertThat(Files.size(out)).isGreaterThan(1000);
        // never the input, even with force
        Path inside = dir.resolve("model.safetensors");
        assertThatThrownBy(() -> Converter.convert(dir, inside, ConvertOptions.defaults().withForce(true)))
                .isInstanceOf(ConversionException.class)
                .hasMessageContaining("refusing to overwrite the input file");
        TestFiles.assertSameSnapshot(before, dir);
        // a GGUF inside the model folder is not an input: it can be written and replaced with force
        Path local = dir.resolve("tiny.gguf");
        Converter.convert(dir, local, ConvertOptions.defaults());
        Converter.convert(dir, local, ConvertOptions.defaults().withType(OutputType.Q8_0).withForce(true));
        try (var r = io.github.mobilellm4j.convert.gguf.GgufReader.open(local)) {
            assertThat(r.getLong("general.file_type", -1)).isEqualTo(7);
        }
    }

    @Test
    void interruptOrListenerFailureMidWriteLeavesNothing() throws IOException {
        folder(tensors(), "safetensors");
        Map<String, String> before = TestFiles.snapshot(dir);
        ProgressListener interrupter = new ProgressListener() {
            @Override
            public void tensorStart(String name, GgmlType type, long[] ne) {
                if (name.equals("blk.0.attn_v.weight")) Thread.currentThread().interrupt();
            }
        };
        try {
            assertThatThrownBy(() -> Converter.convert(dir, out, ConvertOptions.defaults().withListener(interrupter)))
                    .isInstanceOf(ConversionException.class)
                    .hasMessageStartingWith(out + ": interrupted");
        } finally {
            Thread.interrupted(); // clear the flag for the next tests
        }
        TestFiles.assertNoOutput(out);
        ProgressListener thrower = new ProgressListener() {
            @Override
            public void tensorDone(String name, long bytes, long done) {
                if (name.equals("blk.1.ffn_up.weight")) throw new IllegalStateException("boom");
            }
        };
        assertThatThrownBy(() -> Converter.convert(dir, out, ConvertOptions.defaults().withListener(thrower)))
                .isInstanceOf(IllegalStateException.class);
        TestFiles.assertNoOutput(out);
        TestFiles.assertSameSnapshot(before, dir);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }
}
