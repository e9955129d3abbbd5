package io.github.mobilellm4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mobilellm4j.cli.Cli.Result;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/** Progress on standard error: redrawn on a terminal, plain lines (no carriage returns, no escapes) elsewhere. */
class ProgressTest {
    @Test
    void perplexityShowsWindowsDoneOfTotal() throws Exception {
        String text = Cli.root().resolve("reference/corpus/MPL-2.0").toString();
        String[] args = {"perplexity", "-m", Cli.model().toString(), "-f", text, "--ctx", "64"};
        Result terminal = Cli.runWith("", true, args);
        assertThat(terminal.code()).as(terminal.err()).isZero();
        // the reference's 95 windows (testdata/reference/llama-f32.json); the last state is always drawn
        assertThat(terminal.err()).contains("\rperplexity 95/95 windows (100%), ").doesNotContain("\u001b");
        Result log = Cli.runWith("", false, args);
        assertThat(log.code()).isZero();
        assertThat(log.err()).doesNotContain("\r", "\u001b");
        assertThat(log.out()).isEqualTo(terminal.out());
    }

    /**
     * convert run as a program under a pseudo-terminal (util-linux script(1)): standard input and output are the
     * terminal while standard error goes to a file, and the other way round. Only the stream progress goes to,
     * standard error, decides: the log gets plain lines, the terminal gets redraws.
     */
    @Test
    @EnabledOnOs(OS.LINUX)
    void convertLooksAtStandardErrorNotAtStandardInputOrOutput(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("convert.log");
        String toLog = convertUnderTerminal(dir, "2>" + quote(log.toString()));
        assertThat(toLog).doesNotContain("wrote");
        String logged = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(logged).contains("wrote ").doesNotContain("\r", "\u001b");

        String onTerminal = convertUnderTerminal(dir, ">" + quote(dir.resolve("stdout.txt").toString()));
        // a pseudo-terminal turns each newline into \r\n; a redraw is a carriage return followed by text
        assertThat(onTerminal).containsPattern("\rwriting [^\r\n]*MB \\(").contains("wrote ").doesNotContain("\u001b");
    }

    /** Runs convert as `script -qec "java ... REDIRECT"`; returns what the terminal showed. */
    private static String convertUnderTerminal(Path dir, String redirect) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String command = String.join(" ", List.of(quote(java), "--enable-native-access=ALL-UNNAMED", "-cp",
                quote(System.getProperty("java.class.path")), Main.class.getName(), "convert",
                quote(Cli.root().resolve("testdata/checkpoints/llama-f32").toString()), "-o",
                quote(dir.resolve("m.gguf").toString()), "--type", "f16", "--force", redirect));
        Path shown = dir.resolve("terminal.txt");
        ProcessBuilder pb = new ProcessBuilder("script", "-qec", command, "/dev/null")
                .redirectInput(new File("/dev/null")).redirectOutput(shown.toFile()).redirectErrorStream(true);
        pb.environment().remove("MOBILELLM_PROGRESS");
        pb.environment().put("TERM", "xterm");
        Process p = pb.start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String out = Files.readString(shown, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
