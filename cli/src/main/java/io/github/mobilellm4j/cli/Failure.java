package io.github.mobilellm4j.cli;

/** The command could not do its work (a missing or unreadable file, for example): exit code 1 and a one-line message. */
final class Failure extends RuntimeException {
    Failure(String message) {
        super(message);
    }
}
