package io.github.mobilellm4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mobilellm4j.cli.Cli.Result;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** As in llama.cpp: a random sampler seed unless --seed is given, printed so that the run can be repeated. */
class SeedTest {
    static final Pattern SEED_LINE = Pattern.compile("(?m)^mobilellm: sampler seed: (\\d+)$");
    static String model;

    @BeforeAll
    static void setUp() throws Exception {
        model = Cli.model().toString();
    }

    static Result sample(String... more) {
        String[] common = {"generate", "-m", model, "-p", "This License", "-n", "12", "--ignore-eos", "--temp", "1.5",
                "--top-k", "0", "--json"};
        return Cli.run(TextInputTest.with(common, more));
    }

    static long printedSeed(Result r) {
        Matcher m = SEED_LINE.matcher(r.err());
        assertThat(m.find()).as("seed line in: " + r.err()).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    void withoutSeedARandomSeedIsDrawnPrintedAndRepeatable() throws Exception {
        Result a = sample();
        Result b = sample();
        assertThat(a.code()).as(a.err()).isZero();
        long seedA = printedSeed(a);
        long seedB = printedSeed(b);
        // two draws from 2^32 seeds coincide with probability 2^-32
        assertThat(seedA).isNotEqualTo(seedB);
        assertThat(a.json().get("seed").asLong()).isEqualTo(seedA);
        Result again = sample("--seed", Long.toString(seedA));
        assertThat(printedSeed(again)).isEqualTo(seedA);
        assertThat(again.json().get("tokens")).isEqualTo(a.json().get("tokens"));
    }

    @Test
    void givenSeedIsUsedAndMinusOneMeansRandom() throws Exception {
        Result s7 = sample("-s", "7");
        assertThat(printedSeed(s7)).isEqualTo(7);
        assertThat(s7.json().get("seed").asLong()).isEqualTo(7);
        assertThat(sample("--seed", "7").json().get("tokens")).isEqualTo(s7.json().get("tokens"));
        assertThat(printedSeed(sample("--seed", "-1"))).isNotEqualTo(printedSeed(sample("--seed", "-1")));
    }

    @Test
    void greedyHasNoSeed() throws Exception {
        Result g = Cli.run("generate", "-m", model, "-p", "This License", "-n", "4", "--greedy", "--json");
        assertThat(g.code()).as(g.err()).isZero();
        assertThat(g.err()).doesNotContain("sampler seed");
        assertThat(g.json().get("seed").isNull()).isTrue();
    }
}
