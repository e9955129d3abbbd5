package io.github.mobilellm4j.jmh;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Logits;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.SessionOptions;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Decode speed with speculative decoding, as a function of the draft's acceptance rate. Synthetic models have random
 * weights, so a real draft of them agrees with the target by chance only; to measure the speed-up at a chosen
 * acceptance rate, {@code controlled} runs the greedy speculative loop (the draft session evaluates every token it
 * proposes, the target verifies a round in one batched {@code evalAll}, {@code truncate} drops rejected tokens) with
 * proposals forced: each is the target's own greedy next token with probability {@code acceptance}, else a wrong
 * token. The draft thus pays its real forward cost while the acceptance rate is controlled.
 *
 * <p>{@code alone}: the target by itself through {@code Session.generate} (greedy), the baseline. {@code real}:
 * {@code Session.generate} with the draft model through {@code GenerateOptions.draft} (the product path, at the
 * synthetic draft's natural acceptance). Read the secondary result {@code tokens} (tokens/s).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = BenchDefaults.NATIVE_ACCESS)
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 3, time = 10)
public class SpeculativeDecodeBenchmark {

    @State(Scope.Thread)
    public static class Pair {
        @Param({"350M"})
        public String target;

        @Param({"125M"})
        public String draft;

        @Param({"Q4_0"})
        public String type;

        /** Engine threads: a number or "all". */
        @Param({"2"})
        public String threads;

        @Param({"8"})
        public int promptTokens;

        @Param({"48"})
        public int genTokens;

        /** "own": each model on a thread pool of its own; "shared": both on the process's one pool. */
        @Param({"shared"})
        public String pool;

        /** Proposals per round (fixed here, so that only the acceptance rate varies). */
        @Param({"4"})
        public int draftTokens;

        /** "alone", "real", or the controlled acceptance rate ("0.5", "0.7", "0.9"). */
        @Param({"alone", "0.5", "0.7", "0.9"})
        public String mode;

        Model targetModel;
        Model draftModel;
        Session targetSession;
        Session draftSession;
        int[] prompt;
        /** The target's greedy continuation of the prompt: the tokens every mode produces. */
        int[] reference;
        SplittableRandom random;

        @Setup(Level.Trial)
        public void setUp() {
            ModelOptions mo = ModelOptions.builder().threads(BenchParams.parseThreads(threads))
                    .sharedThreadPool(pool.equals("shared")).build();
            targetModel = Model.load(BenchModels.model(target, type), mo);
            draftModel = Model.load(BenchModels.model(draft, type), mo);
            SessionOptions so = SessionOptions.builder().contextLength(promptTokens + genTokens + draftTokens + 16).build();
            targetSession = targetModel.newSession(so);
            draftSession = draftModel.newSession(so);
            prompt = BenchDefaults.tokens(promptTokens, targetModel.info().vocabulary().size(), 1);
            reference = targetSession.generate(prompt, greedy(genTokens + draftTokens + 1).build(), null).tokens();
            random = new SplittableRandom(42);
            BenchModels.log(target + " target, " + draft + " draft, " + type + ", " + threads + " threads (" + pool
                    + " pool), mode " + mode);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            targetSession.close();
            draftSession.close();
            draftModel.close();
            targetModel.close();
        }

        static GenerateOptions.Builder greedy(int n) {
            return GenerateOptions.builder().greedy().ignoreEos(true).maxTokens(n);
        }
    }

    @Benchmark
    public void decode(Pair p, TokenCounter counter, Blackhole bh) {
        counter.tokens += run(p, p.mode, bh);
    }

    /** One generation of genTokens tokens in the given mode; returns the tokens generated. */
    static int run(Pair p, String mode, Blackhole bh) {
        p.targetSession.reset();
        return switch (mode) {
            case "alone" -> generated(p.targetSession.generate(p.prompt, Pair.greedy(p.genTokens).build(), null), bh);
            case "real" -> generated(p.targetSession.generate(p.prompt,
                    Pair.greedy(p.genTokens).draft(p.draftModel, p.draftTokens).build(), null), bh);
            default -> controlled(p, Double.parseDouble(mode), bh);
        };
    }

    private static int generated(Generation g, Blackhole bh) {
        bh.consume(g);
        return g.tokens().length;
    }

    /**
     * The greedy speculative loop with forced proposals; returns the tokens generated. Each round: the draft evaluates
     * what it lacks and proposes k tokens (k - 1 more forward passes), the target evaluates the current token and the
     * k proposals in one pass, keeps the proposals that equal its own argmax and adds its next token.
     */
    private static int controlled(Pair p, double acceptance, Blackhole bh) {
        p.draftSession.reset();
        Session target = p.targetSession;
        Session draft = p.draftSession;
        int vocab = p.targetModel.info().vocabulary().size();
        int current = target.eval(p.prompt).argmax(0);
        int[] pending = p.prompt;
        int produced = 1;
        while (produced < p.genTokens) {
            int k = Math.min(p.draftTokens, p.genTokens - produced);
            int[] draftIn = Arrays.copyOf(pending, pending.length + 1);
            draftIn[pending.length] = current;
            bh.consume(draft.eval(draftIn).get(0, 0));
            int[] verify = new int[k + 1];
            verify[0] = current;
            for (int i = 0; i < k; i++) {
                int right = p.reference[produced + i];
                verify[i + 1] = p.random.nextDouble() < acceptance ? right : (right + 1) % vocab;
                if (i < k - 1) bh.consume(draft.eval(verify[i + 1]).get(0, 0)); // the draft's forward cost
            }
            int base = target.position();
            Logits rows = target.evalAll(verify);
            int kept = 0;
            while (kept < k && rows.argmax(kept) == verify[kept + 1]) kept++;
            int next = rows.argmax(kept);
            if (kept < k) target.truncate(base + 1 + kept);
            int draftKeep = draft.position() - (k - 1) + Math.min(kept, k - 1);
            if (draftKeep < draft.position()) draft.truncate(draftKeep);
            pending = kept == k ? new int[] {verify[k]} : new int[0];
            produced += kept + 1;
            current = next;
        }
        return produced;
    }
}
