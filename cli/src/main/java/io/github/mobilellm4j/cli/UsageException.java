package io.github.mobilellm4j.cli;

/** A command line that cannot be run as written: exit code 2 and a one-line message. */
final class UsageException extends RuntimeException {
    UsageException(String message) {
        super(message);
    }
}
