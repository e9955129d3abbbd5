package io.github.mobilellm4j.convert;

import io.github.mobilellm4j.convert.gguf.GgufReader;
import io.github.mobilellm4j.convert.gguf.GgufTensorInfo;
import io.github.mobilellm4j.convert.hf.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.github.mobilellm4j.convert.TestFiles.Raw;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

class ConverterTest {
    /** 2 layers, 4 heads of 16, 2 kv heads, dim 64, ffn 96, vocab 300, context 128. */
    static final Shape TINY = new Shape("tiny", 2, 4, 2, 64, 96, 300, 128);

    @TempDir
    Path tmp;

    /** Recording listener. */
    static final class Rec implements ProgressListener {
        final List<String> warnings = new ArrayList<>();
        final List<String> notes = new ArrayList<>();
        @Override public void warn(String m) { warnings.add(m); }
        @Override public void note(String m) { notes.add(m); }
    }

    Path model(String parent, Map<String, Object> cfg, List<Raw> tensors, String weights) throws IOException {
        Path dir = tmp.resolve(parent).resolve("tiny");
        Files.createDirectories(dir);
        TestFiles.config(dir, TINY, cfg);
        Files.write(dir.resolve("tokenizer.model"), SyntheticCheckpoint.syntheticTokenizer(TINY.vocab()).toBytes());
        switch (weights) {
            case "safetensors" -> TestFiles.safetensors(dir.resolve("model.safetensors"), tensors);
            case "bin" -> TorchFiles.checkpoint(dir.resolve("pytorch_model.bin"), tensors, false);
            case "bin-deflate" -> TorchFiles.checkpoint(dir.resolve("pytorch_model.bin"), tensors, true);
            default -> throw new IllegalArgumentException(weights);
        }
        return dir;
    }

    static float[] row(GgufReader r, String name, int row) {
        GgufTensorInfo ti = r.tensor(name);
        int cols = (int) ti.ne()[0];
        float[] out = new float[cols];
        RowQuantizer.dequantizeRow(ti.type(), r.tensorData(ti), row * ti.type().rowBytes(cols), out, 0, cols);
        return out;
    }

    static float[] srcRow(Raw t, int row) {
        int cols = (int) t.shape()[t.shape().length - 1];
        ByteBuffer b = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[cols];
        for (int i = 0; i < cols; i++) {
            out[i] = Float.intBitsToFloat((b.getShort((row * cols + i) * 2) & 0xffff) << 16);
        }
        return out;
    }

    @Test
    void aNameGivenReplacesTheFolderName() throws Exception {
        Path dir = model("a", Map.of(), TestFiles.modelTensors(TINY), "safetensors");
        Path out = tmp.resolve("named.gguf");
        Converter.convert(dir, out, ConvertOptions.defaults().withName("MobileLLM-125M"));
        try (GgufReader r = GgufReader.open(out)) {
            assertThat(r.getString("general.name")).isEqualTo("MobileLLM-125M");
        }
        assertThatThrownBy(() -> ConvertOptions.defaults().withName(" ")).hasMessageContaining("the model name is blank");
    }

