package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.convert.ProgressLine;
import io.github.mobilellm4j.eval.Perplexity;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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
                  -f, --file FILE      the text (- = standard input)
                  --method mobilellm   (default) MobileLLM's eval.py: one BOS, non-overlapping windows of N,
                                       mean cross-entropy over positions 1..N-1 of each window
                  --method llama.cpp   llama.cpp's tool: BOS per window, only the second half scored
                  --json               {"perplexity":x, "windows":n, "tokens":m, "method":"mobilellm"}
                """ + ModelArgs.USAGE;
    }

    @Override
    public List<Option> options() {
        return ModelArgs.with(TextArgs.FILE, Option.valued("--method"), Option.flag("--json"));
    }

    @Override
    public int run(Args a, Streams io) throws Exception {
        String file = a.get("-f");
        if (file == null) throw new UsageException("a text file is required (-f FILE)");
        if (!a.has("-c")) throw new UsageException("a window length is required (--ctx N)");
        int ctx = a.intValue("-c", 0);
        if (ctx < 2) throw a.invalid("-c", "must be >= 2");
        Perplexity.Method method;
        try {
            method = Perplexity.Method.parse(a.get("--method") == null ? "mobilellm" : a.get("--method"));
        } catch (IllegalArgumentException e) {
            throw a.invalid("--method", "must be mobilellm or llama.cpp");
        }
        String text = TextArgs.readFile(file, io.in());
        try (Model model = ModelArgs.load(a, true, io)) {
            ProgressLine[] line = new ProgressLine[1];
            Perplexity.Result r;
            try {
                r = Perplexity.compute(model, text, ctx, method, (done, total) -> {
                    if (line[0] == null) line[0] = ProgressLine.count(io.err(), io.errIsTerminal(), "perplexity", total, "windows");
                    line[0].update(done, "");
                });
            } catch (IllegalArgumentException e) {
                throw new Failure(e.getMessage() + " (use a smaller " + a.typed("-c") + " or a longer text)");
            } finally {
                if (line[0] != null) line[0].clear();
            }
            if (a.has("--json")) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("perplexity", r.perplexity());
                o.put("windows", r.windows());
                o.put("tokens", r.tokens());
                o.put("method", r.method().label());
                o.put("ctx", r.contextLength());
                io.out().println(Json.write(o));
            } else {
                io.out().printf(Locale.ROOT, "perplexity %.4f (%s, %d windows of %d, %d tokens scored)%n", r.perplexity(),
                        r.method().label(), r.windows(), r.contextLength(), r.tokens());
            }
        }
        return 0;
    }
}
