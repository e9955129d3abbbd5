package io.github.mobilellm4j.jmh.report;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mobilellm4j.jmh.BenchModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Turns JMH JSON results (and llama-bench rows, and machine.json) into docs/benchmarks.md and its SVG chart. */
final class ReportWriter {
    /** One JMH result. */
    record Row(String benchmark, Map<String, String> params, double score, double error, String unit,
            Map<String, double[]> secondary) {
        String param(String key) {
            return params.getOrDefault(key, "");
        }

        /** Secondary counter {score, error}, or null. */
        double[] counter(String name) {
            return secondary.get(name);
        }
    }

    private final JsonNode machine;
    private final List<Row> rows = new ArrayList<>();
    private final JsonNode llama;
    private final Path out;
    private final Path svg;
    private final Path results;

    ReportWriter(JsonNode machine, JsonNode jmh, JsonNode llama, Path out, Path svg, Path results) {
        this.machine = machine;
        this.llama = llama;
        this.out = out;
        this.svg = svg;
        this.results = results;
        for (JsonNode r : jmh) {
            Map<String, String> params = new LinkedHashMap<>();
            r.path("params").fields().forEachRemaining(e -> params.put(e.getKey(), e.getValue().asText()));
            Map<String, double[]> sec = new LinkedHashMap<>();
            r.path("secondaryMetrics").fields().forEachRemaining(e -> sec.put(e.getKey(),
                    new double[] {num(e.getValue().path("score")), num(e.getValue().path("scoreError"))}));
            JsonNode pm = r.path("primaryMetric");
            rows.add(new Row(shortName(r.path("benchmark").asText()), params, num(pm.path("score")),
                    num(pm.path("scoreError")), pm.path("scoreUnit").asText(), sec));
        }
    }

