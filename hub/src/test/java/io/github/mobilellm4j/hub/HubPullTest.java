package io.github.mobilellm4j.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.convert.ConvertOptions;
import io.github.mobilellm4j.convert.Converter;
import io.github.mobilellm4j.convert.OutputType;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pulls from a hub on loopback ({@link FakeHub}) that serves the repository's test checkpoints: conversion into
 * the model cache, the huggingface_hub cache layout, reuse, redirects and the token, gated repositories, resumed
 * downloads, checksums, GGUF repositories, offline use. Nothing here reaches the internet.
 */
class HubPullTest {
    static final String REPO = "test-org/tiny-ls";
    static final List<String> LFS = List.of("model.safetensors", "tokenizer.model", "pytorch_model.bin");

    FakeHub hub;
    @TempDir
    Path home;
    Map<String, byte[]> checkpoint;
    ByteArrayOutputStream progress = new ByteArrayOutputStream();

    @BeforeEach
    void start() throws Exception {
        hub = new FakeHub();
        checkpoint = FakeHub.folder(TestCheckpoints.checkpoint("mobilellm-ls-f16"));
        Map<String, byte[]> files = new java.util.LinkedHashMap<>(checkpoint);
        files.put("README.md", "# tiny\n".getBytes(StandardCharsets.UTF_8));
        files.put("pytorch_model.bin", new byte[] {1, 2, 3}); // a second weights format: must not be fetched
        hub.add(REPO, files, LFS, null);
        hub.add("test-org/gated", checkpoint, LFS, "hf_secret");
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    HubOptions.Builder options() {
        return HubOptions.builder(Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HOME", home.resolve("hf").toString(),
                        "MOBILELLM_CACHE_DIR", home.resolve("ours").toString()))
                .progress(new PrintStream(progress, true, StandardCharsets.UTF_8), false)
                .readTimeout(Duration.ofMillis(800));
    }

    Path repoCache(String repo) {
        return home.resolve("hf/hub/models--" + repo.replace("/", "--"));
    }

    @Test
    void pullsAndConvertsACheckpointIntoTheCaches() throws Exception {
        PulledModel m = HubModels.pull(REPO + ":q8_0", options().build());

        String commit = FakeHub.hex("SHA-1", null, (REPO + "@v1").getBytes(StandardCharsets.UTF_8));
        assertThat(m.commit()).isEqualTo(commit);
        assertThat(m.converted()).isTrue();
        assertThat(m.path()).isEqualTo(home.resolve("ours/models/test-org--tiny-ls/" + commit + "/tiny-ls-q8_0.gguf"));
        // the same bytes as converting the folder directly, under the repository's name
        Path direct = home.resolve("direct.gguf");
        Converter.convert(TestCheckpoints.checkpoint("mobilellm-ls-f16"), direct,
                ConvertOptions.defaults().withType(OutputType.Q8_0).withName("tiny-ls"));
        assertThat(Files.readAllBytes(m.path())).isEqualTo(Files.readAllBytes(direct));

        // huggingface_hub's layout: blobs named by SHA-256 (LFS) or git blob id, relative links, refs/main
        Path repo = repoCache(REPO);
        assertThat(Files.readString(repo.resolve("refs/main"))).isEqualTo(commit);
        for (var e : checkpoint.entrySet()) {
            boolean lfs = LFS.contains(e.getKey());
            String etag = lfs ? FakeHub.hex("SHA-256", null, e.getValue())
                    : FakeHub.hex("SHA-1", ("blob " + e.getValue().length + "\0").getBytes(StandardCharsets.US_ASCII), e.getValue());
            Path link = repo.resolve("snapshots/" + commit + "/" + e.getKey());
            assertThat(Files.isSymbolicLink(link)).as(e.getKey()).isTrue();
            assertThat(Files.readSymbolicLink(link)).isEqualTo(Path.of("../../blobs/" + etag));
            assertThat(Files.readAllBytes(repo.resolve("blobs/" + etag))).isEqualTo(e.getValue());
        }
        assertThat(FakeHub.names(hub.requests)).noneMatch(p -> p.contains("README") || p.contains("pytorch_model"));
        try (Stream<Path> s = Files.walk(home)) {
            assertThat(s.map(Path::toString)).noneMatch(p -> p.endsWith(".incomplete") || p.endsWith(".tmp"));
        }

        // pulled again: one question to the hub, nothing downloaded
        hub.requests.clear();
        assertThat(HubModels.pull(REPO, options().type("q8_0").build()).path()).isEqualTo(m.path());
        assertThat(FakeHub.names(hub.requests)).singleElement().asString().startsWith("/api/models/" + REPO + "/revision/main");

        // another type reuses the downloaded checkpoint
        hub.requests.clear();
        PulledModel q4 = HubModels.pull(REPO + ":q4_0", options().build());
        assertThat(q4.path().getFileName()).hasToString("tiny-ls-q4_0.gguf");
        assertThat(hub.requests("cdn")).isEmpty();

        try (Model model = HubModels.load(REPO, options().build(), ModelOptions.builder().threads(1).build())) {
            assertThat(model.path()).isEqualTo(m.path());
            assertThat(model.generate("hello", GenerateOptions.builder().maxTokens(4).greedy().build()).tokens()).hasSize(4);
        }
    }

