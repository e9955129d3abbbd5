package io.github.mobilellm4j.convert;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Conversion progress for people: a line when a phase starts, a {@link ProgressLine} (MB done of the total, rate,
 * time left) while tensors are written, and a closing line. On a terminal the progress line is redrawn in place;
 * on a file or pipe it becomes a plain line every few seconds. Verbose mode also lists every tensor and prints
 * notes (warnings are always printed).
 */
public final class ConsoleProgress implements ProgressListener {
    private final PrintStream out;
    private final boolean terminal;
    private final boolean verbose;
    private int total;
    private int done;
    private long startNanos;
    private ProgressLine line;

    /** Progress on standard error, redrawn in place when standard error is a terminal ({@link Terminal}). */
    public ConsoleProgress() {
        this(System.err, Terminal.stderrIsTerminal(), false);
    }

    /**
     * @param terminal out is a terminal: redraw the progress line in place
     * @param verbose also list every tensor and print notes
     */
    public ConsoleProgress(PrintStream out, boolean terminal, boolean verbose) {
        this.out = out;
        this.terminal = terminal;
        this.verbose = verbose;
    }

    @Override
    public synchronized void begin(String task, int tensors, long bytes) {
        clearLine();
        total = tensors;
        done = 0;
        startNanos = System.nanoTime();
        out.println(task + ": " + tensors + " tensors, " + mb(bytes) + " MB");
        // a tensor list is progress enough in a log; the line would only interleave with it
        line = verbose && !terminal ? null : ProgressLine.bytes(out, terminal, task, bytes);
    }

    @Override
    public synchronized void tensorStart(String name, GgmlType type, long[] ne) {
        if (!verbose) return;
        clearLine();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ne.length; i++) sb.append(i == 0 ? "" : ", ").append(ne[i]);
        out.printf(Locale.ROOT, "[%" + Integer.toString(Math.max(total, 1)).length() + "d/%d] %-32s %-5s [%s]%n", done + 1,
                total, name, type.lowerName(), sb);
    }

    @Override
    public synchronized void tensorDone(String name, long bytes, long bytesDone) {
        done++;
        if (line != null) line.update(bytesDone, done + "/" + total + " tensors" + (terminal ? " " + name : ""));
    }

    @Override
    public synchronized void end(Path output, long fileBytes) {
        clearLine();
        double s = (System.nanoTime() - startNanos) / 1e9;
        out.printf(Locale.ROOT, "wrote %s (%s MB) in %.1f s%n", output, mb(fileBytes), s);
    }

    @Override
    public synchronized void note(String message) {
        if (verbose) {
            clearLine();
            out.println("note: " + message);
        }
    }

    @Override
    public synchronized void warn(String message) {
        clearLine();
        out.println("warning: " + message);
    }

    private void clearLine() {
        if (line != null) line.clear();
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / 1e6);
    }
}
