package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.eval.Perplexity;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** perplexity: MobileLLM's eval.py method by default, llama.cpp's on request. */
final class PerplexityCommand implements Command {
    @Override
    public String name() {
        return "perplexity";
    }

    @Override
    public String summary() {
        return "perplexity of a model on a text file";
    }

    @Override
    public String usage() {
        return """
                usage: mobilellm perplexity -m FILE -f TEXT --ctx N [--method mobilellm|llama.cpp] [--json]
                  --method mobilellm   (default) MobileLLM's eval.py: one BOS, non-overlapping windows of N,
                                       mean cross-entropy over positions 1..N-1 of each window
                  --method llama.cpp   llama.cpp's tool: BOS per window, only the second half scored
                  --json               {"perplexity":x, "windows":n, "tokens":m, "method":"mobilellm"}
                """ + ModelArgs.USAGE;
    }

    @Override
    public Set<String> valuedOptions() {
        return ModelArgs.with("-f", "--file", "--method");
    }

    @Override
    public Set<String> flagOptions() {
        return Set.of("--json");
    }

    @Override
    public int run(Args a, PrintStream out, PrintStream err) throws Exception {
        String file = a.get("-f", "--file");
        if (file == null) throw new UsageException("perplexity: a text file is required (-f FILE)");
        if (!Files.isRegularFile(Path.of(file))) throw new UsageException("perplexity: text file not found: " + file);
        int ctx = a.has("--ctx") ? a.intValue("--ctx", 0) : a.intValue("-c", 0);
        if (ctx < 2) throw new UsageException("perplexity: --ctx N (N >= 2) is required");
        Perplexity.Method method;
        try {
            method = Perplexity.Method.parse(a.get("--method") == null ? "mobilellm" : a.get("--method"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("perplexity: " + e.getMessage());
        }
        String text = Files.readString(Path.of(file));
        try (Model model = ModelArgs.load(a, true, err)) {
            Perplexity.Result r;
            try {
                r = Perplexity.compute(model, text, ctx, method, done -> err.printf("\rmobilellm: window %d", done));
            } catch (IllegalArgumentException e) {
                throw new UsageException("perplexity: " + e.getMessage());
            }
            err.println();
            if (a.has("--json")) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("perplexity", r.perplexity());
                o.put("windows", r.windows());
                o.put("tokens", r.tokens());
                o.put("method", r.method().label());
                o.put("ctx", r.contextLength());
                out.println(Json.write(o));
            } else {
                out.printf(Locale.ROOT, "perplexity %.4f (%s, %d windows of %d, %d tokens scored)%n", r.perplexity(),
                        r.method().label(), r.windows(), r.contextLength(), r.tokens());
            }
        }
        return 0;
    }
}