    @Test
    void theTokenGoesToTheHubOnlyNotToTheCdn() {
        PulledModel m = HubModels.pull("test-org/gated", options().token("hf_secret").build());
        assertThat(m.path()).isRegularFile();
        assertThat(hub.requests("hub")).isNotEmpty().allSatisfy(r -> assertThat(r.authorization()).isEqualTo("Bearer hf_secret"));
        assertThat(hub.requests("cdn")).isNotEmpty().allSatisfy(r -> assertThat(r.authorization()).isNull());
    }

    @Test
    void aGatedRepositoryWithoutAccessSaysToAcceptTheLicence() {
        String page = hub.endpoint() + "/test-org/gated";
        assertThatThrownBy(() -> HubModels.pull("test-org/gated", options().build()))
                .isInstanceOf(HubException.class)
                .hasMessageContaining("test-org/gated is a gated repository")
                .hasMessageContaining("accept its licence on " + page)
                .hasMessageContaining("HF_TOKEN");
        assertThatThrownBy(() -> HubModels.pull("test-org/gated", options().token("hf_other").build()))
                .isInstanceOf(HubException.class)
                .hasMessageContaining("refused with the token given")
                .hasMessageContaining("accept its licence on " + page);
        assertThat(home.resolve("ours")).doesNotExist();
        assertThat(hub.requests("cdn")).isEmpty();
    }

    @Test
    void aDroppedConnectionIsResumedWhereItStopped() throws Exception {
        hub.dropAfter("model.safetensors", 300_000);
        PulledModel m = HubModels.pull(REPO, options().build());
        assertThat(m.path()).isRegularFile();
        List<FakeHub.Request> gets = hub.requests("cdn").stream().filter(r -> r.path().contains(sha("model.safetensors"))).toList();
        assertThat(gets).hasSize(2);
        assertThat(gets.get(0).range()).isNull();
        // resumed from what arrived: at most what the server sent before dropping, more than nothing
        long resumedAt = Long.parseLong(gets.get(1).range().replaceAll("bytes=(\\d+)-", "$1"));
        assertThat(resumedAt).isPositive().isLessThanOrEqualTo(300_000);
        assertThat(progress.toString(StandardCharsets.UTF_8)).contains("model.safetensors").contains("resuming at");
        assertThat(Files.readAllBytes(repoCache(REPO).resolve("blobs/" + sha("model.safetensors"))))
                .isEqualTo(checkpoint.get("model.safetensors"));
    }

    @Test
    void aStalledConnectionIsResumed() {
        hub.stallAfter("model.safetensors", 200_000);
        assertThat(HubModels.pull(REPO, options().build()).path()).isRegularFile();
        assertThat(hub.requests("cdn").stream().filter(r -> "bytes=200000-".equals(r.range()))).hasSize(1);
        assertThat(progress.toString(StandardCharsets.UTF_8)).contains("no data for 0.8 s");
    }

