package io.github.mobilellm4j.convert;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Progress of one task (done/total, percent, rate, time left) on a stream. On a terminal: one line redrawn in
 * place at most ten times a second, with a carriage return and spaces over the previous text (no escape codes,
 * so any terminal shows it). Otherwise (a file or a pipe): a plain line at most every {@value #LINE_SECONDS}
 * seconds, so a log gets a few readable lines and no carriage returns.
 */
public final class ProgressLine {
    static final long LINE_SECONDS = 5;
    private static final long REDRAW_NANOS = 100_000_000L;
    private static final int WIDTH = 79; // wider lines wrap, and a carriage return no longer reaches their start

    private final PrintStream out;
    private final boolean terminal;
    private final String task;
    private final long total;
    private final String unit; // null: amounts are bytes, shown in MB
    private final LongSupplier clock;
    private final long start;
    private long lastShown;
    private int shownWidth; // characters of the redrawn line on screen; 0 when none

    ProgressLine(PrintStream out, boolean terminal, String task, long total, String unit, LongSupplier clock) {
        this.out = out;
        this.terminal = terminal;
        this.task = task;
        this.total = total;
        this.unit = unit;
        this.clock = clock;
        this.start = clock.getAsLong();
        this.lastShown = start;
    }

    /** Progress in bytes, shown in MB. */
    public static ProgressLine bytes(PrintStream out, boolean terminal, String task, long totalBytes) {
        return new ProgressLine(out, terminal, task, totalBytes, null, System::nanoTime);
    }

    /** Progress in items of a unit ("windows"). */
    public static ProgressLine count(PrintStream out, boolean terminal, String task, long total, String unit) {
        return new ProgressLine(out, terminal, task, total, unit, System::nanoTime);
    }

    /** done of total; detail (may be empty) follows the figures. Shown only when the last showing is old enough. */
    public synchronized void update(long done, String detail) {
        long now = clock.getAsLong();
        if (now - lastShown < (terminal ? REDRAW_NANOS : LINE_SECONDS * 1_000_000_000L) && done < total) return;
        if (!terminal && done >= total) return; // the caller's closing line says it is finished
        lastShown = now;
        double seconds = (now - start) / 1e9;
        String figures = String.format(Locale.ROOT, "%s (%d%%), %s, %s", amount(done), percent(done), rate(done, seconds),
                eta(done, seconds));
        String suffix = detail.isEmpty() ? "" : " " + detail;
        if (!terminal) {
            out.println(task + ": " + figures + suffix);
            return;
        }
        String line = task + " " + figures + suffix;
        if (line.length() > WIDTH) line = line.substring(0, WIDTH);
        int pad = Math.max(0, shownWidth - line.length());
        out.print("\r" + line + " ".repeat(pad));
        out.flush();
        shownWidth = line.length();
    }

    /** Erases the redrawn line (on a terminal) so that other output starts on a clean line. */
    public synchronized void clear() {
        if (shownWidth > 0) {
            out.print("\r" + " ".repeat(shownWidth) + "\r");
            out.flush();
            shownWidth = 0;
        }
    }

    private String amount(long done) {
        if (unit == null) return String.format(Locale.ROOT, "%.1f/%.1f MB", done / 1e6, total / 1e6);
        return done + "/" + total + " " + unit;
    }

    private int percent(long done) {
        return total <= 0 ? 100 : (int) (100 * done / total);
    }

    private String rate(long done, double seconds) {
        double r = done / Math.max(seconds, 1e-9);
        return unit == null ? String.format(Locale.ROOT, "%.1f MB/s", r / 1e6) : String.format(Locale.ROOT, "%.2f %s/s", r, unit);
    }

    private String eta(long done, double seconds) {
        if (done <= 0) return "ETA ?";
        long left = Math.round(seconds * (total - done) / done);
        return left >= 3600 ? String.format(Locale.ROOT, "ETA %d:%02d:%02d", left / 3600, left / 60 % 60, left % 60)
                : String.format(Locale.ROOT, "ETA %d:%02d", left / 60, left % 60);
    }
}
