package io.github.mobilellm4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mobilellm4j.cli.Cli.Result;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** generate --draft: the same greedy tokens as without a draft, the acceptance rate reported, bad use refused. */
class DraftOptionTest {
    static Path model;

    @BeforeAll
    static void convertTestModel() throws Exception {
        model = Cli.model();
    }

    private static Result generate(String... more) {
        String[] base = {"generate", "-m", model.toString(), "-p", "This License", "-n", "12", "--greedy", "--ignore-eos"};
        String[] all = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return Cli.run(all);
    }

    @Test
    void aDraftGivesTheSameTokensAndReportsItsAcceptance() throws Exception {
        Result alone = generate("--json");
        Result drafted = generate("--json", "--draft", model.toString(), "--draft-max", "4");
        assertThat(drafted.code()).as(drafted.err()).isZero();
        assertThat(drafted.json().get("tokens")).isEqualTo(alone.json().get("tokens"));
        int proposed = drafted.json().get("draft_tokens").asInt();
        assertThat(proposed).isPositive();
        assertThat(drafted.json().get("draft_accepted_tokens").asInt()).isBetween(0, proposed);
        assertThat(alone.json().has("draft_tokens")).isFalse();

        Result text = generate("--draft", model.toString());
        assertThat(text.code()).as(text.err()).isZero();
        assertThat(text.err()).containsPattern("generated at [0-9.]+ t/s \\(max_tokens\\), draft acceptance \\d+% "
                + "\\(\\d+ of \\d+ proposed\\)");
    }

    /** bench --draft: tg with and without the draft in one run; the model as its own draft accepts every proposal. */
    @Test
    void benchMeasuresTheDraftMode() throws Exception {
        Result b = Cli.run("bench", "-m", model.toString(), "-p", "8", "-n", "12", "-r", "1", "--draft", model.toString(),
                "--draft-max", "4", "--json");
        assertThat(b.code()).as(b.err()).isZero();
        assertThat(b.json().get("draft_max").asInt()).isEqualTo(4);
        assertThat(b.json().get("draft_acceptance").asDouble()).isEqualTo(1.0);
        double tg = b.json().get("tg_tokens_per_second").asDouble(), alone = b.json().get("tg_alone_tokens_per_second").asDouble();
        assertThat(tg).isPositive();
        assertThat(alone).isPositive();
        // the speed-up is the ratio of the two rates reported (rounding of the JSON doubles aside)
        assertThat(b.json().get("draft_speedup").asDouble()).isCloseTo(tg / alone, org.assertj.core.api.Assertions.within(1e-9));
        Result parallel = Cli.run("bench", "-m", model.toString(), "--parallel", "2", "--draft", model.toString());
        assertThat(parallel.code()).isEqualTo(2);
        assertThat(parallel.err()).contains("--draft and --parallel cannot be combined");
    }

    @Test
    void badDraftOptionsAreRefused() {
        Result noDraft = generate("--draft-max", "4");
        assertThat(noDraft.code()).isEqualTo(2);
        assertThat(noDraft.err()).contains("--draft-max needs --draft FILE");
        Result tooMany = generate("--draft", model.toString(), "--draft-max", "65");
        assertThat(tooMany.code()).isEqualTo(2);
        assertThat(tooMany.err()).contains("--draft-max must be in [1, 64], got 65");
        Result missing = generate("--draft", "no-such-file.gguf");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("model file not found: no-such-file.gguf");
    }
}
