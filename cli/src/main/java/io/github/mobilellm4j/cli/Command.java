package io.github.mobilellm4j.cli;

import java.util.List;

/** One subcommand of the mobilellm tool. */
interface Command {
    String name();

    /** One line for the command list. */
    String summary();

    /** Full usage text. */
    String usage();

    /** The options it accepts (--help and -h are always accepted). */
    List<Option> options();

    /** How many arguments that are not options it accepts. */
    default int maxPositional() {
        return 0;
    }

    /** Runs the command; returns the exit code. Output on out, progress and logs on err. */
    int run(Args args, Streams io) throws Exception;
}
