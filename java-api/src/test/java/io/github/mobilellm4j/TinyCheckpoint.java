package io.github.mobilellm4j;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Writes a minimal Llama checkpoint (config.json + model.safetensors, f32, random weights) for tests that
 * need a model around a given tokenizer, e.g. the real LLaMA-2 vocabulary. Written by hand from the
 * safetensors format description: 8-byte little-endian header length, JSON header, raw data.
 */
final class TinyCheckpoint {
    private TinyCheckpoint() {
    }

    static void write(Path dir, int vocab, int dim, int ffn) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": %d,
                 "intermediate_size": %d, "num_hidden_layers": 1, "num_attention_heads": 1,
                 "num_key_value_heads": 1, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
                 "max_position_embeddings": 2048, "vocab_size": %d, "bos_token_id": 1, "eos_token_id": 2,
                 "tie_word_embeddings": true, "torch_dtype": "float32"}
                """.formatted(dim, ffn, vocab));
        Map<String, int[]> shapes = new LinkedHashMap<>();
        shapes.put("model.embed_tokens.weight", new int[] {vocab, dim});
        shapes.put("model.norm.weight", new int[] {dim});
        String l = "model.layers.0.";
        shapes.put(l + "input_layernorm.weight", new int[] {dim});
        shapes.put(l + "post_attention_layernorm.weight", new int[] {dim});
        for (String p : new String[] {"q_proj", "k_proj", "v_proj", "o_proj"}) {
            shapes.put(l + "self_attn." + p + ".weight", new int[] {dim, dim});
        }
        shapes.put(l + "mlp.gate_proj.weight", new int[] {ffn, dim});
        shapes.put(l + "mlp.up_proj.weight", new int[] {ffn, dim});
        shapes.put(l + "mlp.down_proj.weight", new int[] {dim, ffn});
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (var e : shapes.entrySet()) {
            long n = 1;
            for (int d : e.getValue()) n *= d;
            if (header.length() > 1) header.append(',');
            header.append('"').append(e.getKey()).append("\":{\"dtype\":\"F32\",\"shape\":[");
            for (int i = 0; i < e.getValue().length; i++) header.append(i == 0 ? "" : ",").append(e.getValue()[i]);
            header.append("],\"data_offsets\":[").append(offset).append(',').append(offset + 4 * n).append("]}");
            offset += 4 * n;
        }
        header.append('}');
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h);
        Random rnd = new Random(7);
        for (var e : shapes.entrySet()) {
            long n = 1;
            for (int d : e.getValue()) n *= d;
            boolean norm = e.getKey().endsWith("norm.weight");
            for (long i = 0; i < n; i++) buf.putFloat(norm ? 1f : (float) (rnd.nextGaussian() * 0.02));
        }
        Files.write(dir.resolve("model.safetensors"), buf.array());
    }
}
