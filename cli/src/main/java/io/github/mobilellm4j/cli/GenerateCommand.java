package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.chat.ChatMessage;
import io.github.mobilellm4j.sampling.SamplerOptions;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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
                  -f, --file FILE        read the prompt from a file (- = standard input)
                  --tokens IDS           prompt token ids, comma-separated (no BOS added)
                  --chat                 the prompt is a user message, rendered with the model's chat
                                         template (the reply alone is printed)
                  --system TEXT          with --chat: a system message before it
                  -n, --n-predict N      tokens to generate (default 128)
                  --stop STR             stop when STR appears (repeatable)
                  --ignore-eos           keep going past the end-of-sequence token
                  --parse-special        control-token text in the prompt (e.g. <s>) becomes tokens
                  --json                 print one JSON object instead of streaming text
                  --draft FILE           speculative decoding: a small model of the same vocabulary
                                         proposes tokens that the model checks in one pass (the same
                                         output, faster when most proposals are accepted)
                  --draft-max N          most tokens proposed at a time, 1 to 64 (default 8)
                """ + SAMPLER_USAGE + ModelArgs.USAGE;
    }

    /** The sampler's options, shared with chat. */
    static final String SAMPLER_USAGE = """
              --greedy               always the most likely token
              --temp T               temperature (default 0.8; 0 = greedy)
              --top-k K              keep the K most likely tokens (default 40; 0 = off)
              --top-p P              nucleus threshold in (0, 1] (default 0.95; 1 = off)
              --min-p P              drop tokens below P x the most likely, in [0, 1] (default 0.05)
              --repeat-penalty R     penalty for recent tokens, > 0 (default 1 = off)
              --repeat-last-n N      recent tokens the penalty looks at (default 64)
              -s, --seed S           sampler seed (default: random, printed; -1 = random)
            """;

    static final List<Option> SAMPLER_OPTIONS = List.of(Option.valued("--temp"), Option.valued("--top-k"), Option.valued("--top-p"),
            Option.valued("--min-p"), Option.valued("--repeat-penalty"), Option.valued("--repeat-last-n"), Option.valued("-s", "--seed"),
            Option.flag("--greedy"));

    @Override
    public List<Option> options() {
        List<Option> o = new ArrayList<>(SAMPLER_OPTIONS);
        o.addAll(List.of(TextArgs.PROMPT, TextArgs.FILE, Option.valued("--tokens"), Option.valued("-n", "--n-predict"),
                Option.valued("--stop"), Option.flag("--ignore-eos"), Option.flag("--json"), Option.flag("--parse-special"),
                Option.flag("--chat"), Option.valued("--system"), Option.valued("--draft"), Option.valued("--draft-max")));
        return ModelArgs.with(o.toArray(Option[]::new));
    }

    @Override
    public int run(Args a, Streams io) throws Exception {
        int[] ids = a.tokens("--tokens");
        if (ids != null && (a.has("-p") || a.has("-f"))) {
            throw new UsageException("give one of -p TEXT, -f FILE or --tokens IDS");
        }
        String prompt = TextArgs.read(a, io.in());
        if (prompt == null && ids == null) throw new UsageException("a prompt is required (-p TEXT, -f FILE or --tokens IDS)");
        if (ids != null && ids.length == 0) throw new UsageException(a.typed("--tokens") + " is empty");
        boolean chat = a.has("--chat");
        if (chat && ids != null) throw new UsageException(a.typed("--chat") + " needs a text prompt (-p TEXT or -f FILE), not --tokens");
        if (a.has("--system") && !chat) throw new UsageException(a.typed("--system") + " needs --chat");
        GenerateOptions.Builder ob = GenerateOptions.builder().sampler(sampler(a));
        a.withInt("-n", ob::maxTokens);
        for (String stop : a.all("--stop")) {
            if (stop.isEmpty()) throw new UsageException(a.typed("--stop") + " needs a non-empty string");
        }
        ob.stopStrings(a.all("--stop")).ignoreEos(a.has("--ignore-eos")).parseSpecial(a.has("--parse-special"));
        int draftMax = draftMax(a);
        boolean json = a.has("--json");
        PrintStream out = io.out();
        try (Model draft = a.has("--draft") ? ModelArgs.load(a, java.nio.file.Path.of(a.get("--draft"))) : null;
                Model model = ModelArgs.load(a, true, io); Session session = model.newSession()) {
            if (draft != null) ob.draft(draft, draftMax);
            GenerateOptions options = ob.build();
            SamplerOptions sampling = options.sampler();
            if (ids != null) ModelArgs.checkTokens(a, "--tokens", ids, model);
            int[] promptTokens = ids != null ? ids
                    : chat ? model.tokenizer().encode(chatPrompt(model, a, prompt), false, true) // the template writes BOS
                    : model.tokenizer().encode(prompt, null, options.parseSpecial());
            if (!sampling.isGreedy()) io.err().println("mobilellm: sampler seed: " + sampling.seed());
            if (!json && !chat) {
                out.print(ids != null ? model.tokenizer().decode(ids) : prompt);
                out.flush();
            }
            Generation g = generate(session, promptTokens, options, t -> {
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
                if (draft != null) {
                    o.put("draft_tokens", g.timings().draftedTokens());
                    o.put("draft_accepted_tokens", g.timings().acceptedDraftTokens());
                }
                o.put("seed", sampling.isGreedy() ? null : sampling.seed());
                out.println(Json.write(o));
            } else {
                out.println();
                io.err().printf(Locale.ROOT, "mobilellm: %d prompt tokens at %.1f t/s, %d generated at %.1f t/s (%s)%s%n",
                        g.timings().promptTokens(), g.timings().promptTokensPerSecond(), g.timings().generatedTokens(),
                        g.timings().tokensPerSecond(), g.stopReason().jsonName(), draft == null ? "" : acceptance(g));
            }
        }
        return 0;
    }

    /** --draft-max N (default 8); only with --draft. */
    static int draftMax(Args a) {
        if (a.has("--draft-max") && !a.has("--draft")) throw new UsageException(a.typed("--draft-max") + " needs --draft FILE");
        int n = a.intValue("--draft-max", 8);
        if (n < 1 || n > 64) throw a.invalid("--draft-max", "must be in [1, 64]");
        return n;
    }

    /** The generation; a draft of another vocabulary is reported as a failure naming the difference. */
    private static Generation generate(Session session, int[] prompt, GenerateOptions options,
            java.util.function.Consumer<io.github.mobilellm4j.GeneratedToken> onToken) {
        try {
            return session.generate(prompt, options, onToken);
        } catch (IllegalArgumentException e) {
            if (options.draft() == null || !e.getMessage().contains("cannot propose tokens")) throw e;
            throw new Failure(e.getMessage());
        }
    }

    /** ", draft acceptance 71% (120 of 169 proposed)" for the timings line. */
    private static String acceptance(Generation g) {
        return String.format(Locale.ROOT, ", draft acceptance %.0f%% (%d of %d proposed)", 100 * g.timings().acceptanceRate(),
                g.timings().acceptedDraftTokens(), g.timings().draftedTokens());
    }

    /** The conversation [system,] user rendered with the model's chat template, ending where the reply starts. */
    private static String chatPrompt(Model model, Args a, String user) {
        List<ChatMessage> messages = new ArrayList<>();
        if (a.has("--system")) messages.add(ChatMessage.system(a.get("--system")));
        messages.add(ChatMessage.user(user));
        return ChatCommand.template(model, a.get("-m")).render(messages, true);
    }

    /** --greedy, or sampling with the options given; without --seed (or with -1) the sampler draws a random seed. */
    static SamplerOptions sampler(Args a) {
        if (a.has("--greedy")) return SamplerOptions.greedy();
        SamplerOptions.Builder b = SamplerOptions.builder();
        a.withFloat("--temp", b::temperature);
        a.withInt("--top-k", b::topK);
        a.withFloat("--top-p", b::topP);
        a.withFloat("--min-p", b::minP);
        a.withFloat("--repeat-penalty", b::repeatPenalty);
        a.withInt("--repeat-last-n", b::repeatLastN);
        long seed = a.longValue("-s", -1);
        if (seed != -1) b.seed(seed);
        return b.build();
    }
}
