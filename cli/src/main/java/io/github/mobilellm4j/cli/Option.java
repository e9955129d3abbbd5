package io.github.mobilellm4j.cli;

import java.util.List;

/**
 * One option of a command: its spellings (the first is the name the code uses, e.g. "-n" for "-n" and
 * "--n-predict") and whether it takes a value.
 */
record Option(List<String> names, boolean valued) {
    static Option valued(String... names) {
        return new Option(List.of(names), true);
    }

    static Option flag(String... names) {
        return new Option(List.of(names), false);
    }

    String key() {
        return names.get(0);
    }
}
