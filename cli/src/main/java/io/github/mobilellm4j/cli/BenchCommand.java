package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.Batch;
import io.github.mobilellm4j.Engine;
import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelInfo;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.SessionOptions;
import io.github.mobilellm4j.convert.OutputType;
import io.github.mobilellm4j.convert.Shape;
import io.github.mobilellm4j.convert.SyntheticModels;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.List;
import java.util.Random;

/**
 * bench: prompt-processing and generation speed like llama-bench: pp = one batch of n_prompt tokens from an
 * empty context, tg = n_gen single-token decodes from an empty context, medians over repetitions after one
 * warm-up. Token ids are fixed pseudo-random ids; generation never stops early. With --parallel N (like
 * llama-batched-bench), N sessions read their prompts in one batch and then decode together, one batch of N
 * tokens per step; tg is then the aggregate decode rate of all N sequences. With --shape instead of -m it measures a
 * synthetic model of that MobileLLM shape (random weights: speed does not depend on their values), made once and
 * cached as the JMH suite's are. With --draft FILE, tg is greedy generation of n_gen tokens after the prompt with
 * speculative decoding, measured together with the same generation without the draft (its ratio and the draft's
 * acceptance rate reported).
 */
final class BenchCommand implements Command {
    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String summary() {
        return "prompt and generation tokens/s (medians), like llama-bench";
    }

    @Override
    public String usage() {
        return """
                usage: mobilellm bench -m FILE | --shape 125M|350M|600M|1B|1.5B [--type Q4_0]
                                       [-p 128] [-n 128] [--threads N] [-r REPS] [--parallel N]
                                       [--draft FILE [--draft-max N]] [--json]
                  --shape S               a synthetic model of that shape instead of -m (made on first use in
                                          $MOBILELLM_BENCH_CACHE, else ~/.cache/mobilellm4j/bench)
                  --type T                its weight type (default Q4_0; F16, Q8_0, ... as mobilellm convert)
                  -p, --n-prompt N        prompt tokens per pp run (default 128; 0 skips pp)
                  -n, --n-gen N           generated tokens per tg run (default 128; 0 skips tg)
                  -r, --repetitions REPS  repetitions (default 5); medians are reported
                  --parallel N            N sequences decoded together (1..256); pp and tg are then the
                                          aggregate rates of all N
                  --draft FILE            tg with speculative decoding: greedy generation of n_gen tokens after
                                          the prompt with this draft model (same vocabulary), each repetition
                                          also without it
                  --draft-max N           most tokens the draft proposes at a time, 1 to 64 (default 8)
                  --json    {"pp_tokens_per_second":x, "tg_tokens_per_second":y, "threads":n, "n_prompt":p, "n_gen":g,
                             "parallel":N, "shape":S, "type":T} (shape and type with --shape); with --draft also
                             "draft", "draft_max", "tg_alone_tokens_per_second", "draft_speedup", "draft_acceptance"
                """ + ModelArgs.USAGE;
    }

    @Override
    public List<Option> options() {
        return ModelArgs.with(Option.valued("-p", "--n-prompt"), Option.valued("-n", "--n-gen"),
                Option.valued("-r", "--repetitions", "--reps"), Option.valued("--parallel"), Option.valued("--shape"),
                Option.valued("--type"), Option.valued("--draft"), Option.valued("--draft-max"), Option.flag("--json"));
    }

