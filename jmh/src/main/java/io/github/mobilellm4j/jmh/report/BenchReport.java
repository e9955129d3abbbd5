package io.github.mobilellm4j.jmh.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.github.mobilellm4j.jmh.BenchModels;
import io.github.mobilellm4j.jmh.SmokeRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * The benchmark report: runs the suite, and llama.cpp's llama-bench when available, and writes the results.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp jmh/target/benchmarks.jar io.github.mobilellm4j.jmh.report.BenchReport [options]
 *   --profile full|quick|smoke   iteration counts (full: the annotations' 3x2 s warm-up + 5x2 s measured, one fork)
 *   --shapes 125M,350M           model shapes (--shapes all = 125M,350M,600M,1B,1.5B)
 *   --types F16,Q8_0,Q4_0        weight types
 *   --threads 1,2,N              engine threads (default 1, 2 and every core, without repeats)
 *   --backends CPU               backends (VULKAN, AUTO where built in)
 *   --forks N                    forks per benchmark (default: the profile's)
 *   --llama-bench PATH           llama-bench binary (default: llama-bench on PATH); --no-llama-bench skips it
 *   --llama-bench-args "..."     extra llama-bench arguments
 *   --results DIR                machine-readable results (default jmh/results)
 *   --out FILE                   the Markdown report (default docs/benchmarks.md); the chart goes next to it (.svg)
 *   --note TEXT                  a remark printed at the top of the report (e.g. "machine shared with other jobs")
 *   --parts tokens,extras,load,tokenizer   run only these parts, keeping the other parts' existing results
 *   --from-results               only rewrite the report from the results already in --results
 * </pre>
 *
 * For each shape, type, backend and thread count in turn it runs decode and prompt processing (one JMH run),
 * then llama-bench on the same GGUF file with the same threads, so that both see the same machine state. Then,
 * with every core: embeddings, the Java-layer overhead pair, model load (mmap and read) and the tokenizer.
 */
public final class BenchReport {
    static final List<Integer> PROMPT_LENGTHS = List.of(32, 128, 512);
    static final int GEN_TOKENS = 64;
    static final String PKG = "io\\.github\\.mobilellm4j\\.jmh\\.";

    private final Options o;
    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    BenchReport(Options o) {
        this.o = o;
    }

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("bench-report: " + e.getMessage());
            System.err.println(Options.USAGE);
            System.exit(2);
            return;
        }
        if (o.help) {
            System.out.println(Options.USAGE);
            return;
        }
        System.exit(new BenchReport(o).run());
    }

    int run() throws Exception {
        Files.createDirectories(o.results);
        Path jmhJson = o.results.resolve("jmh-results.json");
        Path llamaJson = o.results.resolve("llama-bench.json");
        Path machineJson = o.results.resolve("machine.json");
        if (!o.fromResults) {
            long started = System.nanoTime();
            log("machine: collecting CPU details and measuring memory bandwidth");
            Map<String, Object> machine = MachineInfo.collect(true);
            machine.put("profile", o.profile);
            machine.put("note", o.note);
            json.writeValue(machineJson.toFile(), machine);

            log("models: creating missing synthetic GGUF files in " + BenchModels.cacheDir());
            Map<String, Path> files = new LinkedHashMap<>();
            for (String shape : o.shapes) {
                for (String type : o.types) files.put(shape + "/" + type, BenchModels.model(shape, type));
            }
            if (!o.types.contains("Q8_0")) BenchModels.model("125M", "Q8_0"); // the tokenizer benchmark's model

            Optional<LlamaBench> llama = o.llamaBench.map(p -> new LlamaBench(p, o.llamaArgs));
            llama.ifPresentOrElse(l -> log("llama-bench: " + l.binary()), () -> log("llama-bench: not found, no ratio columns"));

            ArrayNode all = json.createArrayNode();
            if (!o.parts.containsAll(Options.ALL_PARTS) && Files.isRegularFile(jmhJson)) {
                // re-running some parts: keep the other parts' results
                for (JsonNode r : json.readTree(jmhJson.toFile())) {
                    if (!o.parts.contains(partOf(r.path("benchmark").asText()))) all.add(r);
                }
            }
            List<Map<String, Object>> llamaRows = new ArrayList<>();
            Path chunks = Files.createDirectories(o.results.resolve("runs"));
            int n = 0;
            for (String shape : o.parts.contains("tokens") ? o.shapes : List.<String>of()) {
                for (String type : o.types) {
                    for (String backend : o.backends) {
                        for (int threads : o.threads) {
                            n++;
                            log(String.format(Locale.ROOT, "[%s %s %s %d threads] decode + prompt", shape, type, backend, threads));
                            Map<String, String[]> params = Map.of("shape", new String[] {shape}, "type", new String[] {type},
                                    "backend", new String[] {backend}, "threads", new String[] {Integer.toString(threads)});
                            runJmh(PKG + "(DecodeBenchmark|PromptBenchmark)\\.", params, chunks.resolve("tokens-" + n + ".json"), all);
                            if (llama.isPresent() && backend.equals("CPU")) {
                                Path raw = chunks.resolve("llama-bench-" + n + ".json");
                                for (LlamaBench.Entry e : llama.get().run(files.get(shape + "/" + type), threads,
                                        PROMPT_LENGTHS, o.genTokens(), o.llamaReps(), raw)) {
                                    Map<String, Object> row = new LinkedHashMap<>();
                                    row.put("shape", shape);
                                    row.put("type", type);
                                    row.put("threads", threads);
                                    row.put("n_prompt", e.nPrompt());
                                    row.put("n_gen", e.nGen());
                                    row.put("avg_ts", e.avgTs());
                                    row.put("stddev_ts", e.stddevTs());
                                    row.put("build", e.build());
                                    llamaRows.add(row);
                                }
                            }
                            save(jmhJson, all);
                            json.writeValue(llamaJson.toFile(), llamaRows);
                        }
                    }
                }
            }
            int maxThreads = o.threads.stream().max(Integer::compare).orElse(1);
            if (o.parts.contains("extras")) {
                log("embeddings + Java-layer overhead, " + maxThreads + " threads");
                runJmh(PKG + "(EmbeddingBenchmark|JavaOverheadBenchmark)\\.", Map.of(
                    "shape", o.shapes.toArray(String[]::new), "type", o.types.toArray(String[]::new),
                    "backend", o.backends.toArray(String[]::new), "threads", new String[] {Integer.toString(maxThreads)}),
                    chunks.resolve("extras.json"), all);
                save(jmhJson, all);
            }
            if (o.parts.contains("load")) {
                log("model load time");
                runJmh(PKG + "LoadBenchmark\\.", Map.of("shape", o.shapes.toArray(String[]::new),
                        "type", o.types.toArray(String[]::new)), chunks.resolve("load.json"), all);
                save(jmhJson, all);
            }
            if (o.parts.contains("tokenizer")) {
                log("tokenizer");
                runJmh(PKG + "TokenizerBenchmark\\.", Map.of(), chunks.resolve("tokenizer.json"), all);
                save(jmhJson, all);
            }
            log(String.format(Locale.ROOT, "suite done in %.1f min", (System.nanoTime() - started) / 60e9));
        }
        if (!Files.isRegularFile(jmhJson)) {
            System.err.println("bench-report: no results in " + jmhJson);
            return 1;
        }
        JsonNode machine = Files.isRegularFile(machineJson) ? json.readTree(machineJson.toFile()) : json.createObjectNode();
        JsonNode results = json.readTree(jmhJson.toFile());
        JsonNode llamaResults = Files.isRegularFile(llamaJson) ? json.readTree(llamaJson.toFile()) : json.createArrayNode();
        Path svg = o.out.resolveSibling(stripExtension(o.out.getFileName().toString()) + ".svg");
        ReportWriter w = new ReportWriter(machine, results, llamaResults, o.out, svg, o.results);
        Files.createDirectories(o.out.toAbsolutePath().getParent());
        Files.writeString(o.out, w.markdown());
        String chart = w.svg();
        if (chart != null) Files.writeString(svg, chart);
        log("wrote " + o.out + (chart != null ? " and " + svg : "") + "; results in " + o.results);
        return results.isEmpty() ? 1 : 0;
    }

    private void runJmh(String include, Map<String, String[]> params, Path chunk, ArrayNode all) throws IOException {
        ChainedOptionsBuilder b = new OptionsBuilder().include(include)
                .jvmArgsAppend(SmokeRun.forkJvmArgs())
                .shouldFailOnError(false)
                .resultFormat(ResultFormatType.JSON)
                .result(chunk.toString());
        params.forEach(b::param);
        switch (o.profile) {
            case "quick" -> b.warmupIterations(2).warmupTime(TimeValue.seconds(1))
                    .measurementIterations(3).measurementTime(TimeValue.seconds(1));
            case "smoke" -> b.warmupIterations(1).warmupTime(TimeValue.milliseconds(300))
                    .measurementIterations(1).measurementTime(TimeValue.milliseconds(700))
                    .param("genTokens", Integer.toString(o.genTokens())).param("textKiB", "16");
            default -> {
                // full: the annotations' settings
            }
        }
        if (o.forks != null) b.forks(o.forks);
        Files.deleteIfExists(chunk);
        try {
            new Runner(b.build()).run();
        } catch (RunnerException e) {
            log("JMH run failed (continuing): " + e.getMessage());
        }
        if (Files.isRegularFile(chunk) && Files.size(chunk) > 0) {
            JsonNode part = json.readTree(chunk.toFile());
            if (part != null && part.isArray()) part.forEach(all::add);
        }
    }

    /** The report part a benchmark belongs to (see --parts). */
    static String partOf(String benchmark) {
        String b = ReportWriter.shortName(benchmark);
        if (b.startsWith("DecodeBenchmark.") || b.startsWith("PromptBenchmark.")) return "tokens";
        if (b.startsWith("EmbeddingBenchmark.") || b.startsWith("JavaOverheadBenchmark.")) return "extras";
        if (b.startsWith("LoadBenchmark.")) return "load";
        return "tokenizer";
    }

    private void save(Path file, ArrayNode all) throws IOException {
        json.writeValue(file.toFile(), all);
    }

    private static String stripExtension(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    static void log(String message) {
        System.err.println("[bench-report] " + message);
    }

    /** Command-line options. */
    static final class Options {
        static final String USAGE = """
                usage: BenchReport [--profile full|quick|smoke] [--shapes 125M,350M|all] [--types F16,Q8_0,Q4_0]
                                   [--threads 1,2,N] [--backends CPU] [--forks N] [--llama-bench PATH | --no-llama-bench]
                                   [--llama-bench-args "..."] [--results jmh/results] [--out docs/benchmarks.md]
                                   [--parts tokens,extras,load,tokenizer] [--note TEXT] [--from-results]""";

        static final List<String> ALL_PARTS = List.of("tokens", "extras", "load", "tokenizer");

        String profile = "full";
        List<String> parts = ALL_PARTS;
        List<String> shapes = List.of("125M", "350M");
        List<String> types = List.of("F16", "Q8_0", "Q4_0");
        List<Integer> threads = defaultThreads();
        List<String> backends = List.of("CPU");
        Integer forks;
        Optional<Path> llamaBench = LlamaBench.findOnPath();
        List<String> llamaArgs = List.of();
        Path results = Path.of("jmh/results");
        Path out = Path.of("docs/benchmarks.md");
        String note = "";
        boolean fromResults;
        boolean help;

        /** Tokens per decode operation: 64 (the benchmark's default), 16 in the smoke profile. */
        int genTokens() {
            return profile.equals("smoke") ? 16 : GEN_TOKENS;
        }

        int llamaReps() {
            return switch (profile) {
                case "smoke" -> 1;
                case "quick" -> 3;
                default -> 5;
            };
        }

        static List<Integer> defaultThreads() {
            Set<Integer> t = new LinkedHashSet<>();
            int cores = Runtime.getRuntime().availableProcessors();
            t.add(1);
            if (cores >= 2) t.add(2);
            t.add(cores);
            return List.copyOf(t);
        }

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "-h", "--help" -> o.help = true;
                    case "--from-results" -> o.fromResults = true;
                    case "--no-llama-bench" -> o.llamaBench = Optional.empty();
                    default -> {
                        if (i + 1 >= args.length) throw new IllegalArgumentException("unknown option or missing value: " + a);
                        String v = args[++i];
                        switch (a) {
                            case "--profile" -> {
                                if (!List.of("full", "quick", "smoke").contains(v)) {
                                    throw new IllegalArgumentException("--profile must be full, quick or smoke");
                                }
                                o.profile = v;
                            }
                            case "--shapes" -> o.shapes = v.equalsIgnoreCase("all")
                                    ? List.of("125M", "350M", "600M", "1B", "1.5B") : list(v).stream().map(s -> s.toUpperCase(Locale.ROOT)).toList();
                            case "--types" -> o.types = list(v).stream().map(s -> s.toUpperCase(Locale.ROOT)).toList();
                            case "--threads" -> o.threads = list(v).stream().map(s -> s.equalsIgnoreCase("all")
                                    ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(s)).distinct().toList();
                            case "--backends" -> o.backends = list(v).stream().map(s -> s.toUpperCase(Locale.ROOT)).toList();
                            case "--forks" -> o.forks = Integer.parseInt(v);
                            case "--llama-bench" -> {
                                Path p = Path.of(v);
                                if (!Files.isExecutable(p)) throw new IllegalArgumentException("llama-bench not executable: " + v);
                                o.llamaBench = Optional.of(p);
                            }
                            case "--llama-bench-args" -> o.llamaArgs = v.isBlank() ? List.of() : List.of(v.trim().split("\\s+"));
                            case "--results" -> o.results = Path.of(v);
                            case "--out" -> o.out = Path.of(v);
                            case "--note" -> o.note = v;
                            case "--parts" -> {
                                o.parts = list(v).stream().map(x -> x.toLowerCase(Locale.ROOT)).toList();
                                for (String x : o.parts) {
                                    if (!ALL_PARTS.contains(x)) throw new IllegalArgumentException("--parts takes " + ALL_PARTS);
                                }
                            }
                            default -> throw new IllegalArgumentException("unknown option " + a);
                        }
                    }
                }
            }
            for (String t : o.types) BenchModels.type(t); // fail early on unknown types
            for (String s : o.shapes) BenchModels.shape(s);
            return o;
        }

        private static List<String> list(String v) {
            List<String> l = new ArrayList<>();
            for (String s : v.split(",")) {
                if (!s.isBlank()) l.add(s.trim());
            }
            if (l.isEmpty()) throw new IllegalArgumentException("empty list: " + v);
            return l;
        }
    }
}