    @Test
    void convertsToF32WithMetadataAndQkPermutation() throws Exception {
        List<Raw> src = TestFiles.modelTensors(TINY);
        Path dir = model("a", Map.of(), src, "safetensors");
        Path out = tmp.resolve("tiny-f32.gguf");
        Converter.convert(dir, out, ConvertOptions.defaults().withType(OutputType.F32));
        try (GgufReader r = GgufReader.open(out)) {
            assertThat(r.getString("general.architecture")).isEqualTo("llama");
            assertThat(r.getString("general.name")).isEqualTo("tiny");
            // params: 300*64 + 2*(64*64*2 + 32*64*2 + 3*64*96 + 2*64) + 64 = 80960
            assertThat(r.getString("general.size_label")).isEqualTo("81K");
            assertThat(r.getLong("general.file_type", -1)).isZero();
            assertThat(r.getLong("general.quantization_version", -1)).isEqualTo(2);
            assertThat(r.getLong("general.alignment", -1)).isEqualTo(32);
            assertThat(r.getLong("llama.block_count", -1)).isEqualTo(2);
            assertThat(r.getLong("llama.embedding_length", -1)).isEqualTo(64);
            assertThat(r.getLong("llama.feed_forward_length", -1)).isEqualTo(96);
            assertThat(r.getLong("llama.attention.head_count", -1)).isEqualTo(4);
            assertThat(r.getLong("llama.attention.head_count_kv", -1)).isEqualTo(2);
            assertThat(r.getLong("llama.rope.dimension_count", -1)).isEqualTo(16);
            assertThat(r.getLong("llama.context_length", -1)).isEqualTo(128);
            assertThat(r.getLong("llama.vocab_size", -1)).isEqualTo(300);
            assertThat(r.get("llama.attention.layer_norm_rms_epsilon").asFloat()).isEqualTo(1e-5f);
            assertThat(r.get("llama.rope.freq_base").asFloat()).isEqualTo(10000f);
            assertThat(r.get("mobilellm.block_repeat")).isNull();
            assertThat(r.getString("tokenizer.ggml.model")).isEqualTo("llama");
            assertThat(r.get("tokenizer.ggml.tokens").asList().size()).isEqualTo(300);
            assertThat(r.get("tokenizer.ggml.tokens").asList().get(3 + 0x41)).isEqualTo("<0x41>");
            assertThat(r.get("tokenizer.ggml.token_type").asList().get(3 + 0x41)).isEqualTo(6);
            assertThat(r.getLong("tokenizer.ggml.bos_token_id", -1)).isEqualTo(1);
            assertThat(r.getLong("tokenizer.ggml.eos_token_id", -1)).isEqualTo(2);
            assertThat(r.getLong("tokenizer.ggml.unknown_token_id", -1)).isZero();
            assertThat(r.get("tokenizer.ggml.add_bos_token").asBool()).isTrue();
            assertThat(r.get("tokenizer.ggml.add_eos_token").asBool()).isFalse();
            assertThat(r.tensors()).hasSize(2 + 9 * 2);
            assertThat(r.tensor("output.weight")).as("shared embedding: no output head").isNull();
            assertThat(r.tensor("token_embd.weight").ne()).isEqualTo(new long[] {64, 300});
            assertThat(r.tensor("blk.1.attn_k.weight").ne()).isEqualTo(new long[] {64, 32});
            assertThat(r.tensor("blk.0.ffn_down.weight").ne()).isEqualTo(new long[] {96, 64});
            assertThat(r.tensor("output_norm.weight").ne()).isEqualTo(new long[] {64});
            for (GgufTensorInfo ti : r.tensors()) {
                assertThat(ti.type()).as(ti.name()).isEqualTo(GgmlType.F32);
                assertThat(ti.offset() % 32).as("%s: offset modulo the alignment", ti.name()).isZero();
            }
            // bf16 -> f32 is exact: values equal the source
            Raw emb = TestFiles.find(src, "model.embed_tokens.weight");
            assertThat(row(r, "token_embd.weight", 299)).isEqualTo(srcRow(emb, 299));
            assertThat(row(r, "blk.1.attn_v.weight", 5))
                    .isEqualTo(srcRow(TestFiles.find(src, "model.layers.1.self_attn.v_proj.weight"), 5));
            // Q/K permutation, hand-written for head dim 16: output row 2i+j = input row 8j+i
            int[] perHead = {0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15};
            Raw q = TestFiles.find(src, "model.layers.1.self_attn.q_proj.weight");
            Raw k = TestFiles.find(src, "model.layers.0.self_attn.k_proj.weight");
            for (int h = 0; h < 4; h++) {
                for (int i = 0; i < 16; i++) {
                    assertThat(row(r, "blk.1.attn_q.weight", 16 * h + i)).isEqualTo(srcRow(q, 16 * h + perHead[i]));
                    if (h < 2) {
                        assertThat(row(r, "blk.0.attn_k.weight", 16 * h + i)).isEqualTo(srcRow(k, 16 * h + perHead[i]));
                    }
                }
            }
        }
    }