    @Test
    void anIncompleteFileOfAnEarlierRunIsResumed() throws Exception {
        byte[] weights = checkpoint.get("model.safetensors");
        Path blobs = repoCache(REPO).resolve("blobs");
        Files.createDirectories(blobs);
        Files.write(blobs.resolve(sha("model.safetensors") + ".incomplete"), Arrays.copyOf(weights, 123_456));
        HubModels.pull(REPO, options().build());
        assertThat(hub.requests("cdn").stream().filter(r -> r.path().contains(sha("model.safetensors"))))
                .singleElement().extracting(FakeHub.Request::range).isEqualTo("bytes=123456-");
        assertThat(Files.readAllBytes(blobs.resolve(sha("model.safetensors")))).isEqualTo(weights);
    }

    @Test
    void aCorruptedDownloadIsDiscarded() throws Exception {
        hub.corrupt("tokenizer.model");
        assertThatThrownBy(() -> HubModels.pull(REPO, options().build()))
                .isInstanceOf(HubException.class)
                .hasMessageContaining("tokenizer.model of test-org/tiny-ls does not match the hub's checksum")
                .hasMessageContaining("SHA-256 " + sha("tokenizer.model"));
        assertThat(repoCache(REPO).resolve("blobs/" + sha("tokenizer.model"))).doesNotExist();
        assertThat(repoCache(REPO).resolve("blobs/" + sha("tokenizer.model") + ".incomplete")).doesNotExist();
        assertThat(home.resolve("ours")).doesNotExist();
    }

    @Test
    void aCorruptedGitFileFailsItsBlobId() {
        hub.corrupt("config.json");
        assertThatThrownBy(() -> HubModels.pull(REPO, options().build()))
                .isInstanceOf(HubException.class)
                .hasMessageContaining("config.json of test-org/tiny-ls does not match the hub's checksum (git blob id");
    }

    @Test
    void hubEndpointAndCachesComeFromTheEnvironment() throws Exception {
        Path token = home.resolve("hf/token");
        Files.createDirectories(token.getParent());
        Files.writeString(token, "hf_secret\n");
        HubOptions o = HubOptions.builder(Map.of("HF_ENDPOINT", hub.endpoint() + "/", "HF_HOME", home.resolve("hf").toString(),
                "MOBILELLM_CACHE_DIR", home.resolve("ours").toString())).build();
        assertThat(o.endpoint()).hasToString(hub.endpoint());
        assertThat(o.hubCache()).isEqualTo(home.resolve("hf/hub"));
        assertThat(o.modelCache()).isEqualTo(home.resolve("ours/models"));
        assertThat(o.token()).isEqualTo("hf_secret"); // the token file that hf auth login writes
        assertThat(HubModels.pull("test-org/gated", o).path()).startsWith(home.resolve("ours/models"));
        assertThat(repoCache("test-org/gated").resolve("refs/main")).isRegularFile();

        HubOptions env = HubOptions.builder(Map.of("HF_HUB_CACHE", "/c/hub", "HF_HOME", "/h", "HF_TOKEN", "hf_env",
                "HF_HUB_OFFLINE", "1", "HF_HUB_DOWNLOAD_TIMEOUT", "2.5")).build();
        assertThat(env.hubCache()).isEqualTo(Path.of("/c/hub"));
        assertThat(env.token()).isEqualTo("hf_env");
        assertThat(env.offline()).isTrue();
        assertThat(env.readTimeout()).isEqualTo(Duration.ofMillis(2500));
        assertThat(env.endpoint()).hasToString("https://huggingface.co");
        assertThat(HubOptions.builder(Map.of("XDG_CACHE_HOME", "/x")).build().hubCache()).isEqualTo(Path.of("/x/huggingface/hub"));
    }

    @Test
    void offlineOrUnreachableTheCacheAnswers() throws Exception {
        Path path = HubModels.pull(REPO, options().build()).path();
        hub.requests.clear();
        assertThat(HubModels.pull(REPO, options().offline(true).build()).path()).isEqualTo(path);
        assertThat(hub.requests).isEmpty();
        hub.close();
        progress.reset();
        assertThat(HubModels.pull(REPO, options().build()).path()).isEqualTo(path);
        assertThat(progress.toString(StandardCharsets.UTF_8)).contains("cannot reach the hub").contains("using the cache");
        assertThatThrownBy(() -> HubModels.pull("test-org/gated", options().build()))
                .isInstanceOf(HubException.class).hasMessageContaining("cannot reach the hub at " + hub.endpoint());
        assertThatThrownBy(() -> HubModels.pull("test-org/gated", options().offline(true).build()))
                .isInstanceOf(HubException.class).hasMessageContaining("has no copy of test-org/gated at main");
    }

