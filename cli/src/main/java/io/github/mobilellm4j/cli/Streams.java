package io.github.mobilellm4j.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.util.Map;

/**
 * Where a command reads and writes: results on out, progress and logs on err, text on in for "-f -"; and the
 * environment variables it reads (the hub's settings).
 *
 * @param errIsTerminal err is a terminal (progress redraws one line) rather than a file or pipe (plain lines)
 */
record Streams(InputStream in, PrintStream out, PrintStream err, boolean errIsTerminal, Map<String, String> env) {
    /** With this process's environment. */
    Streams(InputStream in, PrintStream out, PrintStream err, boolean errIsTerminal) {
        this(in, out, err, errIsTerminal, System.getenv());
    }
}
