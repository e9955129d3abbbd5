package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Tokenizer;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
                usage: mobilellm tokenize -m FILE (-p TEXT | --text-file F) [--bos] [--parse-special] [--json]
                  --bos             prepend the BOS token
                  --parse-special   control-token text (e.g. <s>) becomes those tokens
                  --json            {"tokens":[...], "pieces":[...]}
                """;
    }

    @Override
    public Set<String> valuedOptions() {
        return ModelArgs.with("-p", "--prompt", "--text-file");
    }

    @Override
    public Set<String> flagOptions() {
        return Set.of("--bos", "--json", "--parse-special");
    }

    @Override
    public int run(Args a, PrintStream out, PrintStream err) throws Exception {
        String text = a.get("-p", "--prompt");
        String file = a.get("--text-file");
        if ((text == null) == (file == null)) throw new UsageException("tokenize: give exactly one of -p TEXT or --text-file F");
        if (file != null) {
            if (!Files.isRegularFile(Path.of(file))) throw new UsageException("tokenize: text file not found: " + file);
            text = Files.readString(Path.of(file));
        }
        try (Model model = ModelArgs.load(a, true, err)) {
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
