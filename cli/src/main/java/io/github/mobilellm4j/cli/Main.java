package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.Engine;
import io.github.mobilellm4j.convert.Terminal;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.List;

/**
 * The mobilellm command-line tool. Exit codes: 0 success, 1 failure (including missing or unreadable files and
 * models that do not load), 2 usage error (unknown command or option, missing or invalid option value).
 */
public final class Main {
    private static final List<Command> COMMANDS = List.of(new GenerateCommand(), new ChatCommand(), new TokenizeCommand(),
            new DetokenizeCommand(), new LogitsCommand(), new PerplexityCommand(), new EvalCommand(), new EmbedCommand(),
            new InfoCommand(), new BenchCommand(), new ServeCommand(), new PullCommand(), new ConvertCommand(),
            new QuantizeCommand(), new SynthCommand());

    private Main() {
    }

    public static void main(String[] argv) {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.exit(run(argv, new Streams(System.in, out, System.err, Terminal.stderrIsTerminal())));
    }

    /** Runs one command line; returns the exit code. */
    static int run(String[] argv, Streams io) {
        if (argv.length == 0) {
            io.err().print(overview());
            return 2;
        }
        String first = argv[0];
        if (first.equals("help") || first.equals("--help") || first.equals("-h")) return help(argv, io);
        if (first.equals("--version")) {
            io.out().println("mobilellm " + Engine.version());
            return 0;
        }
        Command c = find(first);
        if (c == null) return unknownCommand(first, io);
        String prefix = "mobilellm " + c.name() + ": ";
        try {
            Args args = Args.parse(c.name(), argv, 1, c.options(), c.maxPositional());
            if (args.help()) {
                io.out().print(c.usage());
                return 0;
            }
            return c.run(args, io);
        } catch (UsageException e) {
            io.err().println(prefix + e.getMessage());
            return 2;
        } catch (IOException e) {
            io.err().println(prefix + describe(e));
            return 1;
        } catch (UncheckedIOException e) {
            io.err().println(prefix + describe(e.getCause()));
            return 1;
        } catch (Exception e) {
            // Failure, MobileLlmException, ConversionException and the API's argument checks carry their own message
            io.err().println(prefix + (e.getMessage() != null ? e.getMessage() : e.toString()));
            return 1;
        }
    }

    /** help [COMMAND]: the overview, or one command's usage. */
    private static int help(String[] argv, Streams io) {
        if (argv.length == 1) {
            io.out().print(overview());
            return 0;
        }
        if (argv.length > 2) {
            io.err().println("mobilellm help: give one command name (see mobilellm help)");
            return 2;
        }
        Command c = find(argv[1]);
        if (c == null) return unknownCommand(argv[1], io);
        io.out().print(c.usage());
        return 0;
    }

    private static Command find(String name) {
        for (Command c : COMMANDS) {
            if (c.name().equals(name)) return c;
        }
        return null;
    }

    private static int unknownCommand(String name, Streams io) {
        io.err().println("mobilellm: unknown command '" + name + "' (see mobilellm help)");
        return 2;
    }

    private static String describe(IOException e) {
        if (e instanceof NoSuchFileException f) return f.getFile() + ": " + (f.getReason() != null ? f.getReason() : "no such file");
        if (e instanceof AccessDeniedException f) return f.getFile() + ": permission denied";
        if (e instanceof FileSystemException f && f.getReason() != null) return f.getFile() + ": " + f.getReason();
        return "I/O error: " + e.getMessage();
    }

    static String overview() {
        StringBuilder sb = new StringBuilder("""
                usage: mobilellm COMMAND [options]      (mobilellm help COMMAND for details)
                Runs MobileLLM models in-process on the JVM. Commands:
                """);
        for (Command c : COMMANDS) sb.append(String.format("  %-11s %s%n", c.name(), c.summary()));
        return sb.toString();
    }
}
