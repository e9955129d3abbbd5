package io.github.mobilellm4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Runs the tool in-process with captured streams; the small test model every CLI test uses. */
final class Cli {
    static final ObjectMapper JSON = new ObjectMapper();
    private static Path root;
    private static Path model;

    private Cli() {
    }

    record Result(int code, String out, String err) {
        JsonNode json() throws Exception {
            return JSON.readTree(out);
        }
    }

    static Result run(String... args) {
        return runWith("", false, args);
    }

    /** Runs with stdin as standard input; errTerminal says whether err counts as a terminal. */
    static Result runWith(String stdin, boolean errTerminal, String... args) {
        return runWith(stdin, errTerminal, System.getenv(), args);
    }

    /** Runs with these environment variables instead of the process's. */
    static Result runEnv(Map<String, String> env, String... args) {
        return runWith("", false, env, args);
    }

    private static Result runWith(String stdin, boolean errTerminal, Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new Streams(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                errTerminal, env));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static synchronized Path root() {
        if (root == null) {
            Path p = Path.of("").toAbsolutePath();
            while (!Files.isDirectory(p.resolve("testdata"))) p = p.getParent();
            root = p;
        }
        return root;
    }

    /** testdata/checkpoints/llama-f32 converted to Q8_0 by the convert command, once per test JVM. */
    static synchronized Path model() throws Exception {
        if (model == null) {
            Path dir = Path.of("target", "cli-test").toAbsolutePath();
            Files.createDirectories(dir);
            Path m = dir.resolve("llama-f32-q8_0.gguf");
            Result r = run("convert", root().resolve("testdata/checkpoints/llama-f32").toString(), "-o", m.toString(),
                    "--type", "q8_0", "--force");
            assertThat(r.code()).as(r.err()).isZero();
            model = m;
        }
        return model;
    }
}
