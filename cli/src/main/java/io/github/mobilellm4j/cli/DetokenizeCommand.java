package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.Model;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** detokenize: token ids to text. */
final class DetokenizeCommand implements Command {
    @Override
    public String name() {
        return "detokenize";
    }

    @Override
    public String summary() {
        return "token ids to text";
    }

    @Override
    public String usage() {
        return """
                usage: mobilellm detokenize -m FILE --tokens 1,2,3 [--json]
                  --json   {"text":"..."}
                """;
    }

    @Override
    public Set<String> valuedOptions() {
        return ModelArgs.with("--tokens");
    }

    @Override
    public Set<String> flagOptions() {
        return Set.of("--json");
    }

    @Override
    public int run(Args a, PrintStream out, PrintStream err) throws Exception {
        int[] ids = a.tokens("--tokens");
        if (ids == null) throw new UsageException("detokenize: --tokens is required");
        try (Model model = ModelArgs.load(a, true, err)) {
            String text;
            try {
                text = model.tokenizer().decode(ids);
            } catch (IllegalArgumentException e) {
                throw new UsageException("detokenize: " + e.getMessage());
            }
            if (a.has("--json")) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("text", text);
                out.println(Json.write(o));
            } else {
                out.println(text);
            }
        }
        return 0;
    }
}
