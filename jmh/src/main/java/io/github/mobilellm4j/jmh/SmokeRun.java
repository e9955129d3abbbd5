package io.github.mobilellm4j.jmh;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * The smoke profile: every benchmark of the suite once, in one short fork each, on the smallest model (125M
 * Q8_0, all cores, short prompts), then checks that each produced a positive score. Exit status 0 when the suite
 * works, 1 otherwise; CI runs it through {@code ./mvnw -B -pl jmh -am verify -Pbench-smoke -DskipTests}.
 *
 * <p>Usage: {@code java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar io.github.mobilellm4j.jmh.SmokeRun
 * [results.json]}. Takes about a minute (plus ~10 s once to create the cached 125M model).
 */
public final class SmokeRun {
    /** Every benchmark method of the suite: the smoke run fails when one did not run. */
    static final Set<String> EXPECTED = Set.of(
            "DecodeBenchmark.decode",
            "BatchedDecodeBenchmark.decode",
            "PromptBenchmark.prompt",
            "LoadBenchmark.load",
            "EmbeddingBenchmark.embed",
            "JavaOverheadBenchmark.cLoop",
            "JavaOverheadBenchmark.javaApi",
            "TokenizerBenchmark.encode",
            "TokenizerBenchmark.decode",
            "SpeculativeDecodeBenchmark.decode");

    private SmokeRun() {
    }

    public static void main(String[] args) throws Exception {
        Path json = Path.of(args.length > 0 ? args[0] : "jmh-smoke.json").toAbsolutePath();
        if (json.getParent() != null) Files.createDirectories(json.getParent());
        ChainedOptionsBuilder b = new OptionsBuilder()
                .include("io\\.github\\.mobilellm4j\\.jmh\\.[A-Za-z]+Benchmark\\.")
                .param("shape", "125M")
                .param("type", "Q8_0")
                .param("threads", "all")
                .param("promptLength", "32")
                .param("promptTokens", "32")
                .param("genTokens", "8")
                .param("sequences", "4")
                .param("overheadPrompt", "8")
                .param("embedTokens", "32")
                .param("textKiB", "16")
                .param("target", "125M")
                .param("draft", "125M")
                .param("mode", "alone", "0.9", "real")
                .param("mmap", "true", "false")
                .forks(1)
                .warmupIterations(1)
                .warmupTime(TimeValue.milliseconds(300))
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(700))
                .shouldFailOnError(true)
                .resultFormat(ResultFormatType.JSON)
                .result(json.toString());
        // let callers point the forks at another model cache or library
        b.jvmArgsAppend(forkJvmArgs());
        System.err.println("[mobilellm4j-bench] smoke run: every benchmark once, 125M Q8_0, results -> " + json);
        Collection<RunResult> results;
        try {
            results = new Runner(b.build()).run();
        } catch (Exception e) {
            System.err.println("SMOKE FAILED: the benchmark run failed: " + e);
            System.exit(1);
            return;
        }
        List<String> problems = check(results);
        if (problems.isEmpty()) {
            System.err.println("[mobilellm4j-bench] smoke run OK: " + results.size() + " benchmark runs, all scores > 0");
        } else {
            problems.forEach(p -> System.err.println("SMOKE FAILED: " + p));
            System.exit(1);
        }
    }

    /** Problems found in the results: missing benchmarks, zero or non-finite scores and counters. */
    static List<String> check(Collection<RunResult> results) {
        List<String> problems = new ArrayList<>();
        Set<String> seen = new TreeSet<>();
        for (RunResult r : results) {
            String name = shortName(r.getParams().getBenchmark());
            seen.add(name);
            String label = name + " " + r.getParams().getParamsKeys().stream()
                    .map(k -> k + "=" + r.getParams().getParam(k)).toList();
            double score = r.getPrimaryResult().getScore();
            if (!(score > 0) || Double.isInfinite(score)) problems.add(label + ": primary score " + score);
            Map<String, Result> secondary = new TreeMap<>(r.getSecondaryResults());
            for (String counter : List.of("tokens", "bytes")) {
                Result s = secondary.get(counter);
                if (s != null && !(s.getScore() > 0)) problems.add(label + ": " + counter + "/s is " + s.getScore());
            }
        }
        for (String e : EXPECTED) {
            if (!seen.contains(e)) problems.add(e + " did not run (or failed)");
        }
        return problems;
    }

    /**
     * Arguments for forked benchmark JVMs: native access (options replace, not extend, the annotations' list) and
     * the settings of this JVM that say where models and the engine library are.
     */
    public static String[] forkJvmArgs() {
        List<String> a = new ArrayList<>();
        a.add(BenchDefaults.NATIVE_ACCESS);
        for (String key : List.of(BenchModels.CACHE_PROPERTY, SampleText.TEXT_PROPERTY, "mobilellm.library.path",
                "mobilellm.cache.dir")) {
            String v = System.getProperty(key);
            if (v != null) a.add("-D" + key + "=" + v);
        }
        return a.toArray(String[]::new);
    }

    static String shortName(String benchmark) {
        String[] parts = benchmark.split("\\.");
        return parts.length >= 2 ? parts[parts.length - 2] + "." + parts[parts.length - 1] : benchmark;
    }
}
