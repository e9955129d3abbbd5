package io.github.mobilellm4j.convert;

import java.nio.file.Path;

/**
 * The single checked exception of the converter API. Its message is one line naming the file
 * concerned and the problem, suitable for printing as-is by a CLI.
 */
public class ConversionException extends Exception {
    private static final long serialVersionUID = 1L;

    public ConversionException(String message) {
        super(oneLine(message));
    }

    public ConversionException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /** "FILE: problem". */
    public ConversionException(Path file, String problem) {
        this(file + ": " + problem);
    }

    public ConversionException(Path file, String problem, Throwable cause) {
        this(file + ": " + problem, cause);
    }

    /**
     * Wraps an I/O failure on file: "FILE: interrupted" for an interrupted channel, "FILE: file not
     * found", "FILE: permission denied", else "FILE: WHAT: message".
     */
    public static ConversionException io(Path file, String what, java.io.IOException e) {
        if (e instanceof java.nio.channels.ClosedByInterruptException) return new ConversionException(file, "interrupted", e);
        if (e instanceof java.nio.file.NoSuchFileException) return new ConversionException(file, "file not found", e);
        if (e instanceof java.nio.file.AccessDeniedException) return new ConversionException(file, "permission denied", e);
        String m = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        return new ConversionException(file, what + ": " + m, e);
    }

    private static String oneLine(String s) {
        return s == null ? "unknown error" : s.replace('\r', ' ').replace('\n', ' ');
    }
}
