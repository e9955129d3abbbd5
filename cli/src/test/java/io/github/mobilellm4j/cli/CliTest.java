package io.github.mobilellm4j.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mobilellm4j.cli.Cli.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The documented command-line interface: JSON shapes, exit codes and error messages. */
class CliTest {
    static Path root;
    static Path model;

    static Result run(String... args) {
        return Cli.run(args);
    }

    @BeforeAll
    static void convertTestModel() throws Exception {
        root = Cli.root();
        model = Cli.model();
    }

    @Test
    void generateJsonHasTheDocumentedShape() throws Exception {
        Result r = run("generate", "-m", model.toString(), "-p", "This License", "-n", "8", "--greedy", "--ignore-eos",
                "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = r.json();
        for (String k : new String[] {"prompt_tokens", "tokens", "text", "stop_reason", "prompt_tokens_per_second",
                "tokens_per_second"}) {
            assertTrue(j.has(k), "missing " + k + " in " + r.out());
        }
        assertEquals(8, j.get("tokens").size());
        assertEquals("max_tokens", j.get("stop_reason").asText());
        assertEquals(1, j.get("prompt_tokens").get(0).asInt(), "-p applies the model's add_bos: BOS first");
        assertTrue(j.get("tokens_per_second").asDouble() > 0);

        // the text is the continuation of the prompt: decoding prompt + generated tokens gives prompt + text
        StringBuilder ids = new StringBuilder();
        j.get("prompt_tokens").forEach(t -> ids.append(ids.length() == 0 ? "" : ",").append(t.asInt()));
        j.get("tokens").forEach(t -> ids.append(",").append(t.asInt()));
        Result d = run("detokenize", "-m", model.toString(), "--tokens", ids.toString(), "--json");
        assertEquals(0, d.code(), d.err());
        assertEquals("This License" + j.get("text").asText(), d.json().get("text").asText());
    }

    @Test
    void generateWithTokensAddsNoBos() throws Exception {
        Result r = run("generate", "-m", model.toString(), "--tokens", "100,200,300", "-n", "3", "--greedy", "--json");
        assertEquals(0, r.code(), r.err());
        assertEquals("[100,200,300]", r.json().get("prompt_tokens").toString());
    }

    @Test
    void tokenizeAndLogits() throws Exception {
        Result t = run("tokenize", "-m", model.toString(), "-p", "Hello world", "--bos", "--json");
        assertEquals(0, t.code(), t.err());
        JsonNode j = t.json();
        assertEquals(j.get("tokens").size(), j.get("pieces").size());
        assertEquals(1, j.get("tokens").get(0).asInt());
        assertEquals("<s>", j.get("pieces").get(0).asText());

        Result l = run("logits", "-m", model.toString(), "--tokens", "1,100,200", "--top", "4", "--json");
        assertEquals(0, l.code(), l.err());
        JsonNode pos = l.json().get("positions");
        assertEquals(3, pos.size());
        for (JsonNode p : pos) {
            JsonNode top = p.get("top");
            assertEquals(4, top.size());
            for (int i = 1; i < 4; i++) assertTrue(top.get(i - 1).get("logit").asDouble() >= top.get(i).get("logit").asDouble());
        }
    }

    @Test
    void perplexityEmbedInfoBench() throws Exception {
        Path text = root.resolve("testdata/reference/llama-f32.json");
        JsonNode ref = Cli.JSON.readTree(text.toFile()).get("perplexity");
        Result p = run("perplexity", "-m", model.toString(), "-f", root.resolve(ref.get("text").asText()).toString(),
                "--ctx", "64", "--json");
        assertEquals(0, p.code(), p.err());
        JsonNode pj = p.json();
        assertEquals("mobilellm", pj.get("method").asText());
        assertEquals(ref.get("windows").asInt(), pj.get("windows").asInt());
        // Q8_0 weights + F16 KV cache against the float64 reference: within 2% (the quantization issue's 1% bar
        // is for Q8_0 vs F32 of the same engine; this adds the reference-vs-engine difference)
        assertEquals(ref.get("perplexity").asDouble(), pj.get("perplexity").asDouble(), 0.02 * ref.get("perplexity").asDouble());
        Result lc = run("perplexity", "-m", model.toString(), "-f", root.resolve(ref.get("text").asText()).toString(),
                "--ctx", "64", "--method", "llama.cpp", "--json");
        assertEquals(0, lc.code(), lc.err());
        assertEquals("llama.cpp", lc.json().get("method").asText());

        Result e = run("embed", "-m", model.toString(), "-p", "some text", "--json");
        assertEquals(0, e.code(), e.err());
        assertEquals(e.json().get("dim").asInt(), e.json().get("embedding").size());

        Result i = run("info", "-m", model.toString(), "--json");
        assertEquals(0, i.code(), i.err());
        assertEquals("llama", i.json().get("metadata").get("general.architecture").asText());
        assertTrue(i.json().get("types").has("q8_0"));

        Result b = run("bench", "-m", model.toString(), "-p", "8", "-n", "4", "-r", "1", "--json");
        assertEquals(0, b.code(), b.err());
        assertTrue(b.json().get("pp_tokens_per_second").asDouble() > 0);
        assertTrue(b.json().get("tg_tokens_per_second").asDouble() > 0);
        assertEquals(8, b.json().get("n_prompt").asInt());
    }

    @Test
    void usageErrorsExitWithTwoAndSayWhy() {
        Result unknown = run("frobnicate");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("unknown command 'frobnicate'"), unknown.err());

        Result badOpt = run("generate", "-m", model.toString(), "-p", "x", "--tempp", "1");
        assertEquals(2, badOpt.code());
        assertTrue(badOpt.err().contains("--tempp"), badOpt.err());

        Result noPrompt = run("generate", "-m", model.toString());
        assertEquals(2, noPrompt.code());

        Result badNumber = run("generate", "-m", model.toString(), "-p", "x", "-n", "many");
        assertEquals(2, badNumber.code());
        assertTrue(badNumber.err().contains("-n"), badNumber.err());
    }

    @Test
    void convertRefusesToOverwriteAndQuantizeWorks(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("m.gguf");
        assertEquals(0, run("convert", root.resolve("testdata/checkpoints/llama-f32").toString(), "-o", out.toString(),
                "--type", "f16").code());
        long size = Files.size(out);
        Result again = run("convert", root.resolve("testdata/checkpoints/llama-f32").toString(), "-o", out.toString(),
                "--type", "f16");
        assertEquals(1, again.code());
        assertTrue(again.err().contains("--force") || again.err().contains("exists"), again.err());
        assertEquals(size, Files.size(out), "the existing file is untouched");

        Path q = dir.resolve("q4.gguf");
        Result quant = run("quantize", out.toString(), q.toString(), "--type", "q4_0");
        assertEquals(0, quant.code(), quant.err());
        Result info = run("info", "-m", q.toString(), "--json");
        assertTrue(info.json().get("types").has("q4_0"), info.out());
        Result gen = run("generate", "-m", q.toString(), "-p", "This", "-n", "4", "--greedy", "--json");
        assertEquals(0, gen.code(), gen.err());
    }
}
