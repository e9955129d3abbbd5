package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.convert.OutputType;

/** --type values of convert and quantize. */
final class Types {
    private Types() {
    }

    static OutputType parse(Args a, String name) {
        try {
            return OutputType.parse(a.get(name));
        } catch (IllegalArgumentException e) {
            throw new UsageException(a.typed(name) + ": " + e.getMessage());
        }
    }
}