    @Test
    void unknownRepositoriesRevisionsAndUnsafeNamesAreNamed() {
        assertThatThrownBy(() -> HubModels.pull("test-org/nope", options().build()))
                .isInstanceOf(HubException.class).hasMessageContaining("repository test-org/nope not found on " + hub.endpoint());
        assertThatThrownBy(() -> HubModels.pull(REPO, options().revision("v9").build()))
                .isInstanceOf(HubException.class).hasMessageContaining("revision 'v9' not found in test-org/tiny-ls");
        hub.listExtra(List.of("../../evil"));
        assertThatThrownBy(() -> HubModels.pull(REPO, options().build()))
                .isInstanceOf(HubException.class).hasMessageContaining("unsafe file path in the repository: '../../evil'");
        hub.listExtra(List.of());
        assertThatThrownBy(() -> HubModels.pull(REPO + ":q3_x", options().build()))
                .isInstanceOf(HubException.class).hasMessageContaining("cannot convert test-org/tiny-ls to type 'q3_x'");
    }

    @Test
    void aRepositoryOfGgufFilesGivesTheFileOfTheType() throws Exception {
        byte[] q8 = Files.readAllBytes(TestCheckpoints.gguf("llama-f32", OutputType.Q8_0));
        byte[] q4 = Files.readAllBytes(TestCheckpoints.gguf("llama-f32", OutputType.Q4_0));
        hub.add("test-org/tiny-gguf", Map.of("Tiny.Q8_0.gguf", q8, "Tiny.Q4_0.gguf", q4, "tiny-mmproj-f16.gguf", q8,
                "README.md", new byte[] {'#'}), List.of("Tiny.Q8_0.gguf", "Tiny.Q4_0.gguf", "tiny-mmproj-f16.gguf"), null);
        PulledModel m = HubModels.pull("test-org/tiny-gguf:Q4_0", options().build());
        assertThat(m.converted()).isFalse();
        assertThat(m.path()).isEqualTo(repoCache("test-org/tiny-gguf").resolve("snapshots/" + m.commit() + "/Tiny.Q4_0.gguf"));
        assertThat(Files.readAllBytes(m.path())).isEqualTo(q4);
        assertThat(HubModels.pull("test-org/tiny-gguf", options().build()).path().getFileName()).hasToString("Tiny.Q8_0.gguf");
        assertThatThrownBy(() -> HubModels.pull("test-org/tiny-gguf:q5_1", options().build()))
                .isInstanceOf(HubException.class)
                .hasMessageContaining("test-org/tiny-gguf has no GGUF file of type q5_1 (it has Tiny.Q4_0.gguf, Tiny.Q8_0.gguf)");
    }

    @Test
    void hubReferencesAndPathsAreTold(@TempDir Path dir) throws Exception {
        assertThat(HubRef.parse("facebook/MobileLLM-125M:Q4_0")).isEqualTo(new HubRef(new RepoId("facebook", "MobileLLM-125M"), "q4_0"));
        assertThat(HubRef.parse("hf.co/facebook/MobileLLM-125M").tag()).isNull();
        assertThat(HubRef.isHubReference("facebook/MobileLLM-125M")).isTrue();
        assertThat(HubRef.isHubReference("model.gguf")).isFalse();
        assertThat(HubRef.isHubReference("models/x.gguf")).isFalse();
        Path existing = Files.createDirectories(dir.resolve("org/name"));
        assertThat(HubRef.isHubReference(existing.toString())).isFalse(); // absolute: not owner/name
        assertThat(HubRef.isHubReference("a/b/c")).isFalse();
        assertThatThrownBy(() -> RepoId.parse("a--b/c")).hasMessageContaining("no '--' or '..'");
        assertThatThrownBy(() -> HubRef.parse("a/b:")).hasMessageContaining("empty type");
        assertThatThrownBy(() -> HubOptions.builder(Map.of()).revision("../x")).hasMessageContaining("invalid revision");
        assertThatThrownBy(() -> HubOptions.builder(Map.of("HF_ENDPOINT", "ftp://x")).build()).hasMessageContaining("not an http(s) URL");
    }

    String sha(String file) {
        return FakeHub.hex("SHA-256", null, checkpoint.get(file));
    }
}
