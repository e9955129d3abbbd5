package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mobilellm4j.bindings.mllm_session_params;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A model file cannot make every default session huge: sessions get min(the model's training context, 4096)
 * tokens unless the caller asks for more, and the model's full context stays available on request.
 */
class ContextLengthTest {
    /** The engine's default cap on a session's context (MLLM_DEFAULT_N_CTX in mobilellm.h). */
    static final int DEFAULT_CAP = 4096;

    /** The test checkpoint with a different max_position_embeddings in its config.json, converted to GGUF. */
    static Path modelWithContext(int positions) {
        Path src = TestFiles.testdata("checkpoints/llama-f32");
        Path dir = TestFiles.outDir().resolve("llama-f32-ctx" + positions);
        try {
            Files.createDirectories(dir);
            for (String f : new String[] {"model.safetensors", "tokenizer.model", "tokenizer_config.json"}) {
                Files.copy(src.resolve(f), dir.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            String config = Files.readString(src.resolve("config.json"))
                    .replace("\"max_position_embeddings\": 2048", "\"max_position_embeddings\": " + positions);
            Files.writeString(dir.resolve("config.json"), config);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return TestFiles.convert(dir, dir.getFileName().toString(), "f32");
    }

    @Test
    void aHugeDeclaredContextDoesNotSizeDefaultSessions() {
        try (Model m = Model.load(modelWithContext(1 << 20), ModelOptions.builder().threads(2).build())) {
            assertThat(m.info().shape().contextLength()).isEqualTo(1 << 20);
            try (Session s = m.newSession()) {
                assertThat(s.contextLength()).isEqualTo(DEFAULT_CAP);
            }
            try (Session s = m.newSession(SessionOptions.builder().build())) {
                assertThat(s.contextLength()).isEqualTo(DEFAULT_CAP);
            }
            // the convenience calls use default sessions too
            assertThat(m.generate(ApiBehaviourTest.PROMPT, ApiBehaviourTest.greedy(2)).tokens()).hasSize(2);
            assertThat(m.embed(ApiBehaviourTest.PROMPT, Pooling.MEAN, true)).hasSize(m.info().shape().embeddingLength());
        }
    }

    @Test
    void theModelMaximumAndExplicitLengthsStayAvailable() {
        int trained = 3 * DEFAULT_CAP;
        Path gguf = modelWithContext(trained);
        try (Model m = Model.load(gguf, ModelOptions.builder().threads(2).build())) {
            try (Session s = m.newSession()) {
                assertThat(s.contextLength()).isEqualTo(DEFAULT_CAP);
            }
            try (Session s = m.newSession(SessionOptions.builder().contextLength(SessionOptions.MODEL_MAXIMUM).build())) {
                assertThat(s.contextLength()).isEqualTo(trained);
            }
            try (Session s = m.newSession(SessionOptions.builder().contextLength(100).build())) {
                assertThat(s.contextLength()).isEqualTo(100);
            }
        }
        // the model-wide default for newSession(), generate() and embed()
        try (Model m = Model.load(gguf, ModelOptions.builder().threads(2).contextLength(SessionOptions.MODEL_MAXIMUM).build());
                Session s = m.newSession()) {
            assertThat(s.contextLength()).isEqualTo(trained);
        }
        // below the cap, the default is the model's own context (2048 in the test checkpoint)
        try (Model m = Model.load(TestFiles.checkpoint("llama-f32", "f32")); Session s = m.newSession()) {
            assertThat(s.contextLength()).isEqualTo(2048);
        }
    }

    @Test
    void optionsPassTheDefaultAndTheMaximumToTheEngine() {
        try (Arena a = Arena.ofConfined()) {
            // 0 and -1 are the engine's own codes for "default" and "training context" (mobilellm.h)
            assertThat(mllm_session_params.n_ctx(Session.params(SessionOptions.builder().build(), a))).isZero();
            assertThat(mllm_session_params.n_ctx(Session.params(
                    SessionOptions.builder().contextLength(SessionOptions.MODEL_MAXIMUM).build(), a))).isEqualTo(-1);
            assertThat(mllm_session_params.n_ctx(Session.params(SessionOptions.builder().contextLength(100).build(), a)))
                    .isEqualTo(100);
        }
        assertThat(ModelOptions.defaults().contextLength()).isZero();
        assertThatThrownBy(() -> SessionOptions.builder().contextLength(-2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("contextLength");
        assertThatThrownBy(() -> ModelOptions.builder().contextLength(-2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("contextLength");
    }
}