    @Test
    void q4_0PolicyAndPure() throws Exception {
        Path dir = model("a", Map.of(), TestFiles.modelTensors(TINY), "safetensors");
        Path out = tmp.resolve("q4.gguf");
        Converter.convert(dir, out, ConvertOptions.defaults().withType(OutputType.Q4_0));
        try (GgufReader r = GgufReader.open(out)) {
            assertThat(r.getLong("general.file_type", -1)).isEqualTo(2);
            assertThat(r.tensor("token_embd.weight").type()).isEqualTo(GgmlType.Q8_0);
            assertThat(r.tensor("blk.0.attn_q.weight").type()).isEqualTo(GgmlType.Q4_0);
            assertThat(r.tensor("blk.1.ffn_down.weight").type()).isEqualTo(GgmlType.Q4_0);
            assertThat(r.tensor("blk.1.ffn_norm.weight").type()).isEqualTo(GgmlType.F32);
            assertThat(r.tensor("blk.0.ffn_up.weight").byteSize()).isEqualTo(64 / 32 * 18 * 96);
        }
        Path pure = tmp.resolve("q4pure.gguf");
        Converter.convert(dir, pure, ConvertOptions.defaults().withType(OutputType.Q4_0).withPure(true));
        try (GgufReader r = GgufReader.open(pure)) {
            assertThat(r.tensor("token_embd.weight").type()).isEqualTo(GgmlType.Q4_0);
        }
        Path q8 = tmp.resolve("q8.gguf");
        Converter.convert(dir, q8, ConvertOptions.defaults().withType(OutputType.Q8_0));
        try (GgufReader r = GgufReader.open(q8); GgufReader p = GgufReader.open(out)) {
            assertThat(r.getLong("general.file_type", -1)).isEqualTo(7);
            assertThat(r.tensor("blk.0.attn_v.weight").type()).isEqualTo(GgmlType.Q8_0);
            // token_embd in the q4_0 file is Q8_0: identical bytes to the q8_0 file's
            MemorySegment inQ4File = p.tensorData(p.tensor("token_embd.weight"));
            assertThat(r.tensorData(r.tensor("token_embd.weight")).mismatch(inQ4File))
                    .as("first differing byte of token_embd.weight").isEqualTo(-1);
        }
    }

    @Test
    void layerSharingCompactAndExpanded() throws Exception {
        Path dir = model("a", Map.of("layer_sharing", true), TestFiles.modelTensors(TINY), "safetensors");
        Path compact = tmp.resolve("ls.gguf");
        Path expanded = tmp.resolve("ls-x.gguf");
        Converter.convert(dir, compact, ConvertOptions.defaults().withType(OutputType.F16));
        Converter.convert(dir, expanded, ConvertOptions.defaults().withType(OutputType.F16).withExpandLayerSharing(true));
        try (GgufReader c = GgufReader.open(compact); GgufReader x = GgufReader.open(expanded)) {
            assertThat(c.getString("general.architecture")).isEqualTo("mobilellm");
            assertThat(c.getLong("mobilellm.block_repeat", -1)).isEqualTo(2);
            assertThat(c.getLong("mobilellm.block_count", -1)).isEqualTo(2);
            assertThat(c.getLong("mobilellm.rope.dimension_count", -1)).isEqualTo(16);
            assertThat(c.tensor("blk.2.attn_q.weight")).isNull();
            assertThat(x.getString("general.architecture")).isEqualTo("llama");
            assertThat(x.getLong("llama.block_count", -1)).isEqualTo(4);
            assertThat(x.get("mobilellm.block_repeat")).isNull();
            assertThat(x.tensors()).hasSize(2 + 9 * 4);
            // blk.0, blk.1 = stored 0; blk.2, blk.3 = stored 1
            for (String t : new String[] {"attn_q", "attn_k", "ffn_down", "attn_norm"}) {
                for (int b = 0; b < 4; b++) {
                    String sn = "blk." + (b / 2) + "." + t + ".weight";
                    String xn = "blk." + b + "." + t + ".weight";
                    assertThat(c.tensorData(c.tensor(sn)).mismatch(x.tensorData(x.tensor(xn)))).as(xn).isEqualTo(-1);
                }
            }
            // parameters are those stored: the same label for both
            assertThat(x.getString("general.size_label")).isEqualTo(c.getString("general.size_label"));
        }
    }

