package io.github.mobilellm4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mobilellm4j.cli.Cli.Result;
import io.github.mobilellm4j.hub.FakeHub;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** mobilellm pull, and -m OWNER/NAME in the commands that load a model, against a hub on loopback. */
class PullTest {
    static final List<String> LFS = List.of("model.safetensors", "tokenizer.model");

    FakeHub hub;
    @TempDir
    Path home;
    Map<String, String> env;

    @BeforeEach
    void start() throws Exception {
        hub = new FakeHub();
        Map<String, byte[]> files = FakeHub.folder(Cli.root().resolve("testdata/checkpoints/mobilellm-ls-f16"));
        hub.add("test-org/tiny-ls", files, LFS, null);
        hub.add("test-org/gated", files, LFS, "hf_secret");
        env = Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HOME", home.resolve("hf").toString(),
                "MOBILELLM_CACHE_DIR", home.resolve("ours").toString());
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    @Test
    void pullPrintsTheGgufPathAndJson() throws Exception {
        Result r = Cli.runEnv(env, "pull", "test-org/tiny-ls", "--type", "q4_0");
        assertThat(r.code()).as(r.err()).isZero();
        Path gguf = Path.of(r.out().strip());
        assertThat(gguf).isRegularFile().startsWith(home.resolve("ours/models/test-org--tiny-ls"));
        assertThat(gguf.getFileName()).hasToString("tiny-ls-q4_0.gguf");
        assertThat(r.err()).contains("downloaded model.safetensors").contains("wrote " + gguf);

        Result j = Cli.runEnv(env, "pull", "test-org/tiny-ls:q4_0", "--json");
        assertThat(j.code()).as(j.err()).isZero();
        JsonNode o = j.json();
        assertThat(o.get("repo").asText()).isEqualTo("test-org/tiny-ls");
        assertThat(o.get("commit").asText()).hasSize(40);
        assertThat(o.get("type").asText()).isEqualTo("q4_0");
        assertThat(o.get("path").asText()).isEqualTo(gguf.toString());
        assertThat(o.get("converted").asBoolean()).isTrue();
    }

    @Test
    void commandsTakeARepositoryForTheModel() throws Exception {
        Result r = Cli.runEnv(env, "generate", "-m", "test-org/tiny-ls:q8_0", "-p", "hello", "-n", "3", "--greedy", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.json().get("tokens")).hasSize(3);
        assertThat(r.err()).contains("mobilellm: test-org/tiny-ls:q8_0 from " + hub.endpoint());
        Result info = Cli.runEnv(env, "info", "-m", "test-org/tiny-ls:q8_0", "--json");
        assertThat(info.code()).as(info.err()).isZero();
        assertThat(info.out()).contains("tiny-ls");
        // a file named like a repository (relative to the working folder) is a file
        hub.requests.clear();
        Path file = Path.of("target", "pull-test-model");
        Files.copy(Cli.model(), file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Result local = Cli.runEnv(env, "generate", "-m", "target/pull-test-model", "-p", "x", "-n", "1");
        assertThat(local.code()).as(local.err()).isZero();
        assertThat(hub.requests).isEmpty();
    }

    @Test
    void refusalsAndMistakesAreOneLine() {
        Result gated = Cli.runEnv(env, "pull", "test-org/gated");
        assertThat(gated.code()).isEqualTo(1);
        assertThat(gated.err()).contains("mobilellm pull: test-org/gated is a gated repository: accept its licence on "
                + hub.endpoint() + "/test-org/gated");
        assertThat(Cli.runEnv(env, "pull", "test-org/gated", "--token", "hf_secret").code()).isZero();

        Result usage = Cli.runEnv(env, "pull", "tiny-ls");
        assertThat(usage.code()).isEqualTo(2);
        assertThat(usage.err()).startsWith("mobilellm pull: 'tiny-ls' is not a repository id (expected owner/name");
        Result clash = Cli.runEnv(env, "pull", "test-org/tiny-ls:q8_0", "--type", "q4_0");
        assertThat(clash.code()).isEqualTo(2);
        assertThat(clash.err()).contains("--type q4_0 differs from the type in test-org/tiny-ls:q8_0");
        Result missing = Cli.runEnv(env, "pull", "test-org/missing");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("repository test-org/missing not found");
        assertThat(missing.err().lines()).last().asString().startsWith("mobilellm pull: ");
    }
}
