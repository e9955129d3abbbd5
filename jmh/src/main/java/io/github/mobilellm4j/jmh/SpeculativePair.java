package io.github.mobilellm4j.jmh;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.SessionOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Speculative decoding on a real draft/target pair (two GGUF files of one vocabulary, e.g. the pair that
 * {@code reference/train_draft_pair.py} trains): for every prompt of a text file, the target's greedy generation
 * alone and with the draft ({@code GenerateOptions.draft}), interleaved, the order alternating per round. Prints
 * per mode the median over rounds of the decode rate (generated tokens / generation seconds, summed over the
 * prompts), the draft's acceptance rate, and whether both modes produced the same tokens for every prompt (they
 * must: greedy speculative decoding returns exactly the target's own output).
 *
 * <p>{@code java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar io.github.mobilellm4j.jmh.SpeculativePair
 * TARGET.gguf DRAFT.gguf PROMPTS.txt [rounds=5] [tokens=64] [threads=2] [draftMax=8] [pool=own|shared]}; {@code shared}:
 * both models on the process's one thread pool ({@code ModelOptions.Builder.sharedThreadPool}).
 */
public final class SpeculativePair {
    private SpeculativePair() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: SpeculativePair TARGET.gguf DRAFT.gguf PROMPTS.txt [rounds] [tokens] [threads] [draftMax] [own|shared]");
            System.exit(2);
        }
        Path targetFile = Path.of(args[0]), draftFile = Path.of(args[1]);
        List<String> prompts = Files.readAllLines(Path.of(args[2]), StandardCharsets.UTF_8).stream()
                .filter(s -> !s.isBlank()).toList();
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        int tokens = args.length > 4 ? Integer.parseInt(args[4]) : 64;
        int threads = args.length > 5 ? Integer.parseInt(args[5]) : 2;
        int draftMax = args.length > 6 ? Integer.parseInt(args[6]) : 8;
        boolean shared = args.length > 7 && args[7].equals("shared");
        ModelOptions mo = ModelOptions.builder().threads(threads).sharedThreadPool(shared).build();
        try (Model target = Model.load(targetFile, mo); Model draft = Model.load(draftFile, mo);
                Session session = target.newSession(SessionOptions.builder().contextLength(512).build())) {
            GenerateOptions alone = GenerateOptions.builder().greedy().ignoreEos(true).maxTokens(tokens).build();
            GenerateOptions drafted = alone.toBuilder().draft(draft, draftMax).build();
            int[][] promptTokens = prompts.stream().map(p -> target.tokenizer().encode(p)).toArray(int[][]::new);
            int[][] reference = new int[promptTokens.length][];
            for (int i = 0; i < promptTokens.length; i++) { // warm-up, and each prompt's output alone
                session.reset();
                reference[i] = session.generate(promptTokens[i], alone, null).tokens();
                session.reset();
                session.generate(promptTokens[i], drafted, null);
            }
            List<Double> aloneRates = new ArrayList<>(), draftRates = new ArrayList<>();
            long proposed = 0, accepted = 0;
            int mismatches = 0;
            for (int r = 0; r < rounds; r++) {
                double[] seconds = new double[2];
                long[] generated = new long[2];
                for (int m = 0; m < 2; m++) {
                    boolean withDraft = (m + r) % 2 == 1;
                    for (int i = 0; i < promptTokens.length; i++) {
                        session.reset();
                        Generation g = session.generate(promptTokens[i], withDraft ? drafted : alone, null);
                        int slot = withDraft ? 1 : 0;
                        seconds[slot] += g.timings().generateSeconds();
                        generated[slot] += g.timings().generatedTokens();
                        if (!Arrays.equals(g.tokens(), reference[i])) mismatches++;
                        if (withDraft) {
                            proposed += g.timings().draftedTokens();
                            accepted += g.timings().acceptedDraftTokens();
                        }
                    }
                }
                aloneRates.add(generated[0] / seconds[0]);
                draftRates.add(generated[1] / seconds[1]);
            }
            double a = median(aloneRates), d = median(draftRates);
            System.out.printf(Locale.ROOT, "target %s, draft %s, %d prompts, %d tokens each, %d threads (%s), draft max %d, %d rounds%n",
                    targetFile.getFileName(), draftFile.getFileName(), prompts.size(), tokens, threads, shared ? "one shared pool" : "a pool each",
                    draftMax, rounds);
            System.out.printf(Locale.ROOT, "alone  median %.2f tokens/s (rounds %s)%n", a, format(aloneRates));
            System.out.printf(Locale.ROOT, "draft  median %.2f tokens/s (rounds %s), x%.2f of alone%n", d, format(draftRates), d / a);
            System.out.printf(Locale.ROOT, "acceptance %.3f (%d of %d proposed); outputs differing from the target alone: %d of %d%n",
                    proposed > 0 ? (double) accepted / proposed : 0, accepted, proposed, mismatches, 2 * rounds * prompts.size());
            if (mismatches > 0) System.exit(1);
        }
    }

    private static String format(List<Double> v) {
        StringBuilder b = new StringBuilder();
        for (double x : v) b.append(b.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, "%.1f", x));
        return b.toString();
    }

    private static double median(List<Double> v) {
        double[] s = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
