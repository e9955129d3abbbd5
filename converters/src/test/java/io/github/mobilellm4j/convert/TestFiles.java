package io.github.mobilellm4j.convert;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Helpers shared by tests: hand-built safetensors files and folder snapshots. */
final class TestFiles {
    private TestFiles() {}

    /** A tensor for {@link #safetensors}: dtype "BF16"/"F16"/"F32"/other, raw little-endian bytes. */
    record Raw(String name, String dtype, long[] shape, byte[] data) {}

    static Raw f32(String name, long[] shape, float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return new Raw(name, "F32", shape, b.array());
    }

    /** bf16 by truncating float bits (test values are chosen exactly representable). */
    static Raw bf16(String name, long[] shape, float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putShort((short) (Float.floatToRawIntBits(x) >>> 16));
        return new Raw(name, "BF16", shape, b.array());
    }

    /** Writes a safetensors file by hand (format: u64 header length, JSON header, data). */
    static void safetensors(Path file, List<Raw> tensors) throws IOException {
        StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long off = 0;
        for (Raw t : tensors) {
            h.append(",\"").append(t.name).append("\":{\"dtype\":\"").append(t.dtype).append("\",\"shape\":[");
            for (int i = 0; i < t.shape.length; i++) h.append(i == 0 ? "" : ",").append(t.shape[i]);
            h.append("],\"data_offsets\":[").append(off).append(',').append(off + t.data.length).append("]}");
            off += t.data.length;
        }
        h.append('}');
        byte[] hb = h.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate((int) (8 + hb.length + off)).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(hb.length).put(hb);
        for (Raw t : tensors) b.put(t.data);
        Files.write(file, b.array());
    }

    /** Deterministic pseudo-random values that are exact in bf16 (8 significant bits). */
    static float[] values(int n, int seed) {
        float[] v = new float[n];
        long s = seed * 0x9E3779B97F4A7C15L + 1;
        for (int i = 0; i < n; i++) {
            s = s * 6364136223846793005L + 1442695040888963407L;
            int k = (int) ((s >>> 33) % 255) - 127; // -127..127
            v[i] = k / 1024.0f; // |k| < 256 -> exact in bf16
        }
        return v;
    }

    /** File name -> SHA-256 of every file in dir (recursively), to prove inputs are unchanged. */
    static Map<String, String> snapshot(Path dir) {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isRegularFile(p)) {
                    MessageDigest md = MessageDigest.getInstance("SHA-256");
                    m.put(dir.relativize(p).toString(), java.util.HexFormat.of().formatHex(md.digest(Files.readAllBytes(p))));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return m;
    }

    /** Asserts dir has no *.tmp file and out does not exist. */
    static void assertNoOutput(Path out) throws IOException {
        assertThat(out).as("the output file").doesNotExist();
        try (Stream<Path> s = Files.list(out.toAbsolutePath().getParent())) {
            List<Path> tmp = new ArrayList<>();
            s.filter(p -> p.getFileName().toString().endsWith(".tmp")).forEach(tmp::add);
            assertThat(tmp).as("temporary files left").isEmpty();
        }
    }

    /** Writes a small hub-style config.json. */
    static void config(Path dir, Shape s, Map<String, Object> overrides) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architectures", List.of("MobileLLMForCausalLM"));
        m.put("model_type", "mobilellm");
        m.put("hidden_size", s.dim());
        m.put("intermediate_size", s.ffn());
        m.put("num_hidden_layers", s.layers());
        m.put("num_attention_heads", s.heads());
        m.put("num_key_value_heads", s.kvHeads());
        m.put("rms_norm_eps", 1e-5);
        m.put("rope_theta", 10000.0);
        m.put("max_position_embeddings", s.context());
        m.put("vocab_size", s.vocab());
        m.put("share_embedding", true);
        m.put("layer_sharing", false);
        m.put("tie_word_embeddings", false);
        m.put("torch_dtype", "bfloat16");
        m.putAll(overrides);
        m.values().removeIf(v -> v == null);
        Files.writeString(dir.resolve("config.json"), new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(m));
    }

    /** Standard HF tensors for shape s, bf16, values from {@link #values}. */
    static List<Raw> modelTensors(Shape s) {
        List<Raw> l = new ArrayList<>();
        int hd = s.headDim(), q = s.heads() * hd, kv = s.kvHeads() * hd, d = s.dim(), f = s.ffn();
        int seed = 1;
        l.add(bf16("model.embed_tokens.weight", new long[] {s.vocab(), d}, values(s.vocab() * d, seed++)));
        for (int i = 0; i < s.layers(); i++) {
            String p = "model.layers." + i + ".";
            l.add(bf16(p + "input_layernorm.weight", new long[] {d}, values(d, seed++)));
            l.add(bf16(p + "self_attn.q_proj.weight", new long[] {q, d}, values(q * d, seed++)));
            l.add(bf16(p + "self_attn.k_proj.weight", new long[] {kv, d}, values(kv * d, seed++)));
            l.add(bf16(p + "self_attn.v_proj.weight", new long[] {kv, d}, values(kv * d, seed++)));
            l.add(bf16(p + "self_attn.o_proj.weight", new long[] {d, q}, values(q * d, seed++)));
            l.add(bf16(p + "post_attention_layernorm.weight", new long[] {d}, values(d, seed++)));
            l.add(bf16(p + "mlp.gate_proj.weight", new long[] {f, d}, values(f * d, seed++)));
            l.add(bf16(p + "mlp.up_proj.weight", new long[] {f, d}, values(f * d, seed++)));
            l.add(bf16(p + "mlp.down_proj.weight", new long[] {d, f}, values(f * d, seed++)));
        }
        l.add(bf16("model.norm.weight", new long[] {d}, values(d, seed)));
        return l;
    }

    static Raw find(List<Raw> l, String name) {
        for (Raw r : l) if (r.name.equals(name)) return r;
        throw new IllegalArgumentException(name);
    }

    static void assertSameSnapshot(Map<String, String> before, Path dir) {
        assertThat(snapshot(dir)).as("input folder changed").isEqualTo(before);
    }
}
