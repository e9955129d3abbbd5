package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/** ModelInfo and TensorInfo of a converted checkpoint agree with the checkpoint's own transformers config.json. */
class ModelInfoTest {
    @Test
    void theGroupsHoldWhatTheCheckpointsConfigSays() {
        JsonNode cfg = TestFiles.json(TestFiles.testdata("checkpoints/llama-f32/config.json"));
        try (Model model = Model.load(TestFiles.checkpoint("llama-f32", "f32"),
                ModelOptions.builder().threads(2).build())) {
            ModelInfo info = model.info();
            assertThat(info.architecture()).isEqualTo("llama");
            assertThat(info.backend()).isEqualTo(Backend.CPU);
            assertThat(info.threads()).isEqualTo(2);
            int layers = cfg.get("num_hidden_layers").asInt();
            assertThat(info.shape()).isEqualTo(new ModelInfo.Shape(layers, 1, layers, cfg.get("hidden_size").asInt(),
                    cfg.get("intermediate_size").asInt(), cfg.get("max_position_embeddings").asInt(),
                    (float) cfg.get("rms_norm_eps").asDouble()));
            assertThat(info.attention()).isEqualTo(new ModelInfo.Attention(cfg.get("num_attention_heads").asInt(),
                    cfg.get("num_key_value_heads").asInt(), cfg.get("head_dim").asInt(),
                    (float) cfg.get("rope_theta").asDouble()));
            ModelInfo.Vocabulary v = info.vocabulary();
            assertThat(v.size()).isEqualTo(cfg.get("vocab_size").asInt());
            assertThat(v.bosToken()).isEqualTo(cfg.get("bos_token_id").asInt());
            assertThat(v.eosToken()).isEqualTo(cfg.get("eos_token_id").asInt());
            assertThat(v.padToken()).as("pad_token_id is null").isEqualTo(-1);
            assertThat(v.addBos()).isTrue();
            assertThat(v.addEos()).isFalse();
            assertThat(info.weights().tiedEmbeddings()).isEqualTo(cfg.get("tie_word_embeddings").asBoolean());
            // every stored tensor counted once: the parameters and bytes are the sums over the tensor table
            long params = 0;
            long bytes = 0;
            for (TensorInfo t : model.tensors()) {
                params += t.shape().stream().mapToLong(Long::longValue).reduce(1, (a, b) -> a * b);
                bytes += t.bytes();
            }
            assertThat(info.weights().parameterCount()).isEqualTo(params);
            assertThat(info.weights().sizeBytes()).isEqualTo(bytes);
            TensorInfo embd = model.tensors().stream().filter(t -> t.name().equals("token_embd.weight")).findFirst()
                    .orElseThrow();
            assertThat(embd.type()).isEqualTo("f32");
            assertThat(embd.shape()).containsExactly((long) info.shape().embeddingLength(), (long) v.size());
            assertThat(embd.bytes()).isEqualTo(4L * info.shape().embeddingLength() * v.size());
        }
    }
}
