package io.github.mobilellm4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mobilellm4j.cli.Cli.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Usage errors, help and exit codes: 0 success, 1 failure (files included), 2 usage error, one-line messages. */
class UsageTest {
    static String model;

    @BeforeAll
    static void model() throws Exception {
        model = Cli.model().toString();
    }

    static Stream<Arguments> usageErrors() {
        return Stream.of(
                Arguments.of(List.of("generate", "-p", "x", "--tempp", "1"),
                        "mobilellm generate: unknown option --tempp (see mobilellm generate --help)"),
                Arguments.of(List.of("generate", "-p", "x", "-n", "many"), "mobilellm generate: -n expects an integer, got 'many'"),
                Arguments.of(List.of("generate", "-p", "x", "--temp", "NaN"), "mobilellm generate: --temp expects a number, got 'NaN'"),
                Arguments.of(List.of("generate"), "mobilellm generate: a prompt is required (-p TEXT, -f FILE or --tokens IDS)"),
                Arguments.of(List.of("generate", "-p", "x", "extra"),
                        "mobilellm generate: unexpected argument 'extra' (see mobilellm generate --help)"),
                Arguments.of(List.of("generate", "-p", "x", "--json=yes"), "mobilellm generate: option --json takes no value"),
                Arguments.of(List.of("generate", "-p"), "mobilellm generate: option -p needs a value"),
                Arguments.of(List.of("convert"), "mobilellm convert: give one Hugging Face folder (HF_DIR)"),
                Arguments.of(List.of("quantize", "a.gguf"), "mobilellm quantize: give IN.gguf and OUT.gguf"),
                Arguments.of(List.of("quantize", "a.gguf", "b.gguf", "--type", "q9"),
                        "mobilellm quantize: --type: unknown output type 'q9' (expected one of "),
                Arguments.of(List.of("perplexity", "--ctx", "8"), "mobilellm perplexity: a text file is required (-f FILE)"),
                Arguments.of(List.of("synth", "-o", "x"), "mobilellm synth: a shape is required (--shape 125M, 350M, 600M, 1B or 1.5B)"),
                Arguments.of(List.of("detokenize"), "mobilellm detokenize: token ids are required (--tokens 1,2,3)"),
                Arguments.of(List.of("tokenize", "-p", "a", "-f", "b"), "mobilellm tokenize: give either -p TEXT or -f FILE, not both"),
                Arguments.of(List.of("bench"), "mobilellm bench: a model is required (-m FILE or --shape 125M, 350M, 600M, 1B or 1.5B)"),
                Arguments.of(List.of("bench", "--shape", "7B"), "mobilellm bench: --shape must be 125M, 350M, 600M, 1B or 1.5B, got '7B'"),
                Arguments.of(List.of("bench", "--shape", "125M", "--type", "q9"), "mobilellm bench: --type must be one of "),
                Arguments.of(List.of("bench", "--shape", "125M", "-m", "x.gguf"), "mobilellm bench: give either -m FILE or --shape, not both"),
                Arguments.of(List.of("bench", "-m", "x.gguf", "--type", "q8_0"), "mobilellm bench: --type goes with --shape"),
                Arguments.of(List.of("serve", "--port", "70000"), "mobilellm serve: --port must be in [0, 65535], got 70000"),
                Arguments.of(List.of("serve", "--parallel", "0"), "mobilellm serve: --parallel must be in 1..256, got 0"),
                Arguments.of(List.of("serve", "--timeout", "0"), "mobilellm serve: --timeout must be > 0, got 0"),
                Arguments.of(List.of("serve", "--max-request-bytes", "10"), "mobilellm serve: --max-request-bytes must be >= 1024, got 10"));
    }

