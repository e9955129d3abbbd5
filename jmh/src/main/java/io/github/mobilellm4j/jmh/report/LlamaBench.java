package io.github.mobilellm4j.jmh.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Runs llama.cpp's {@code llama-bench} on one of our GGUF files ({@code -o json}) and reads its results, for the
 * ratio columns of the report. llama-bench measures prompt processing ({@code pp}) as one batch from an empty
 * context and text generation ({@code tg}) as single-token decodes from an empty context.
 */
public final class LlamaBench {
    /** One llama-bench result: a pp or tg test. */
    public record Entry(String model, int threads, int nPrompt, int nGen, double avgTs, double stddevTs,
            String build) {
        public boolean isGeneration() {
            return nGen > 0 && nPrompt == 0;
        }
    }

    private final Path binary;
    private final List<String> extraArgs;

    public LlamaBench(Path binary, List<String> extraArgs) {
        this.binary = binary;
        this.extraArgs = List.copyOf(extraArgs);
    }

    public Path binary() {
        return binary;
    }

    /** llama-bench on PATH, if any. */
    public static Optional<Path> findOnPath() {
        String path = System.getenv("PATH");
        if (path == null) return Optional.empty();
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir, "llama-bench");
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return Optional.of(p);
        }
        return Optional.empty();
    }

    /**
     * Runs the prompt lengths and one generation test with the given threads; returns the entries (empty when it
     * failed, with the reason on stderr). The raw JSON goes to rawOut.
     */
    public List<Entry> run(Path model, int threads, List<Integer> promptLengths, int genTokens, int repetitions,
            Path rawOut) {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary.toString());
        cmd.addAll(List.of("-m", model.toString(), "-t", Integer.toString(threads),
                "-p", String.join(",", promptLengths.stream().map(String::valueOf).toList()),
                "-n", Integer.toString(genTokens), "-r", Integer.toString(repetitions), "-o", "json"));
        cmd.addAll(extraArgs);
        System.err.println("[bench-report] " + String.join(" ", cmd));
        try {
            Path errLog = Files.createTempFile("llama-bench", ".log");
            Process p = new ProcessBuilder(cmd).redirectError(errLog.toFile()).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                System.err.println("[bench-report] llama-bench timed out");
                return List.of();
            }
            String text = new String(out, StandardCharsets.UTF_8);
            Files.writeString(rawOut, text);
            if (p.exitValue() != 0) {
                System.err.println("[bench-report] llama-bench exited with " + p.exitValue() + ": "
                        + tail(Files.readString(errLog), 2000));
                return List.of();
            }
            Files.deleteIfExists(errLog);
            return parse(text);
        } catch (IOException e) {
            System.err.println("[bench-report] cannot run llama-bench: " + e.getMessage());
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }

    /** Parses llama-bench's JSON output (an array of test objects). */
    public static List<Entry> parse(String json) throws IOException {
        List<Entry> entries = new ArrayList<>();
        int start = json.indexOf('[');
        if (start < 0) return entries;
        JsonNode root = new ObjectMapper().readTree(json.substring(start));
        for (JsonNode t : root) {
            entries.add(new Entry(t.path("model_filename").asText(""), t.path("n_threads").asInt(0),
                    t.path("n_prompt").asInt(0), t.path("n_gen").asInt(0), t.path("avg_ts").asDouble(0),
                    t.path("stddev_ts").asDouble(0),
                    t.path("build_commit").asText("") + (t.has("build_number") ? " (" + t.path("build_number").asText() + ")" : "")));
        }
        return entries;
    }

    private static String tail(String s, int n) {
        return s.length() <= n ? s : s.substring(s.length() - n);
    }
}
