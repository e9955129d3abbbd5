package io.github.mobilellm4j.cli;

import java.io.PrintStream;
import java.util.Set;

/** One subcommand of the mobilellm tool. */
interface Command {
    String name();

    /** One line for the command list. */
    String summary();

    /** Full usage text. */
    String usage();

    Set<String> valuedOptions();

    Set<String> flagOptions();

    /** Runs the command; returns the exit code. Output on out, progress and logs on err. */
    int run(Args args, PrintStream out, PrintStream err) throws Exception;
}
