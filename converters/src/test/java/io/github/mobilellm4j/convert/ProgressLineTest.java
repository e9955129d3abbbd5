package io.github.mobilellm4j.convert;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** ProgressLine and ConsoleProgress on a terminal and on a log, with a clock the test moves. */
class ProgressLineTest {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    long now = 1_000_000_000L;

    String shown() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    ProgressLine line(boolean terminal, long total, String unit) {
        return new ProgressLine(out, terminal, "perplexity", total, unit, () -> now);
    }

    static long seconds(double s) {
        return (long) (s * 1e9);
    }

    @Test
    void offATerminalPlainLinesEveryFewSeconds() {
        ProgressLine p = line(false, 10, "windows");
        p.update(1, "");
        now += seconds(1);
        p.update(2, "");
        assertThat(shown()).as("nothing before " + ProgressLine.LINE_SECONDS + " s").isEmpty();
        now += seconds(4);
        p.update(3, "");
        // 3 of 10 in 5 s: 0.6 windows/s, 7 left take 11.7 s
        assertThat(shown()).isEqualTo("perplexity: 3/10 windows (30%), 0.60 windows/s, ETA 0:12\n");
        now += seconds(1);
        p.update(4, "");
        now += seconds(5);
        p.update(10, "");
        p.clear();
        assertThat(shown()).as("rate-limited; the finished state is left to the caller's closing line")
                .isEqualTo("perplexity: 3/10 windows (30%), 0.60 windows/s, ETA 0:12\n");
    }

    @Test
    void onATerminalOneLineRedrawnInPlace() {
        ProgressLine p = new ProgressLine(out, true, "writing m.gguf", 40_000_000, null, () -> now);
        p.update(1_000_000, "1/9 tensors blk.0.attn_q.weight");
        assertThat(shown()).as("no redraw within 0.1 s").isEmpty();
        now += seconds(2);
        p.update(8_000_000, "2/9 tensors blk.0.attn_k.weight");
        // 8 MB in 2 s: 4 MB/s, 32 MB left take 8 s; cut at 79 characters so that the line never wraps
        assertThat(shown()).isEqualTo("\rwriting m.gguf 8.0/40.0 MB (20%), 4.0 MB/s, ETA 0:08 2/9 tensors blk.0.attn_k.w");
        int before = shown().length();
        now += seconds(0.05);
        p.update(40_000_000, "9/9 tensors output.weight");
        String last = shown().substring(before);
        assertThat(last).as("the finished state is always drawn").startsWith("\rwriting m.gguf 40.0/40.0 MB (100%)");
        assertThat(last.length() - 1).isLessThanOrEqualTo(79);
        before = shown().length();
        p.clear();
        assertThat(shown().substring(before)).matches("\r {20,79}\r");
        assertThat(shown()).doesNotContain("\u001b", "\n");
    }

    @Test
    void aShorterRedrawCoversTheLongerOne() {
        ProgressLine p = line(true, 100, "windows");
        now += seconds(1);
        p.update(1, "a long detail text");
        int before = shown().length();
        now += seconds(1);
        p.update(2, "");
        String first = shown().substring(0, before);
        String second = shown().substring(before);
        assertThat(second.length()).isEqualTo(first.length());
        assertThat(second).startsWith("\rperplexity 2/100 windows (2%), 1.00 windows/s, ETA 1:38").endsWith(" ");
    }

    /** A conversion's progress in a log: the phase line, at most a line every few seconds, the closing line. */
    @Test
    void consoleProgressOffATerminalIsRateLimited() {
        ConsoleProgress c = new ConsoleProgress(out, false, false);
        c.begin("writing m.gguf", 200, 200_000_000);
        for (int i = 1; i <= 200; i++) {
            c.tensorStart("t" + i, GgmlType.F16, new long[] {1000, 500});
            c.tensorDone("t" + i, 1_000_000, i * 1_000_000L);
        }
        c.end(Path.of("m.gguf"), 200_100_000);
        String[] lines = shown().split("\n");
        assertThat(lines).hasSize(2);
        assertThat(lines[0]).isEqualTo("writing m.gguf: 200 tensors, 200.0 MB");
        assertThat(lines[1]).startsWith("wrote m.gguf (200.1 MB) in ");
        assertThat(shown()).doesNotContain("\r", "\u001b");
    }
}
