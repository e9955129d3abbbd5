package io.github.mobilellm4j.convert;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Progress on stderr: a redrawn one-line bar (tensors done, MB done/total, MB/s) when a console
 * is attached (System.console() != null), otherwise one plain line per tensor.
 */
public final class ConsoleProgress implements ProgressListener {
    private final PrintStream out;
    private final boolean interactive;
    private final boolean verbose;
    private int total;
    private int done;
    private long totalBytes;
    private long startNanos;
    private long lastDraw;
    private boolean barShown;

    public ConsoleProgress() {
        this(System.err, System.console() != null, false);
    }

    /** @param verbose also print notes (warnings are always printed) */
    public ConsoleProgress(PrintStream out, boolean interactive, boolean verbose) {
        this.out = out;
        this.interactive = interactive;
        this.verbose = verbose;
    }

    @Override
    public synchronized void begin(String task, int tensors, long bytes) {
        total = tensors;
        done = 0;
        totalBytes = bytes;
        startNanos = System.nanoTime();
        lastDraw = 0;
        clearBar();
        out.println(task + ": " + tensors + " tensors, " + mb(bytes) + " MB");
    }

    @Override
    public synchronized void tensorStart(String name, GgmlType type, long[] ne) {
        if (!interactive) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < ne.length; i++) sb.append(i == 0 ? "" : ", ").append(ne[i]);
            out.printf(Locale.ROOT, "[%" + width() + "d/%d] %-32s %-5s [%s]%n", done + 1, total, name, type.lowerName(), sb);
        }
    }

    @Override
    public synchronized void tensorDone(String name, long bytes, long bytesDone) {
        done++;
        if (interactive) {
            long now = System.nanoTime();
            if (done == total || now - lastDraw > 100_000_000L) {
                lastDraw = now;
                draw(bytesDone, name);
            }
        }
    }

    @Override
    public synchronized void end(Path output, long fileBytes) {
        clearBar();
        double s = (System.nanoTime() - startNanos) / 1e9;
        out.printf(Locale.ROOT, "wrote %s (%s MB) in %.1f s%n", output, mb(fileBytes), s);
    }

    @Override
    public synchronized void note(String message) {
        if (verbose) {
            clearBar();
            out.println("note: " + message);
        }
    }

    @Override
    public synchronized void warn(String message) {
        clearBar();
        out.println("warning: " + message);
    }

    private int width() {
        return Integer.toString(Math.max(total, 1)).length();
    }

    private void draw(long bytesDone, String name) {
        int cells = 30;
        int filled = totalBytes == 0 ? cells : (int) (cells * (double) bytesDone / totalBytes);
        double s = Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
        String bar = "#".repeat(Math.min(cells, filled)) + ".".repeat(Math.max(0, cells - filled));
        String line = String.format(Locale.ROOT, "\r[%s] %d/%d tensors  %s/%s MB  %.1f MB/s  %s",
                bar, done, total, mb(bytesDone), mb(totalBytes), bytesDone / 1e6 / s, name);
        if (line.length() > 120) line = line.substring(0, 120);
        out.print(line + "\u001b[K");
        out.flush();
        barShown = true;
    }

    private void clearBar() {
        if (barShown) {
            out.print("\r\u001b[K");
            barShown = false;
        }
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / 1e6);
    }
}
