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

    private static String oneLine(String s) {
        return s == null ? "unknown error" : s.replace('\r', ' ').replace('\n', ' ');
    }
}
