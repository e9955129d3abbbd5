package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.Model;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
                """ + ModelArgs.USAGE;
    }

    @Override
    public List<Option> options() {
        return ModelArgs.with(Option.valued("--tokens"), Option.flag("--json"));
    }

    @Override
    public int run(Args a, Streams io) throws Exception {
        int[] ids = a.tokens("--tokens");
        if (ids == null) throw new UsageException("token ids are required (--tokens 1,2,3)");
        PrintStream out = io.out();
        try (Model model = ModelArgs.load(a, true, io)) {
            ModelArgs.checkTokens(a, "--tokens", ids, model);
            String text = model.tokenizer().decode(ids);
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