    @ParameterizedTest
    @MethodSource("usageErrors")
    void usageErrorsExitTwoWithOnePrefixedLine(List<String> args, String expected) {
        Result r = Cli.run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).startsWith(expected).endsWith("\n");
        assertThat(r.err().lines()).hasSize(1);
        String command = args.get(0);
        assertThat(r.err().split(command + ":", -1)).as("the command is named once: " + r.err()).hasSize(2);
        assertThat(r.out()).isEmpty();
    }

    static Stream<Arguments> invalidValues() {
        return Stream.of(
                Arguments.of(List.of("generate", "-p", "x", "--top-p", "2"), "--top-p must be in (0, 1], got 2"),
                Arguments.of(List.of("generate", "-p", "x", "--top-p=0"), "--top-p must be in (0, 1], got 0"),
                Arguments.of(List.of("generate", "-p", "x", "--min-p", "1.5"), "--min-p must be in [0, 1], got 1.5"),
                Arguments.of(List.of("generate", "-p", "x", "--temp", "-1"), "--temp must be >= 0, got -1"),
                Arguments.of(List.of("generate", "-p", "x", "--top-k", "-1"), "--top-k must be >= 0, got -1"),
                Arguments.of(List.of("generate", "-p", "x", "--repeat-penalty", "0"), "--repeat-penalty must be > 0, got 0"),
                Arguments.of(List.of("generate", "-p", "x", "--repeat-last-n", "-2"), "--repeat-last-n must be >= 0, got -2"),
                Arguments.of(List.of("generate", "-p", "x", "-n", "-3"), "-n must be >= 0, got -3"),
                Arguments.of(List.of("generate", "-p", "x", "--n-predict", "-3"), "--n-predict must be >= 0, got -3"),
                Arguments.of(List.of("generate", "-p", "x", "--threads", "-1"), "--threads must be >= 0, got -1"),
                Arguments.of(List.of("generate", "-p", "x", "-t", "-1"), "-t must be >= 0, got -1"),
                Arguments.of(List.of("generate", "-p", "x", "--ctx=-5"), "--ctx must be > 0, 0 (the default) or -1 (the model's full context), got -5"),
                Arguments.of(List.of("generate", "-p", "x", "--stop", ""), "--stop needs a non-empty string"),
                Arguments.of(List.of("generate", "-p", "x", "--backend", "gpu"), "--backend must be cpu, vulkan or auto, got 'gpu'"),
                Arguments.of(List.of("logits", "--tokens", "1", "--top", "0"), "--top must be >= 1, got 0"),
                Arguments.of(List.of("bench", "-r", "0"), "-r must be >= 1, got 0"),
                Arguments.of(List.of("perplexity", "-f", "x", "--ctx", "1"), "--ctx must be >= 2, got 1"),
                Arguments.of(List.of("embed", "-p", "x", "--pooling", "max"), "--pooling must be mean or last, got 'max'"),
                Arguments.of(List.of("detokenize", "--tokens", "1,99999"), "--tokens: token id 99999 is out of range [0, 1024)"));
    }

    @ParameterizedTest
    @MethodSource("invalidValues")
    void invalidValuesNameTheOptionAsTyped(List<String> args, String expected) {
        String[] argv = Stream.concat(args.stream(), Stream.of("-m", model)).toArray(String[]::new);
        Result r = Cli.run(argv);
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("mobilellm " + args.get(0) + ": " + expected + "\n");
    }

    @Test
    void helpCommandPrintsTheCommandsUsage() {
        for (String command : List.of("generate", "tokenize", "detokenize", "logits", "perplexity", "embed", "info", "bench",
                "convert", "quantize", "synth")) {
            Result help = Cli.run("help", command);
            assertThat(help.code()).isZero();
            assertThat(help.out()).startsWith("usage: mobilellm " + command).isEqualTo(Cli.run(command, "--help").out());
        }
        Result overview = Cli.run("help");
        assertThat(overview.code()).isZero();
        assertThat(overview.out()).startsWith("usage: mobilellm COMMAND").contains("  generate ").contains("  convert ");
        Result unknown = Cli.run("help", "frobnicate");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).isEqualTo("mobilellm: unknown command 'frobnicate' (see mobilellm help)\n");
        assertThat(Cli.run("frobnicate").code()).isEqualTo(2);
        Result none = Cli.run();
        assertThat(none.code()).isEqualTo(2);
        assertThat(none.err()).startsWith("usage: mobilellm COMMAND");
    }

    @Test
    void missingOrBadFilesFailWithExitCodeOne(@TempDir Path dir) throws Exception {
        String missing = dir.resolve("missing.gguf").toString();
        Path notGguf = Files.writeString(dir.resolve("notes.txt"), "not a model");
        String folder = dir.toString();
        for (String command : List.of("generate", "tokenize", "embed", "info", "bench", "logits", "detokenize", "perplexity")) {
            List<String> extra = switch (command) {
                case "generate", "tokenize", "embed" -> List.of("-p", "x");
                case "logits", "detokenize" -> List.of("--tokens", "1,2");
                case "perplexity" -> List.of("-f", notGguf.toString(), "--ctx", "8");
                default -> List.of();
            };
            Result r = run(command, extra, "-m", missing);
            assertThat(r.code()).as(command + ": " + r.err()).isEqualTo(1);
            assertThat(r.err()).isEqualTo("mobilellm " + command + ": model file not found: " + missing + "\n");
            Result notAModel = run(command, extra, "-m", notGguf.toString());
            assertThat(notAModel.code()).as(command + ": " + notAModel.err()).isEqualTo(1);
            assertThat(notAModel.err()).startsWith("mobilellm " + command + ": ").contains(notGguf.toString());
            Result isFolder = run(command, extra, "-m", folder);
            assertThat(isFolder.code()).isEqualTo(1);
            assertThat(isFolder.err()).startsWith("mobilellm " + command + ": " + folder + " is a folder; convert");
        }
        Result promptFile = Cli.run("generate", "-m", model, "-f", missing);
        assertThat(promptFile.code()).isEqualTo(1);
        assertThat(promptFile.err()).isEqualTo("mobilellm generate: text file not found: " + missing + "\n");
        Result convert = Cli.run("convert", dir.resolve("no-such-folder").toString(), "-o", dir.resolve("o.gguf").toString());
        assertThat(convert.code()).isEqualTo(1);
        assertThat(convert.err()).startsWith("mobilellm convert: ").contains("no-such-folder");
        Result quantize = Cli.run("quantize", missing, dir.resolve("q.gguf").toString(), "--type", "q4_0");
        assertThat(quantize.code()).isEqualTo(1);
        assertThat(quantize.err()).startsWith("mobilellm quantize: ").contains(missing);
        assertThat(dir.resolve("q.gguf")).doesNotExist();
    }

    private static Result run(String command, List<String> extra, String... more) {
        return Cli.run(Stream.of(Stream.of(command), extra.stream(), Stream.of(more)).flatMap(s -> s).toArray(String[]::new));
    }
}