    @Override
    public int run(Args a, Streams io) throws Exception {
        int nPrompt = a.intValue("-p", 128);
        int nGen = a.intValue("-n", 128);
        int reps = a.intValue("-r", 5);
        if (nPrompt < 0) throw a.invalid("-p", "must be >= 0");
        if (nGen < 0) throw a.invalid("-n", "must be >= 0");
        if (reps < 1) throw a.invalid("-r", "must be >= 1");
        int parallel = a.intValue("--parallel", 0);
        if (parallel < 0 || parallel > 256) throw a.invalid("--parallel", "must be 1..256");
        int draftMax = GenerateCommand.draftMax(a);
        if (a.has("--draft") && parallel > 0) throw new UsageException("--draft and --parallel cannot be combined");
        if (a.has("--draft") && nGen == 0) throw new UsageException("--draft needs generated tokens (-n > 0)");
        PrintStream out = io.out();
        PrintStream err = io.err();
        Synthetic synthetic = Synthetic.of(a);
        try (Model model = synthetic == null ? ModelArgs.load(a, false, io) : ModelArgs.load(a, synthetic.model(io));
                Model draft = a.has("--draft") ? ModelArgs.load(a, Path.of(a.get("--draft"))) : null) {
            ModelInfo info = model.info();
            int ctx = Math.max(16, draft == null ? Math.max(nPrompt, nGen) + 1 : Math.max(1, nPrompt) + nGen + draftMax + 2);
            Random rnd = new Random(42);
            int[] prompt = new int[nPrompt];
            for (int i = 0; i < nPrompt; i++) prompt[i] = rnd.nextInt(info.vocabulary().size());
            int[] gen = new int[nGen];
            for (int i = 0; i < nGen; i++) gen[i] = rnd.nextInt(info.vocabulary().size());
            double[] pp = new double[reps];
            double[] tg = new double[reps];
            DraftRun drafted = draft == null ? null : new DraftRun(reps);
            if (parallel > 0) {
                benchParallel(model, parallel, prompt, gen, pp, tg, err);
            } else {
                // with a draft, the target verifies up to draftMax + 1 tokens in one pass: a smaller batch would split it
                int batch = Math.max(Math.max(1, nPrompt), draft == null ? 1 : draftMax + 1);
                try (Session s = model.newSession(SessionOptions.builder().contextLength(ctx).batchSize(batch).build())) {
                    for (int r = -1; r < reps; r++) { // r = -1 is the warm-up
                        if (nPrompt > 0) {
                            s.reset();
                            long t0 = System.nanoTime();
                            s.eval(prompt);
                            double sec = (System.nanoTime() - t0) / 1e9;
                            if (r >= 0) pp[r] = nPrompt / sec;
                        }
                        if (drafted != null) {
                            drafted.measure(s, draft, draftMax, nPrompt > 0 ? prompt : new int[] {gen[0]}, nGen, r);
                            if (r >= 0) tg[r] = drafted.withDraft[r];
                        } else if (nGen > 0) {
                            s.reset();
                            long t0 = System.nanoTime();
                            for (int i = 0; i < nGen; i++) s.eval(gen[i]);
                            double sec = (System.nanoTime() - t0) / 1e9;
                            if (r >= 0) tg[r] = nGen / sec;
                        }
                        if (r >= 0) err.printf(Locale.ROOT, "mobilellm: rep %d/%d pp %.1f t/s tg %.1f t/s%n", r + 1, reps, pp[r], tg[r]);
                    }
                }
            }
            double ppMedian = nPrompt > 0 ? median(pp) : 0;
            double tgMedian = nGen > 0 ? median(tg) : 0;
            int threads = info.threads();
            if (a.has("--json")) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("pp_tokens_per_second", ppMedian);
                o.put("tg_tokens_per_second", tgMedian);
                o.put("threads", threads);
                o.put("n_prompt", nPrompt);
                o.put("n_gen", nGen);
                o.put("repetitions", reps);
                o.put("parallel", Math.max(1, parallel));
                o.put("model", model.path().toString());
                if (synthetic != null) {
                    o.put("shape", synthetic.shape().name());
                    o.put("type", synthetic.type().name());
                }
                o.put("cpu_level", Engine.cpuLevel());
                if (drafted != null) {
                    o.put("draft", draft.path().toString());
                    o.put("draft_max", draftMax);
                    o.put("tg_alone_tokens_per_second", median(drafted.alone));
                    o.put("draft_speedup", tgMedian / median(drafted.alone));
                    o.put("draft_acceptance", drafted.acceptance());
                }
                out.println(Json.write(o));
            } else {
                out.printf(Locale.ROOT, "%s: pp%d %.1f t/s, tg%d %.1f t/s (median of %d, %d threads, %s)%n",
                        model.path().getFileName(), nPrompt, ppMedian, nGen, tgMedian, reps, threads, Engine.cpuLevel());
                if (drafted != null) {
                    out.printf(Locale.ROOT, "  tg with draft %s: x%.2f of %.1f t/s without it, draft acceptance %.0f%%%n",
                            draft.path().getFileName(), tgMedian / median(drafted.alone), median(drafted.alone),
                            100 * drafted.acceptance());
                }
            }
        }
        return 0;
    }

    /** A synthetic model of --shape and --type, or null without --shape. */
    record Synthetic(Shape shape, OutputType type) {
        static Synthetic of(Args a) {
            String shape = a.get("--shape");
            if (shape == null) {
                if (!a.has("-m")) throw new UsageException("a model is required (-m FILE or --shape 125M, 350M, 600M, 1B or 1.5B)");
                if (a.has("--type")) throw new UsageException("--type goes with --shape (a file given with -m has its own types)");
                return null;
            }
            if (a.has("-m")) throw new UsageException("give either -m FILE or --shape, not both");
            Shape s;
            try {
                s = Shape.preset(shape);
            } catch (IllegalArgumentException e) {
                throw a.invalid("--shape", "must be 125M, 350M, 600M, 1B or 1.5B");
            }
            OutputType t;
            try {
                t = OutputType.parse(a.has("--type") ? a.get("--type") : "Q4_0");
            } catch (IllegalArgumentException e) {
                throw a.invalid("--type", "must be one of " + OutputType.names());
            }
            return new Synthetic(s, t);
        }

        /** The model file, made (synthetic checkpoint, then conversion) when the cache does not hold it yet. */
        Path model(Streams io) {
            return SyntheticModels.model(SyntheticModels.defaultCache(io.env()), shape, type,
                    line -> io.err().println("mobilellm: " + line));
        }
    }

    /** N sessions: prompts in one batch, then n_gen steps of one token per session, all in one batch each. */
    static void benchParallel(Model model, int n, int[] prompt, int[] gen, double[] pp, double[] tg, PrintStream err) {
        List<Session> sessions = new java.util.ArrayList<>();
        SessionOptions so = SessionOptions.builder().contextLength(prompt.length + gen.length + 16).build();
        try (Batch batch = Batch.create(model, Math.min(65536, Math.max(n, n * prompt.length)), n)) {
            for (int i = 0; i < n; i++) sessions.add(model.newSession(so));
            for (int r = -1; r < pp.length; r++) { // r = -1 is the warm-up
                for (Session s : sessions) s.reset();
                long t0 = System.nanoTime();
                if (prompt.length > 0) {
                    for (Session s : sessions) batch.add(s, prompt, true);
                    batch.decode();
                }
                long t1 = System.nanoTime();
                int[] one = new int[1];
                for (int k = 0; k < gen.length; k++) {
                    one[0] = gen[k];
                    for (Session s : sessions) batch.add(s, one, true);
                    batch.decode();
                }
                long t2 = System.nanoTime();
                if (r >= 0) {
                    pp[r] = (double) n * prompt.length / ((t1 - t0) / 1e9);
                    tg[r] = (double) n * gen.length / ((t2 - t1) / 1e9);
                    err.printf(Locale.ROOT, "mobilellm: rep %d/%d x%d pp %.1f t/s tg %.1f t/s (aggregate)%n", r + 1, pp.length, n,
                            pp[r], tg[r]);
                }
            }
        } finally {
            for (Session s : sessions) s.close();
        }
    }

    /**
     * tg with a draft model: per repetition, the greedy generation of n_gen tokens after the prompt without the draft,
     * then with it (their decode rates, generated tokens over the time after the prompt), and the proposals accepted.
     */
    static final class DraftRun {
        final double[] alone, withDraft;
        long proposed, accepted;

        DraftRun(int reps) {
            alone = new double[reps];
            withDraft = new double[reps];
        }

        void measure(Session s, Model draft, int draftMax, int[] prompt, int nGen, int rep) {
            GenerateOptions plain = GenerateOptions.builder().greedy().ignoreEos(true).maxTokens(nGen).build();
            GenerateOptions speculative = plain.toBuilder().draft(draft, draftMax).build();
            s.reset();
            Generation a = s.generate(prompt, plain, null);
            s.reset();
            Generation d = s.generate(prompt, speculative, null);
            if (!Arrays.equals(a.tokens(), d.tokens())) {
                throw new IllegalStateException("speculative decoding changed the greedy output: an engine defect");
            }
            if (rep < 0) return; // the warm-up
            alone[rep] = a.timings().tokensPerSecond();
            withDraft[rep] = d.timings().tokensPerSecond();
            proposed += d.timings().draftedTokens();
            accepted += d.timings().acceptedDraftTokens();
        }

        double acceptance() {
            return proposed > 0 ? (double) accepted / proposed : 0;
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
