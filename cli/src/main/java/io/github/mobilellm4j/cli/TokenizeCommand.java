package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Tokenizer;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** tokenize: text to token ids and pieces. */
final class TokenizeCommand implements Command {
    @Override
    public String name() {
        return "tokenize";
    }

    @Override
    public String summary() {
        return "text to token ids and pieces";
    }

    @Override
    public String usage() {
        return """
                usage: mobilellm tokenize -m FILE (-p TEXT | -f FILE) [--bos] [--parse-special] [--json]
                  -p, --prompt TEXT   the text
                  -f, --file FILE     read the text from a file (- = standard input)
                  --bos               prepend the BOS token
                  --parse-special     control-token text (e.g. <s>) becomes those tokens
                  --json              {"tokens":[...], "pieces":[...]}
                """ + ModelArgs.USAGE;
    }

    @Override
    public List<Option> options() {
        return ModelArgs.with(TextArgs.PROMPT, Option.valued("-f", "--file", "--text-file"), Option.flag("--bos"),
                Option.flag("--json"), Option.flag("--parse-special"));
    }

    @Override
    public int run(Args a, Streams io) throws Exception {
        String text = TextArgs.read(a, io.in());
        if (text == null) throw new UsageException("a text is required (-p TEXT or -f FILE)");
        PrintStream out = io.out();
        try (Model model = ModelArgs.load(a, true, io)) {
            Tokenizer tok = model.tokenizer();
            int[] ids = tok.encode(text, a.has("--bos"), a.has("--parse-special"));
            List<String> pieces = new ArrayList<>(ids.length);
            for (int id : ids) pieces.add(tok.piece(id));
            if (a.has("--json")) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("tokens", ids);
                o.put("pieces", pieces);
                out.println(Json.write(o));
            } else {
                for (int i = 0; i < ids.length; i++) out.println(ids[i] + "\t" + pieces.get(i));
            }
        }
        return 0;
    }
}
