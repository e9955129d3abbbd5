package io.github.mobilellm4j.cli;

import java.io.InputStream;
import java.io.PrintStream;

/**
 * Where a command reads and writes: results on out, progress and logs on err, text on in for "-f -".
 *
 * @param errIsTerminal err is a terminal (progress redraws one line) rather than a file or pipe (plain lines)
 */
record Streams(InputStream in, PrintStream out, PrintStream err, boolean errIsTerminal) {
}
