package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo model: its F32 conversion (by our converter, from the checkpoint transformers saved) continues the
 * recorded prompts exactly as transformers did (models/demo/reference.json); the Q8_0 file of the
 * mobilellm4j-demo-model artifact loads and writes text; without that artifact the error names it.
 */
class DemoModelTest {
    @Test
    void f32GreedyContinuationEqualsTransformers() {
        JsonNode ref = TestFiles.json(TestFiles.repoRoot().resolve("models/demo/reference.json"));
        try (Model model = Model.load(TestFiles.convert(TestFiles.repoRoot().resolve("models/demo/hf"), "demo", "f32"))) {
            for (JsonNode p : ref.get("prompts")) {
                int[] ids = ReferenceParityTest.ints(p.get("ids"));
                assertThat(model.tokenizer().encode(p.get("text").asText())).isEqualTo(ids);
                int[] expected = ReferenceParityTest.ints(p.get("greedy_ids"));
                try (Session s = model.newSession(SessionOptions.builder().kvCacheType(KvCacheType.F32).build())) {
                    Generation g = s.generate(ids, GenerateOptions.builder().greedy().ignoreEos(true)
                            .maxTokens(expected.length).build(), null);
                    assertThat(g.tokens()).as("greedy continuation of '%s'", p.get("text").asText())
                            .isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void bundledModelGeneratesEnglish() {
        try (Model model = Model.loadDemo()) {
            assertThat(model.tokenizer().vocabSize()).isEqualTo(model.info().vocabulary().size());
            Generation g = model.generate(DemoModel.EXAMPLE_PROMPT, GenerateOptions.builder().greedy().maxTokens(24).build());
            assertThat(g.tokens()).isNotEmpty();
            long letters = g.text().chars().filter(Character::isLetter).count();
            assertThat(letters).as("mostly letters: " + g.text()).isGreaterThan(g.text().length() / 2);
        }
    }

    @Test
    void withoutTheDemoArtifactTheErrorNamesIt(@TempDir Path cache) throws IOException {
        try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
            assertThatThrownBy(() -> DemoModel.extract(empty, null, cache))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("not on the class path")
                    .hasMessageContaining("io.github.mobilellm4j:mobilellm4j-demo-model:");
        }
        assertThat(cache).isEmptyDirectory();
    }

    @Test
    void demoArtifactIsCopiedToTheCacheOnceAndByteForByte(@TempDir Path cache) throws IOException {
        Path first = DemoModel.extract(DemoModel.class.getClassLoader(), null, cache);
        byte[] resource;
        try (var in = DemoModel.class.getClassLoader().getResourceAsStream(DemoModel.RESOURCE)) {
            resource = in.readAllBytes();
        }
        assertThat(Files.readAllBytes(first)).isEqualTo(resource);
        FileTime old = FileTime.fromMillis(1_000_000L); // a rewrite would set the current time
        Files.setLastModifiedTime(first, old);
        assertThat(DemoModel.extract(DemoModel.class.getClassLoader(), null, cache)).isEqualTo(first);
        assertThat(Files.getLastModifiedTime(first)).isEqualTo(old);
    }
}
