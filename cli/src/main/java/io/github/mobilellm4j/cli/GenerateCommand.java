package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.sampling.SamplerOptions;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** generate: text from a prompt, streamed as it is produced (or one JSON object with --json). */
final class GenerateCommand implements Command {
    @Override
    public String name() {
        return "generate";
    }

    @Override
    public String summary() {
        return "generate text from a prompt (the bundled demo model without -m)";
    }

    @Override
    public String usage() {
        return """
                usage: mobilellm generate [-m FILE] (-p TEXT | -f FILE | --tokens 1,2,3) [options]
                  -p, --prompt TEXT      prompt text (BOS per the model's add_bos setting)
                  -f, --file FILE        read the prompt from a file
                  --tokens IDS           prompt token ids, comma-separated (no BOS added)
                  -n, --n-predict N      tokens to generate (default 128)
                  --greedy               always the most likely token
                  --temp T --top-k K --top-p P --min-p P --repeat-penalty R --repeat-last-n N --seed S
                  --stop STR             stop when STR appears (repeatable)
                  --ignore-eos           keep going past the end-of-sequence token
                  --parse-special        control-token text in the prompt (e.g. <s>) becomes tokens
                  --json                 print one JSON object instead of streaming text
                """ + ModelArgs.USAGE;
    }

    @Override
    public Set<String> valuedOptions() {
        return ModelArgs.with("-p", "--prompt", "-f", "--file", "--tokens", "-n", "--n-predict", "--temp", "--top-k",
                "--top-p", "--min-p", "--repeat-penalty", "--repeat-last-n", "--seed", "--stop");
    }

    @Override
    public Set<String> flagOptions() {
        return Set.of("--greedy", "--ignore-eos", "--json", "--parse-special");
    }

    @Override
    public int run(Args a, PrintStream out, PrintStream err) throws Exception {
        String prompt = a.get("-p", "--prompt");
        String file = a.get("-f", "--file");
        int[] ids = a.tokens("--tokens");
        int given = (prompt != null ? 1 : 0) + (file != null ? 1 : 0) + (ids != null ? 1 : 0);
        if (given != 1) throw new UsageException("generate: give exactly one of -p TEXT, -f FILE or --tokens IDS");
        if (file != null) {
            Path p = Path.of(file);
            if (!Files.isRegularFile(p)) throw new UsageException("generate: prompt file not found: " + file);
            prompt = Files.readString(p);
        }
        if (ids != null && ids.length == 0) throw new UsageException("generate: --tokens is empty");
        GenerateOptions options = GenerateOptions.builder()
                .maxTokens(a.intValue(a.has("-n") ? "-n" : "--n-predict", 128))
                .sampler(sampler(a))
                .stopStrings(a.all("--stop"))
                .ignoreEos(a.has("--ignore-eos"))
                .parseSpecial(a.has("--parse-special"))
                .build();
        boolean json = a.has("--json");
        try (Model model = ModelArgs.load(a, true, err); Session session = model.newSession()) {
            int[] promptTokens = ids != null ? ids : session.model().tokenizer().encode(prompt, null, options.parseSpecial());
            if (!json) {
                out.print(ids != null ? model.tokenizer().decode(ids) : prompt);
                out.flush();
            }
            Generation g = session.generate(promptTokens, options, t -> {
                if (!json && !t.text().isEmpty()) {
                    out.print(t.text());
                    out.flush();
                }
            });
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("prompt_tokens", g.promptTokens());
                o.put("tokens", g.tokens());
                o.put("text", g.text());
                o.put("stop_reason", g.stopReason().jsonName());
                o.put("prompt_tokens_per_second", g.timings().promptTokensPerSecond());
                o.put("tokens_per_second", g.timings().tokensPerSecond());
                out.println(Json.write(o));
            } else {
                out.println();
                err.printf(Locale.ROOT, "mobilellm: %d prompt tokens at %.1f t/s, %d generated at %.1f t/s (%s)%n",
                        g.timings().promptTokens(), g.timings().promptTokensPerSecond(), g.timings().generatedTokens(),
                        g.timings().tokensPerSecond(), g.stopReason().jsonName());
            }
        }
        return 0;
    }

    static SamplerOptions sampler(Args a) {
        if (a.has("--greedy")) return SamplerOptions.greedy();
        SamplerOptions.Builder b = SamplerOptions.builder();
        try {
            if (a.has("--temp")) b.temperature(a.floatValue("--temp", 0.8f));
            if (a.has("--top-k")) b.topK(a.intValue("--top-k", 40));
            if (a.has("--top-p")) b.topP(a.floatValue("--top-p", 0.95f));
            if (a.has("--min-p")) b.minP(a.floatValue("--min-p", 0.05f));
            if (a.has("--repeat-penalty")) b.repeatPenalty(a.floatValue("--repeat-penalty", 1f));
            if (a.has("--repeat-last-n")) b.repeatLastN(a.intValue("--repeat-last-n", 64));
            if (a.has("--seed")) b.seed(a.longValue("--seed", 0));
        } catch (UsageException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new UsageException("generate: " + e.getMessage());
        }
        return b.build();
    }
}
