package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.convert.OutputType;

/** --type values of convert and quantize. */
final class Types {
    private Types() {
    }

    static OutputType parse(String s) {
        try {
            return OutputType.parse(s);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
