package io.github.mobilellm4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mobilellm4j.cli.Cli.Result;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Option parsing as in llama.cpp's tools: a valued option takes the next argument whatever it looks like. */
class ArgsTest {
    static final List<Option> OPTIONS = List.of(Option.valued("-p", "--prompt"), Option.flag("--json"));

    static Args parse(int maxPositional, String... argv) {
        return Args.parse("test", argv, 0, OPTIONS, maxPositional);
    }

    @Test
    void valuedOptionsTakeTheNextArgumentWhateverItLooksLike() {
        for (String value : List.of("--x", "-h", "--help", "--json", "-", "--", "-5", "")) {
            Args a = parse(0, "-p", value, "--json");
            assertThat(a.get("-p")).isEqualTo(value);
            assertThat(a.has("--json")).isTrue();
            assertThat(a.help()).isFalse();
        }
    }

    @Test
    void longOptionsTakeInlineValues() {
        assertThat(parse(0, "--prompt=--x").get("-p")).isEqualTo("--x");
        assertThat(parse(0, "--prompt=a=b").get("-p")).isEqualTo("a=b");
        assertThat(parse(0, "--prompt=").get("-p")).isEmpty();
        assertThat(parse(0, "--prompt", "x").typed("-p")).isEqualTo("--prompt");
        assertThatThrownBy(() -> parse(0, "--json=1")).hasMessage("option --json takes no value");
    }

    @Test
    void doubleDashEndsOptions() {
        Args a = parse(2, "--json", "--", "-in.gguf", "--prompt");
        assertThat(a.positional()).containsExactly("-in.gguf", "--prompt");
        assertThat(a.has("-p")).isFalse();
        assertThatThrownBy(() -> parse(0, "--", "x")).isInstanceOf(UsageException.class)
                .hasMessage("unexpected argument 'x' (see mobilellm test --help)");
    }

    @Test
    void helpOnlyWhereAnOptionCanStand() {
        assertThat(parse(0, "--json", "--help").help()).isTrue();
        assertThat(parse(0, "-h").help()).isTrue();
        assertThat(parse(0, "-p", "-h").help()).isFalse();
        assertThat(parse(1, "--", "--help").help()).isFalse();
    }

    /** The prompt reaches the model verbatim: the prompt tokens decode back to the text given. */
    @ParameterizedTest
    @ValueSource(strings = {"--x", "-h", "--help", "-n", "--json"})
    void promptsThatLookLikeOptions(String prompt) throws Exception {
        String model = Cli.model().toString();
        for (Result r : List.of(Cli.run("generate", "-m", model, "-p", prompt, "-n", "2", "--greedy", "--json"),
                Cli.run("generate", "-m", model, "--prompt=" + prompt, "-n", "2", "--greedy", "--json"),
                Cli.runWith(prompt, false, "generate", "-m", model, "-f", "-", "-n", "2", "--greedy", "--json"))) {
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(decodeWithoutBos(model, r.json().get("prompt_tokens"))).isEqualTo(prompt);
        }
    }

    @Test
    void doubleDashBeforeAPositional(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("m.gguf");
        Result r = Cli.run("convert", "--type", "f16", "-o", out.toString(), "--",
                Cli.root().resolve("testdata/checkpoints/llama-f32").toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(out).isRegularFile();
    }

    private static String decodeWithoutBos(String model, JsonNode ids) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i < ids.size(); i++) sb.append(i == 1 ? "" : ",").append(ids.get(i).asInt());
        assertThat(ids.get(0).asInt()).as("BOS first").isEqualTo(1);
        Result d = Cli.run("detokenize", "-m", model, "--tokens", sb.toString(), "--json");
        assertThat(d.code()).as(d.err()).isZero();
        return d.json().get("text").asText();
    }
}
