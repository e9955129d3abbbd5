package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Pooling;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

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
                usage: mobilellm embed -m FILE -p TEXT [--pooling mean|last] [--no-normalize] [--json]
                  --pooling P      mean (default) or last
                  --no-normalize   skip L2 normalisation
                  --json           {"embedding":[...], "dim":n, "pooling":"mean", "normalized":true}
                """;
    }

    @Override
    public Set<String> valuedOptions() {
        return ModelArgs.with("-p", "--prompt", "--pooling");
    }

    @Override
    public Set<String> flagOptions() {
        return Set.of("--json", "--no-normalize");
    }

    @Override
    public int run(Args a, PrintStream out, PrintStream err) throws Exception {
        String text = a.get("-p", "--prompt");
        if (text == null) throw new UsageException("embed: -p TEXT is required");
        String pool = a.get("--pooling") == null ? "mean" : a.get("--pooling").toLowerCase(Locale.ROOT);
        Pooling pooling = switch (pool) {
            case "mean" -> Pooling.MEAN;
            case "last" -> Pooling.LAST;
            default -> throw new UsageException("embed: unknown pooling '" + pool + "' (use mean or last)");
        };
        boolean normalize = !a.has("--no-normalize");
        try (Model model = ModelArgs.load(a, true, err)) {
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
