package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.MobileLlmException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The mobilellm command-line tool. Exit codes: 0 success, 1 failure, 2 usage error. */
public final class Main {
    private static final List<Command> COMMANDS = List.of(new GenerateCommand(), new TokenizeCommand(),
            new DetokenizeCommand(), new LogitsCommand(), new PerplexityCommand(), new EmbedCommand(), new InfoCommand(),
            new BenchCommand(), new ConvertCommand(), new QuantizeCommand(), new SynthCommand());

    private Main() {
    }

    public static void main(String[] argv) {
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
                StandardCharsets.UTF_8);
        System.exit(run(argv, out, System.err));
    }

    /** Runs one command line; returns the exit code. */
    public static int run(String[] argv, PrintStream out, PrintStream err) {
        if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("-h") || argv[0].equals("help")) {
            out.print(overview());
            return argv.length == 0 ? 2 : 0;
        }
        if (argv[0].equals("--version")) {
            out.println("mobilellm " + io.github.mobilellm4j.Engine.version());
            return 0;
        }
        Map<String, Command> byName = new LinkedHashMap<>();
        for (Command c : COMMANDS) byName.put(c.name(), c);
        Command c = byName.get(argv[0]);
        if (c == null) {
            err.println("mobilellm: unknown command '" + argv[0] + "'");
            err.print(overview());
            return 2;
        }
        for (int i = 1; i < argv.length; i++) {
            if (argv[i].equals("--help") || argv[i].equals("-h")) {
                out.print(c.usage());
                return 0;
            }
        }
        try {
            Args args = Args.parse(c.name(), argv, 1, c.valuedOptions(), c.flagOptions());
            return c.run(args, out, err);
        } catch (UsageException e) {
            err.println("mobilellm " + c.name() + ": " + e.getMessage());
            return 2;
        } catch (MobileLlmException e) {
            err.println("mobilellm " + c.name() + ": " + e.getMessage());
            return 1;
        } catch (io.github.mobilellm4j.convert.ConversionException e) {
            err.println("mobilellm " + c.name() + ": " + e.getMessage());
            return 1;
        } catch (IllegalArgumentException | IllegalStateException e) {
            err.println("mobilellm " + c.name() + ": " + e.getMessage());
            return 1;
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            err.println("mobilellm " + c.name() + ": I/O error: " + e.getMessage());
            return 1;
        } catch (Exception e) {
            err.println("mobilellm " + c.name() + ": " + e);
            return 1;
        }
    }

    static String overview() {
        StringBuilder sb = new StringBuilder("""
                usage: mobilellm COMMAND [options]      (mobilellm COMMAND --help for details)
                Runs MobileLLM models in-process on the JVM. Commands:
                """);
        for (Command c : COMMANDS) sb.append(String.format("  %-11s %s%n", c.name(), c.summary()));
        return sb.toString();
    }
}