    @Test
    void torchZipStoredAndDeflatedEqualSafetensors() throws Exception {
        List<Raw> src = TestFiles.modelTensors(TINY);
        Path a = model("a", Map.of(), src, "safetensors");
        Path b = model("b", Map.of(), src, "bin");
        Path c = model("c", Map.of(), src, "bin-deflate");
        Path oa = tmp.resolve("a.gguf"), ob = tmp.resolve("b.gguf"), oc = tmp.resolve("c.gguf");
        Converter.convert(a, oa, ConvertOptions.defaults().withType(OutputType.Q8_0));
        Converter.convert(b, ob, ConvertOptions.defaults().withType(OutputType.Q8_0));
        Converter.convert(c, oc, ConvertOptions.defaults().withType(OutputType.Q8_0));
        assertThat(Files.readAllBytes(ob)).isEqualTo(Files.readAllBytes(oa));
        assertThat(Files.readAllBytes(oc)).isEqualTo(Files.readAllBytes(oa));
    }

    @Test
    void torchSharedStorageWithOffsetsAndTiedHead() throws Exception {
        // embed + lm_head share storage 0 (as tied weights do); the two layer norms of block 0 share
        // storage 1 at element offsets 0 and 64.
        List<Raw> src = TestFiles.modelTensors(TINY);
        Raw emb = TestFiles.find(src, "model.embed_tokens.weight");
        Raw n1 = TestFiles.find(src, "model.layers.0.input_layernorm.weight");
        Raw n2 = TestFiles.find(src, "model.layers.0.post_attention_layernorm.weight");
        List<TorchFiles.View> views = new ArrayList<>();
        List<byte[]> storages = new ArrayList<>();
        List<Long> numel = new ArrayList<>();
        storages.add(emb.data());
        numel.add((long) emb.data().length / 2);
        views.add(new TorchFiles.View(emb.name(), 0, 0, emb.shape(), TorchFiles.contiguous(emb.shape())));
        views.add(new TorchFiles.View("lm_head.weight", 0, 0, emb.shape(), TorchFiles.contiguous(emb.shape())));
        byte[] norms = new byte[256];
        System.arraycopy(n1.data(), 0, norms, 0, 128);
        System.arraycopy(n2.data(), 0, norms, 128, 128);
        storages.add(norms);
        numel.add(128L);
        views.add(new TorchFiles.View(n1.name(), 1, 0, n1.shape(), new long[] {1}));
        views.add(new TorchFiles.View(n2.name(), 1, 64, n2.shape(), new long[] {1}));
        for (Raw t : src) {
            if (t == emb || t == n1 || t == n2) continue;
            views.add(new TorchFiles.View(t.name(), storages.size(), 0, t.shape(), TorchFiles.contiguous(t.shape())));
            storages.add(t.data());
            numel.add((long) t.data().length / 2);
        }
        Path dir = tmp.resolve("t").resolve("tiny");
        Files.createDirectories(dir);
        TestFiles.config(dir, TINY, Map.of());
        Files.write(dir.resolve("tokenizer.model"), SyntheticCheckpoint.syntheticTokenizer(TINY.vocab()).toBytes());
        TorchFiles.zip(dir.resolve("pytorch_model.bin"),
                TorchFiles.statePickle(views, "BFloat16Storage", numel.stream().mapToLong(Long::longValue).toArray(), false), storages, false);
        Path out = tmp.resolve("t.gguf");
        Rec rec = new Rec();
        Converter.convert(dir, out, ConvertOptions.defaults().withType(OutputType.F32).withListener(rec));
        assertThat(rec.warnings).isEmpty();
        try (GgufReader r = GgufReader.open(out)) {
            assertThat(r.tensor("output.weight")).as("lm_head equal to the embedding is dropped").isNull();
            assertThat(row(r, "blk.0.ffn_norm.weight", 0)).isEqualTo(srcRow(n2, 0));
            assertThat(row(r, "blk.0.attn_norm.weight", 0)).isEqualTo(srcRow(n1, 0));
        }
    }