    private static double num(JsonNode n) {
        if (n == null || n.isMissingNode() || n.isNull()) return Double.NaN;
        if (n.isNumber()) return n.asDouble();
        try {
            return Double.parseDouble(n.asText());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    static String shortName(String benchmark) {
        String[] p = benchmark.split("\\.");
        return p.length >= 2 ? p[p.length - 2] + "." + p[p.length - 1] : benchmark;
    }

    // ---- lookups ----------------------------------------------------------------------------------

    private Optional<Row> find(String benchmark, String... keyValues) {
        outer:
        for (Row r : rows) {
            if (!r.benchmark().equals(benchmark)) continue;
            for (int i = 0; i + 1 < keyValues.length; i += 2) {
                if (!r.param(keyValues[i]).equalsIgnoreCase(keyValues[i + 1])) continue outer;
            }
            return Optional.of(r);
        }
        return Optional.empty();
    }

    private List<String> distinct(String param, String... benchmarks) {
        Set<String> s = new LinkedHashSet<>();
        for (Row r : rows) {
            if (List.of(benchmarks).contains(r.benchmark()) && r.params().containsKey(param)) s.add(r.param(param));
        }
        return new ArrayList<>(s);
    }

    private List<String> shapes(String... benchmarks) {
        List<String> l = distinct("shape", benchmarks);
        l.sort(Comparator.comparingDouble(ReportWriter::shapeSize));
        return l;
    }

    private static double shapeSize(String label) {
        String l = label.toUpperCase(Locale.ROOT);
        try {
            double v = Double.parseDouble(l.substring(0, l.length() - 1));
            return l.endsWith("B") ? v * 1000 : v;
        } catch (RuntimeException e) {
            return Double.MAX_VALUE;
        }
    }

    private List<String> threadValues(String shape, String type, String backend) {
        Set<String> s = new LinkedHashSet<>();
        for (Row r : rows) {
            if ((r.benchmark().equals("DecodeBenchmark.decode") || r.benchmark().equals("PromptBenchmark.prompt"))
                    && r.param("shape").equals(shape) && r.param("type").equals(type) && r.param("backend").equals(backend)) {
                s.add(r.param("threads"));
            }
        }
        List<String> l = new ArrayList<>(s);
        l.sort(Comparator.comparingInt(ReportWriter::threadsOrder));
        return l;
    }

    private static int threadsOrder(String t) {
        try {
            return Integer.parseInt(t);
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }

    /** llama-bench tokens/s: pp (nPrompt > 0) or tg (nGen > 0); NaN when absent. */
    private double llama(String shape, String type, String threads, int nPrompt, int nGen) {
        for (JsonNode r : llama) {
            if (r.path("shape").asText().equals(shape) && r.path("type").asText().equals(type)
                    && r.path("threads").asText().equals(threads) && r.path("n_prompt").asInt() == nPrompt
                    && r.path("n_gen").asInt() == nGen) {
                return r.path("avg_ts").asDouble(Double.NaN);
            }
        }
        return Double.NaN;
    }

    private boolean haveLlama() {
        return llama != null && llama.size() > 0;
    }

    // ---- Markdown --------------------------------------------------------------------------------

    String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("# Benchmarks\n\n");
        md.append("Tokens per second of mobilellm4j on the MobileLLM model shapes, measured with the JMH suite in ")
                .append("[`jmh/`](../jmh/README.md). Generated by `ci/bench-report.sh` on ")
                .append(machine.path("date").asText("?")).append(" (profile `")
                .append(machine.path("profile").asText("?")).append("`, commit `")
                .append(machine.path("git_commit").asText("?"))
                .append(machine.path("git_dirty").asBoolean(false) ? "`, with uncommitted changes" : "`")
                .append("). Regenerate with `ci/bench-report.sh`; machine-readable results are in `")
                .append(rel(results)).append("/` (`jmh-results.json` is JMH JSON).\n\n");
        String note = machine.path("note").asText("");
        if (!note.isBlank()) md.append("> **Note:** ").append(note).append("\n\n");

        machineSection(md);
        methodSection(md);
        tokensSection(md);
        embeddingsSection(md);
        overheadSection(md);
        loadSection(md);
        tokenizerSection(md);
        return md.toString();
    }

    private void machineSection(StringBuilder md) {
        md.append("## Machine\n\n| | |\n|---|---|\n");
        kv(md, "CPU", machine.path("cpu_model").asText("?"));
        kv(md, "Logical cores", machine.path("logical_cores").asText("?"));
        kv(md, "SIMD flags", "`" + machine.path("cpu_flags").asText("") + "`");
        kv(md, "Memory", machine.path("memory_gib").asText("?") + " GiB");
        for (JsonNode bw : machine.path("memory_bandwidth")) {
            kv(md, "Memory bandwidth, " + bw.path("threads").asInt() + " thread" + (bw.path("threads").asInt() == 1 ? "" : "s"),
                    "read " + bw.path("read_gb_s").asText() + " GB/s, copy " + bw.path("copy_gb_s").asText()
                            + " GB/s (measured by the report)");
        }
        kv(md, "OS", machine.path("os").asText("?"));
        kv(md, "JVM", machine.path("jvm").asText("?"));
        kv(md, "Engine", machine.path("engine_version").asText("?") + ", kernels `"
                + machine.path("engine_cpu_level").asText("?") + "`");
        md.append('\n');
    }

    private void methodSection(StringBuilder md) {
        md.append("## Method\n\n");
        Optional<Row> d = find("DecodeBenchmark.decode");
        String promptTokens = d.map(r -> r.param("promptTokens")).orElse("128");
        String genTokens = d.map(r -> r.param("genTokens")).orElse(Integer.toString(BenchReport.GEN_TOKENS));
        md.append("""
                - **Models**: synthetic checkpoints of the exact MobileLLM shapes (layers, heads, KV heads, width, FFN, \
                32000-token vocabulary), written by the converters' `SyntheticCheckpoint` and converted to GGUF by \
                `Converter` (default tensor policy of each type). Speed does not depend on the weights' values.
                - **decode**: batch-1 generation after a %s-token prompt, %s tokens per operation through \
                `Session.generate` (greedy, EOS ignored), the sequence rewound to the prompt before each operation.
                - **ppN**: one N-token prompt evaluated from an empty sequence in one batch (logits of the last token).
                - JMH: every benchmark in a fork of its own; warm-up iterations before measured ones \
                (JIT and page cache); ± is JMH's 99.9%% confidence half-width (absent with a single iteration).
                """.formatted(promptTokens, genTokens));
        if (haveLlama()) {
            md.append("""
                    - **llama.cpp**: `llama-bench` on the same GGUF files with the same thread count, run right after \
                    our run of the same configuration (`-p 32,128,512 -n 64`). Its `tg64` starts from an empty context \
                    while our decode runs after a 128-token prompt (slightly more attention work for us). \
                    Ratio = ours / llama.cpp.
                    """);
        }
        md.append('\n');
    }

    private void tokensSection(StringBuilder md) {
        String[] tb = {"DecodeBenchmark.decode", "PromptBenchmark.prompt"};
        List<String> shapes = shapes(tb);
        if (shapes.isEmpty()) return;
        md.append("## Decode and prompt tokens/s\n\n");
        if (svg != null) md.append("![tokens/s by type and threads](").append(svg.getFileName()).append(")\n\n");
        boolean lb = haveLlama();
        for (String shape : shapes) {
            for (String type : distinct("type", tb)) {
                for (String backend : distinct("backend", tb)) {
                    List<String> threads = threadValues(shape, type, backend);
                    if (threads.isEmpty()) continue;
                    md.append("### ").append(shape).append(' ').append(type)
                            .append(backend.equals("CPU") ? "" : " (" + backend + ")").append("\n\n");
                    StringBuilder head = new StringBuilder("| threads | decode t/s |");
                    StringBuilder rule = new StringBuilder("|---:|---:|");
                    if (lb) {
                        head.append(" llama.cpp tg64 | ratio |");
                        rule.append("---:|---:|");
                    }
                    for (int p : BenchReport.PROMPT_LENGTHS) {
                        head.append(" pp").append(p).append(" t/s |");
                        rule.append("---:|");
                        if (lb) {
                            head.append(" llama.cpp pp").append(p).append(" | ratio |");
                            rule.append("---:|---:|");
                        }
                    }
                    md.append(head).append('\n').append(rule).append('\n');
                    for (String t : threads) {
                        md.append("| ").append(t).append(" | ");
                        Optional<Row> dec = find("DecodeBenchmark.decode", "shape", shape, "type", type, "backend", backend, "threads", t);
                        double ours = dec.map(r -> counter(r, "tokens")).orElse(Double.NaN);
                        md.append(dec.map(r -> withError(r.counter("tokens"))).orElse("–")).append(" | ");
                        if (lb) {
                            int gen = dec.map(r -> parseInt(r.param("genTokens"), BenchReport.GEN_TOKENS)).orElse(BenchReport.GEN_TOKENS);
                            double l = llama(shape, type, t, 0, gen);
                            md.append(fmt(l)).append(" | ").append(ratio(ours, l)).append(" | ");
                        }
                        for (int p : BenchReport.PROMPT_LENGTHS) {
                            Optional<Row> pr = find("PromptBenchmark.prompt", "shape", shape, "type", type, "backend", backend,
                                    "threads", t, "promptLength", Integer.toString(p));
                            double o = pr.map(r -> counter(r, "tokens")).orElse(Double.NaN);
                            md.append(pr.map(r -> withError(r.counter("tokens"))).orElse("–")).append(" | ");
                            if (lb) {
                                double l = llama(shape, type, t, p, 0);
                                md.append(fmt(l)).append(" | ").append(ratio(o, l)).append(" | ");
                            }
                        }
                        md.setLength(md.length() - 1);
                        md.append('\n');
                    }
                    md.append('\n');
                }
            }
        }
    }

    private void embeddingsSection(StringBuilder md) {
        List<Row> emb = rows.stream().filter(r -> r.benchmark().equals("EmbeddingBenchmark.embed")).toList();
        if (emb.isEmpty()) return;
        md.append("## Embeddings\n\n`Session.embed` of a ").append(emb.get(0).param("embedTokens"))
                .append("-token text (mean pooling, normalised).\n\n");
        md.append("| shape | type | threads | embeddings/s | tokens/s |\n|---|---|---:|---:|---:|\n");
        for (Row r : sorted(emb)) {
            md.append("| ").append(r.param("shape")).append(" | ").append(typeLabel(r)).append(" | ").append(r.param("threads"))
                    .append(" | ").append(withError(new double[] {r.score(), r.error()})).append(" | ")
                    .append(withError(r.counter("tokens"))).append(" |\n");
        }
        md.append('\n');
    }

    private void overheadSection(StringBuilder md) {
        List<Row> c = rows.stream().filter(r -> r.benchmark().equals("JavaOverheadBenchmark.cLoop")).toList();
        if (c.isEmpty()) return;
        md.append("## Java layer overhead\n\n");
        md.append("The same work, a ").append(c.get(0).param("overheadPrompt")).append("-token prompt then ")
                .append(c.get(0).param("genTokens")).append(" greedy tokens, driven by the engine's C loop "
                        + "(`mllm_generate` through the bindings, NULL callback) and by the Java API "
                        + "(`Session.generate` with a per-token `Consumer`). Overhead per token = "
                        + "(time per Java operation - time per C operation) / generated tokens.\n\n");
        md.append("| shape | type | threads | C loop t/s | Java API t/s | Java overhead per token | overhead |\n")
                .append("|---|---|---:|---:|---:|---:|---:|\n");
        for (Row cl : sorted(c)) {
            Optional<Row> j = find("JavaOverheadBenchmark.javaApi", "shape", cl.param("shape"), "type", cl.param("type"),
                    "threads", cl.param("threads"), "backend", cl.param("backend"));
            int gen = parseInt(cl.param("genTokens"), BenchReport.GEN_TOKENS);
            md.append("| ").append(cl.param("shape")).append(" | ").append(typeLabel(cl)).append(" | ")
                    .append(cl.param("threads")).append(" | ").append(withError(cl.counter("tokens"))).append(" | ");
            if (j.isPresent()) {
                double perTokenUs = (1 / j.get().score() - 1 / cl.score()) / gen * 1e6;
                double pct = (1 - counter(j.get(), "tokens") / counter(cl, "tokens")) * 100;
                md.append(withError(j.get().counter("tokens"))).append(" | ")
                        .append(String.format(Locale.ROOT, "%.1f µs", perTokenUs)).append(" | ")
                        .append(String.format(Locale.ROOT, "%.1f%%", pct)).append(" |\n");
            } else {
                md.append("– | – | – |\n");
            }
        }
        md.append("\nWhere the ± intervals of the two columns overlap the difference is not significant; a negative "
                + "overhead is always noise.\n\n");
    }

    private void loadSection(StringBuilder md) {
        List<Row> load = rows.stream().filter(r -> r.benchmark().equals("LoadBenchmark.load")).toList();
        if (load.isEmpty()) return;
        md.append("## Model load time\n\n`Model.load` + `close` with a warm page cache: memory-mapped (the default) "
                + "or read into memory.\n\n");
        md.append("| shape | type | file | mmap | read into memory |\n|---|---|---:|---:|---:|\n");
        Set<String> done = new LinkedHashSet<>();
        for (Row r : sorted(load)) {
            String key = r.param("shape") + "/" + r.param("type");
            if (!done.add(key)) continue;
            Optional<Row> m = find("LoadBenchmark.load", "shape", r.param("shape"), "type", r.param("type"), "mmap", "true");
            Optional<Row> n = find("LoadBenchmark.load", "shape", r.param("shape"), "type", r.param("type"), "mmap", "false");
            md.append("| ").append(r.param("shape")).append(" | ").append(r.param("type")).append(" | ")
                    .append(fileSize(r.param("shape"), r.param("type"))).append(" | ")
                    .append(m.map(x -> withError(new double[] {x.score(), x.error()}) + " " + x.unit().replace("/op", "")).orElse("–"))
                    .append(" | ")
                    .append(n.map(x -> withError(new double[] {x.score(), x.error()}) + " " + x.unit().replace("/op", "")).orElse("–"))
                    .append(" |\n");
        }
        md.append('\n');
    }

    private void tokenizerSection(StringBuilder md) {
        Optional<Row> enc = find("TokenizerBenchmark.encode");
        Optional<Row> dec = find("TokenizerBenchmark.decode");
        if (enc.isEmpty() && dec.isEmpty()) return;
        md.append("## Tokenizer\n\nThroughput of `Tokenizer.encode` and `decode` on ")
                .append(enc.or(() -> dec).get().param("textKiB"))
                .append(" KiB of generated English-like text (1% non-ASCII), in MB of UTF-8 text per second. "
                        + "The synthetic checkpoints carry a synthetic 32000-piece SentencePiece BPE vocabulary, so "
                        + "figures for the real MobileLLM vocabulary may differ.\n\n");
        md.append("| encode MB/s | decode MB/s |\n|---:|---:|\n");
        md.append("| ").append(enc.map(r -> mb(r.counter("bytes"))).orElse("–")).append(" | ")
                .append(dec.map(r -> mb(r.counter("bytes"))).orElse("–")).append(" |\n\n");
    }

    // ---- SVG ---------------------------------------------------------------------------------------

    /** The chart: decode and pp512 tokens/s by shape and type (groups) and threads (bars); null if no data. */
    String svg() {
        String[] tb = {"DecodeBenchmark.decode", "PromptBenchmark.prompt"};
        List<String> groups = new ArrayList<>();
        List<String[]> keys = new ArrayList<>();
        for (String shape : shapes(tb)) {
            for (String type : distinct("type", tb)) {
                for (String backend : distinct("backend", tb)) {
                    if (threadValues(shape, type, backend).isEmpty()) continue;
                    groups.add(shape + " " + type + (backend.equals("CPU") ? "" : " " + backend));
                    keys.add(new String[] {shape, type, backend});
                }
            }
        }
        if (groups.isEmpty()) return null;
        Set<String> threadSet = new LinkedHashSet<>();
        for (String[] k : keys) threadSet.addAll(threadValues(k[0], k[1], k[2]));
        List<String> threads = new ArrayList<>(threadSet);
        threads.sort(Comparator.comparingInt(ReportWriter::threadsOrder));
        boolean lb = haveLlama();
        List<String> series = new ArrayList<>();
        for (String t : threads) series.add(t + (t.equals("1") ? " thread" : " threads"));
        if (lb) for (String t : threads) series.add("llama.cpp, " + t + (t.equals("1") ? " thread" : " threads"));
        double[][] decode = new double[groups.size()][series.size()];
        double[][] pp = new double[groups.size()][series.size()];
        for (int g = 0; g < keys.size(); g++) {
            String[] k = keys.get(g);
            for (int s = 0; s < threads.size(); s++) {
                String t = threads.get(s);
                decode[g][s] = find("DecodeBenchmark.decode", "shape", k[0], "type", k[1], "backend", k[2], "threads", t)
                        .map(r -> counter(r, "tokens")).orElse(Double.NaN);
                pp[g][s] = find("PromptBenchmark.prompt", "shape", k[0], "type", k[1], "backend", k[2], "threads", t,
                        "promptLength", "512").map(r -> counter(r, "tokens")).orElse(Double.NaN);
                if (lb) {
                    decode[g][threads.size() + s] = llama(k[0], k[1], t, 0, BenchReport.GEN_TOKENS);
                    pp[g][threads.size() + s] = llama(k[0], k[1], t, 512, 0);
                }
            }
        }
        SvgChart chart = new SvgChart("mobilellm4j tokens/s by model, weight type and threads ("
                + machine.path("cpu_model").asText("") + ")");
        chart.add(new SvgChart.Panel("Decode (batch 1, after a "
                + find("DecodeBenchmark.decode").map(r -> r.param("promptTokens")).orElse("128") + "-token prompt)", "tokens/s", groups, series, decode));
        chart.add(new SvgChart.Panel("Prompt processing, 512 tokens", "tokens/s", groups, series, pp));
        return chart.render();
    }

    // ---- formatting --------------------------------------------------------------------------------

    private static double counter(Row r, String name) {
        double[] c = r.counter(name);
        return c == null ? Double.NaN : c[0];
    }

    private static List<Row> sorted(List<Row> l) {
        List<Row> s = new ArrayList<>(l);
        s.sort(Comparator.comparingDouble((Row r) -> shapeSize(r.param("shape")))
                .thenComparing(r -> r.param("type"))
                .thenComparingInt(r -> threadsOrder(r.param("threads"))));
        return s;
    }

    private static String typeLabel(Row r) {
        String b = r.param("backend");
        return r.param("type") + (b.isEmpty() || b.equals("CPU") ? "" : " (" + b + ")");
    }

    private static int parseInt(String s, int def) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return def;
        }
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) return "–";
        if (Math.abs(v) >= 1000) return String.format(Locale.ROOT, "%.0f", v);
        if (Math.abs(v) >= 100) return String.format(Locale.ROOT, "%.1f", v);
        if (Math.abs(v) >= 1) return String.format(Locale.ROOT, "%.2f", v);
        return String.format(Locale.ROOT, "%.3f", v);
    }

    private static String withError(double[] v) {
        if (v == null || Double.isNaN(v[0])) return "–";
        return Double.isNaN(v[1]) || v[1] == 0 ? fmt(v[0]) : fmt(v[0]) + " ± " + fmt(v[1]);
    }

    private static String mb(double[] bytes) {
        if (bytes == null) return "–";
        return withError(new double[] {bytes[0] / 1e6, bytes[1] / 1e6});
    }

    private static String ratio(double ours, double theirs) {
        if (Double.isNaN(ours) || Double.isNaN(theirs) || theirs <= 0) return "–";
        return String.format(Locale.ROOT, "%.2f×", ours / theirs);
    }

    private static String fileSize(String shape, String type) {
        try {
            Path p = BenchModels.ggufPath(shape, type);
            return Files.isRegularFile(p) ? String.format(Locale.ROOT, "%.0f MB", Files.size(p) / 1e6) : "–";
        } catch (Exception e) {
            return "–";
        }
    }

    private static void kv(StringBuilder md, String k, String v) {
        md.append("| ").append(k).append(" | ").append(v.replace("|", "\\|")).append(" |\n");
    }

    private String rel(Path p) {
        try {
            Path base = out.toAbsolutePath().getParent().getParent();
            return base.relativize(p.toAbsolutePath()).toString();
        } catch (Exception e) {
            return p.toString();
        }
    }
}
