package io.github.mobilellm4j.jmh;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The modes of {@link SpeculativeDecodeBenchmark} interleaved: each round runs every mode once, in a rotating
 * order, so that load from other work on the machine affects all modes alike; prints the median tokens/s of each
 * mode and its ratio to {@code alone}.
 *
 * <p>{@code java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar io.github.mobilellm4j.jmh.SpeculativeSpeedup
 * [rounds] [target] [draft] [type] [threads] [modes...]}; defaults: 7 rounds, 350M, 125M, Q4_0, 2 threads,
 * modes alone 0.5 0.7 0.9 real; {@code -DdraftTokens=K} proposes K tokens per round (default 4); {@code -Dpool=own}
 * gives each model a thread pool of its own instead of the shared one.
 */
public final class SpeculativeSpeedup {
    private SpeculativeSpeedup() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        SpeculativeDecodeBenchmark.Pair p = new SpeculativeDecodeBenchmark.Pair();
        p.target = args.length > 1 ? args[1] : "350M";
        p.draft = args.length > 2 ? args[2] : "125M";
        p.type = args.length > 3 ? args[3] : "Q4_0";
        p.threads = args.length > 4 ? args[4] : "2";
        List<String> modes = args.length > 5 ? List.of(args).subList(5, args.length) : List.of("alone", "0.5", "0.7", "0.9", "real");
        p.promptTokens = 8;
        p.genTokens = 48;
        p.draftTokens = Integer.getInteger("draftTokens", 4);
        p.pool = System.getProperty("pool", "shared");
        p.mode = "interleaved";
        p.setUp();
        Blackhole bh = new Blackhole("Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");
        Map<String, List<Double>> speeds = new LinkedHashMap<>();
        for (String m : modes) speeds.put(m, new ArrayList<>());
        try {
            for (String m : modes) SpeculativeDecodeBenchmark.run(p, m, bh); // warm-up
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < modes.size(); i++) {
                    String m = modes.get((i + r) % modes.size());
                    long t0 = System.nanoTime();
                    int n = SpeculativeDecodeBenchmark.run(p, m, bh);
                    speeds.get(m).add(n / ((System.nanoTime() - t0) / 1e9));
                }
            }
        } finally {
            p.tearDown();
        }
        double base = median(speeds.get(modes.get(0)));
        for (var e : speeds.entrySet()) {
            double med = median(e.getValue());
            System.out.printf(Locale.ROOT, "%-6s median %.2f tokens/s (x%.2f of %s) over %d runs%n", e.getKey(), med,
                    med / base, modes.get(0), e.getValue().size());
        }
    }

    private static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}