    @Test
    void outputHeadVariants() throws Exception {
        List<Raw> src = new ArrayList<>(TestFiles.modelTensors(TINY));
        float[] other = TestFiles.values(300 * 64, 999);
        src.add(TestFiles.bf16("lm_head.weight", new long[] {300, 64}, other));
        // shared embedding but a different lm_head: kept as output.weight with a warning
        Path d1 = model("h1", Map.of(), src, "safetensors");
        Rec rec = new Rec();
        Path o1 = tmp.resolve("h1.gguf");
        Converter.convert(d1, o1, ConvertOptions.defaults().withType(OutputType.F32).withListener(rec));
        assertThat(rec.warnings).singleElement(STRING).contains("lm_head.weight differs");
        try (GgufReader r = GgufReader.open(o1)) {
            assertThat(r.tensor("output.weight")).isNotNull();
            assertThat(row(r, "output.weight", 7)).isEqualTo(srcRow(TestFiles.find(src, "lm_head.weight"), 7));
        }
        // plain Llama, untied: lm_head required and written
        Map<String, Object> llama = new HashMap<>();
        llama.put("architectures", List.of("LlamaForCausalLM"));
        llama.put("model_type", "llama");
        llama.put("share_embedding", null);
        llama.put("tie_word_embeddings", false);
        Path d2 = model("h2", llama, src, "safetensors");
        Path o2 = tmp.resolve("h2.gguf");
        Converter.convert(d2, o2, ConvertOptions.defaults().withType(OutputType.Q4_0));
        try (GgufReader r = GgufReader.open(o2)) {
            assertThat(r.tensor("output.weight").type()).isEqualTo(GgmlType.Q8_0);
        }
        // plain Llama, tied, without lm_head: fine, no output.weight
        llama.put("tie_word_embeddings", true);
        Path d3 = model("h3", llama, TestFiles.modelTensors(TINY), "safetensors");
        Path o3 = tmp.resolve("h3.gguf");
        Converter.convert(d3, o3, ConvertOptions.defaults());
        try (GgufReader r = GgufReader.open(o3)) {
            assertThat(r.tensor("output.weight")).isNull();
            assertThat(r.getLong("general.file_type", -1)).isEqualTo(1);
        }
    }

    @Test
    void smallTokenizerIsPaddedWithWarning() throws Exception {
        Path dir = model("p", Map.of(), TestFiles.modelTensors(TINY), "safetensors");
        Files.write(dir.resolve("tokenizer.model"), SyntheticCheckpoint.syntheticTokenizer(290).toBytes());
        Rec rec = new Rec();
        Path out = tmp.resolve("p.gguf");
        Converter.convert(dir, out, ConvertOptions.defaults().withListener(rec));
        assertThat(rec.warnings).singleElement(STRING).contains("290 tokens, fewer than vocab_size 300");
        try (GgufReader r = GgufReader.open(out)) {
            assertThat(r.get("tokenizer.ggml.tokens").asList().get(290)).isEqualTo("[PAD290]");
            assertThat(r.get("tokenizer.ggml.tokens").asList().get(299)).isEqualTo("[PAD299]");
            assertThat(r.get("tokenizer.ggml.token_type").asList().get(299)).isEqualTo(5);
        }
    }

    @Test
    void rowLengthNotMultipleOfBlockFallsBackToF16() throws Exception {
        Shape odd = new Shape("odd", 1, 4, 2, 64, 80, 300, 128); // ffn_down rows have 80 = 2.5 blocks
        Path dir = tmp.resolve("odd").resolve("tiny");
        Files.createDirectories(dir);
        TestFiles.config(dir, odd, Map.of());
        Files.write(dir.resolve("tokenizer.model"), SyntheticCheckpoint.syntheticTokenizer(300).toBytes());
        List<Raw> src = TestFiles.modelTensors(odd);
        TestFiles.safetensors(dir.resolve("model.safetensors"), src);
        Rec rec = new Rec();
        Path out = tmp.resolve("odd.gguf");
        Converter.convert(dir, out, ConvertOptions.defaults().withType(OutputType.Q4_0).withListener(rec));
        assertThat(rec.notes)
                .contains("blk.0.ffn_down.weight: row length 80 is not a multiple of 32, using f16 instead of q4_0");
        try (GgufReader r = GgufReader.open(out)) {
            assertThat(r.tensor("blk.0.ffn_down.weight").type()).isEqualTo(GgmlType.F16);
            assertThat(r.tensor("blk.0.ffn_up.weight").type()).isEqualTo(GgmlType.Q4_0);
            // bf16 values with 8 significant bits are exact in f16 (|v| >= 2^-10 or 0, within f16 normal range)
            assertThat(row(r, "blk.0.ffn_down.weight", 3))
                    .isEqualTo(srcRow(TestFiles.find(src, "model.layers.0.mlp.down_proj.weight"), 3));
        }
    }

