package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Pooling;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** embed: the pooled final hidden state of a text. */
final class EmbedCommand implements Command {
    @Override
    public String name() {
        return "embed";
    }

    @Override
    public String summary() {
        return "embedding of a text (final hidden state, pooled)";
    }

    @Override
    public String usage() {
        return """
                usage: mobilellm embed -m FILE (-p TEXT | -f FILE) [--pooling mean|last] [--no-normalize] [--json]
                  -p, --prompt TEXT   the text
                  -f, --file FILE     read the text from a file (- = standard input)
                  --pooling P         mean (default) or last
                  --no-normalize      skip L2 normalisation
                  --json              {"embedding":[...], "dim":n, "pooling":"mean", "normalized":true}
                """ + ModelArgs.USAGE;
    }

    @Override
    public List<Option> options() {
        return ModelArgs.with(TextArgs.PROMPT, TextArgs.FILE, Option.valued("--pooling"), Option.flag("--json"),
                Option.flag("--no-normalize"));
    }

    @Override
    public int run(Args a, Streams io) throws Exception {
        String pool = a.get("--pooling") == null ? "mean" : a.get("--pooling").toLowerCase(Locale.ROOT);
        Pooling pooling = switch (pool) {
            case "mean" -> Pooling.MEAN;
            case "last" -> Pooling.LAST;
            default -> throw a.invalid("--pooling", "must be mean or last");
        };
        String text = TextArgs.read(a, io.in());
        if (text == null) throw new UsageException("a text is required (-p TEXT or -f FILE)");
        boolean normalize = !a.has("--no-normalize");
        PrintStream out = io.out();
        try (Model model = ModelArgs.load(a, true, io)) {
            float[] e = model.embed(text, pooling, normalize);
            if (a.has("--json")) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("embedding", e);
                o.put("dim", e.length);
                o.put("pooling", pool);
                o.put("normalized", normalize);
                out.println(Json.write(o));
            } else {
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < e.length; i++) sb.append(i == 0 ? "" : " ").append(e[i]);
                out.println(sb);
            }
        }
        return 0;
    }
}
