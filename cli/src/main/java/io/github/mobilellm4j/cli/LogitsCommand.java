package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.Logits;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.SessionOptions;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** logits: every position's top-K logits for a token sequence. */
final class LogitsCommand implements Command {
    @Override
    public String name() {
        return "logits";
    }

    @Override
    public String summary() {
        return "top-K logits at every position of a token sequence";
    }

    @Override
    public String usage() {
        return """
                usage: mobilellm logits -m FILE --tokens 1,2,3 [--top K] [--json]
                  --top K   logits per position (default 5)
                  --json    {"positions":[{"position":0, "top":[{"id":5, "logit":12.3}, ...]}, ...]}
                """ + ModelArgs.USAGE;
    }

    @Override
    public List<Option> options() {
        return ModelArgs.with(Option.valued("--tokens"), Option.valued("--top"), Option.flag("--json"));
    }

    @Override
    public int run(Args a, Streams io) throws Exception {
        int[] ids = a.tokens("--tokens");
        if (ids == null || ids.length == 0) throw new UsageException("token ids are required (--tokens 1,2,3)");
        int k = a.intValue("--top", 5);
        if (k < 1) throw a.invalid("--top", "must be >= 1");
        PrintStream out = io.out();
        try (Model model = ModelArgs.load(a, true, io);
                Session s = model.newSession(SessionOptions.builder().contextLength(Math.max(ids.length, 1)).build())) {
            ModelArgs.checkTokens(a, "--tokens", ids, model);
            int vocab = model.info().vocabulary().size();
            Logits logits = s.evalAll(ids);
            List<Map<String, Object>> positions = new ArrayList<>();
            for (int p = 0; p < logits.rows(); p++) {
                float[] row = logits.toArray(p);
                int[] top = topK(row, Math.min(k, vocab));
                List<Map<String, Object>> entries = new ArrayList<>();
                for (int id : top) {
                    Map<String, Object> e = new LinkedHashMap<>();
                    e.put("id", id);
                    e.put("logit", row[id]);
                    entries.add(e);
                }
                Map<String, Object> pos = new LinkedHashMap<>();
                pos.put("position", p);
                pos.put("top", entries);
                positions.add(pos);
            }
            if (a.has("--json")) {
                out.println(Json.write(Map.of("positions", positions)));
            } else {
                for (Map<String, Object> pos : positions) {
                    StringBuilder sb = new StringBuilder("position " + pos.get("position") + ":");
                    for (Object o : (List<?>) pos.get("top")) {
                        Map<?, ?> e = (Map<?, ?>) o;
                        sb.append(String.format(Locale.ROOT, " %s=%.4f", e.get("id"), (Float) e.get("logit")));
                    }
                    out.println(sb);
                }
            }
        }
        return 0;
    }

    /** Ids of the k largest values, largest first (lower id first on ties). */
    static int[] topK(float[] row, int k) {
        int[] best = new int[k];
        int n = 0;
        for (int i = 0; i < row.length; i++) {
            if (n < k) {
                int j = n++;
                while (j > 0 && row[best[j - 1]] < row[i]) {
                    best[j] = best[j - 1];
                    j--;
                }
                best[j] = i;
            } else if (row[i] > row[best[k - 1]]) {
                int j = k - 1;
                while (j > 0 && row[best[j - 1]] < row[i]) {
                    best[j] = best[j - 1];
                    j--;
                }
                best[j] = i;
            }
        }
        return best;
    }
}