    @Test
    void syntheticCheckpointConverts() throws Exception {
        Path dir = tmp.resolve("synth");
        SyntheticCheckpoint.write(TINY, true, dir, 7);
        Path out = tmp.resolve("synth.gguf");
        Converter.convert(dir, out, ConvertOptions.defaults().withType(OutputType.F32));
        try (GgufReader r = GgufReader.open(out)) {
            assertThat(r.getString("general.architecture")).isEqualTo("mobilellm");
            float[] v = new float[64];
            double s2 = 0;
            int n = 0;
            for (int row = 0; row < 300; row++) {
                v = row(r, "token_embd.weight", row);
                for (float x : v) {
                    s2 += x * x;
                    n++;
                }
            }
            // 19200 draws of N(0, 0.02): the sample std has a standard error of 0.5%, so 10% is never reached
            // by chance, while a wrong init scale (0.01, 0.04, 1) is far outside
            assertThat(Math.sqrt(s2 / n)).isCloseTo(0.02, within(0.002));
            assertThat(java.util.Arrays.copyOf(row(r, "blk.1.ffn_norm.weight", 0), 3))
                    .isEqualTo(new float[] {1f, 1f, 1f});
            assertThat(r.get("tokenizer.ggml.scores").asList().size()).isEqualTo(300);
        }
        // deterministic for a seed
        Path dir2 = tmp.resolve("synth2");
        SyntheticCheckpoint.write(TINY, true, dir2, 7);
        assertThat(Files.readAllBytes(dir2.resolve("model.safetensors")))
                .isEqualTo(Files.readAllBytes(dir.resolve("model.safetensors")));
    }

    @Test
    void dtypesF16AndF32SourcesConvert() throws Exception {
        List<Raw> src = new ArrayList<>();
        for (Raw t : TestFiles.modelTensors(TINY)) {
            ByteBuffer b = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
            int n = t.data().length / 2;
            float[] f = new float[n];
            for (int i = 0; i < n; i++) f[i] = Float.intBitsToFloat((b.getShort(2 * i) & 0xffff) << 16);
            if (t.name().contains("mlp")) {
                ByteBuffer h = ByteBuffer.allocate(n * 2).order(ByteOrder.LITTLE_ENDIAN);
                for (float x : f) h.putShort(Float.floatToFloat16(x));
                src.add(new Raw(t.name(), "F16", t.shape(), h.array()));
            } else {
                src.add(TestFiles.f32(t.name(), t.shape(), f));
            }
        }
        Path dir = model("d", Map.of(), src, "safetensors");
        Path out = tmp.resolve("d.gguf");
        Converter.convert(dir, out, ConvertOptions.defaults().withType(OutputType.BF16));
        Path ref = tmp.resolve("ref.gguf");
        Converter.convert(model("r", Map.of(), TestFiles.modelTensors(TINY), "safetensors"), ref, ConvertOptions.defaults().withType(OutputType.BF16));
        // the values are exact in bf16 (8 significant bits), so every source dtype gives identical tensors
        try (GgufReader a = GgufReader.open(out); GgufReader b = GgufReader.open(ref)) {
            assertThat(a.getLong("general.file_type", -1)).isEqualTo(32);
            for (GgufTensorInfo ti : a.tensors()) {
                MemorySegment x = a.tensorData(ti), y = b.tensorData(b.tensor(ti.name()));
                assertThat(x.mismatch(y)).as(ti.name()).isEqualTo(-1);
            }
        }
        assertThat(DType.BF16.size).isEqualTo(2);
    }
}
