package io.github.mobilellm4j.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * Lines typed by the user: on a terminal through JLine (line editing, history with the arrow keys,
 * Ctrl-C clears the line, Ctrl-D quits), otherwise (a pipe, a file, tests) plain UTF-8 lines.
 */
abstract class LineInput implements AutoCloseable {
    /** The next line, or null at the end of input. */
    abstract String readLine() throws IOException;

    @Override
    public abstract void close() throws IOException;

    /** JLine when the streams are the process's own and it runs on a terminal, else plain lines from io.in(). */
    static LineInput open(Streams io, String prompt) throws IOException {
        if (io.in() == System.in && System.console() != null && System.console().isTerminal()) return new Interactive(prompt);
        return new Plain(new BufferedReader(new InputStreamReader(io.in(), StandardCharsets.UTF_8)));
    }

    private static final class Plain extends LineInput {
        private final BufferedReader reader;

        Plain(BufferedReader reader) {
            this.reader = reader;
        }

        @Override
        String readLine() throws IOException {
            return reader.readLine();
        }

        @Override
        public void close() {
            // the caller's stream: not ours to close
        }
    }

    private static final class Interactive extends LineInput {
        private final Terminal terminal;
        private final LineReader reader;
        private final String prompt;

        Interactive(String prompt) throws IOException {
            this.terminal = TerminalBuilder.builder().system(true).build();
            this.reader = LineReaderBuilder.builder().terminal(terminal).build();
            this.prompt = prompt;
        }

        @Override
        String readLine() {
            while (true) {
                try {
                    return reader.readLine(prompt);
                } catch (UserInterruptException e) {
                    // Ctrl-C: a fresh line, as shells do
                } catch (EndOfFileException e) {
                    return null;
                } catch (UncheckedIOException e) {
                    return null; // the terminal went away
                }
            }
        }

        @Override
        public void close() throws IOException {
            terminal.close();
        }
    }
}
