package io.github.mobilellm4j.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * Parsed command line of one command. Each command declares its options, so a typo is an error rather than
 * silently ignored. As in llama.cpp's tools, an option that takes a value takes the next argument whatever it
 * looks like ({@code -p "--x"} is the prompt "--x"); {@code --name=value} works for every long option, and
 * {@code --} ends the options (everything after it is positional). Messages name options as the user typed them.
 */
final class Args {
    private final String command;
    private final Map<String, Option> byName = new HashMap<>();
    private final Map<String, List<String>> values = new HashMap<>();
    private final Map<String, String> typed = new HashMap<>();
    private final List<String> positional = new ArrayList<>();
    private boolean help;

    private Args(String command, List<Option> options) {
        this.command = command;
        for (Option o : options) {
            for (String n : o.names()) byName.put(n, o);
        }
    }

    /** Parses argv[from..]; at most maxPositional arguments that are not options. */
    static Args parse(String command, String[] argv, int from, List<Option> options, int maxPositional) {
        Args a = new Args(command, options);
        boolean optionsEnded = false;
        for (int i = from; i < argv.length; i++) {
            String arg = argv[i];
            if (optionsEnded || !arg.startsWith("-") || arg.equals("-")) {
                a.positional.add(arg);
                continue;
            }
            if (arg.equals("--")) {
                optionsEnded = true;
                continue;
            }
            String name = arg;
            String inline = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                inline = arg.substring(eq + 1);
            }
            if ((name.equals("--help") || name.equals("-h")) && inline == null) {
                a.help = true;
                continue;
            }
            Option o = a.byName.get(name);
            if (o == null) throw new UsageException("unknown option " + name + " (see mobilellm " + command + " --help)");
            String value;
            if (o.valued()) {
                if (inline != null) {
                    value = inline;
                } else if (i + 1 < argv.length) {
                    value = argv[++i];
                } else {
                    throw new UsageException("option " + name + " needs a value");
                }
            } else if (inline != null) {
                throw new UsageException("option " + name + " takes no value");
            } else {
                value = "true";
            }
            a.values.computeIfAbsent(o.key(), k -> new ArrayList<>()).add(value);
            a.typed.put(o.key(), name);
        }
        if (!a.help && a.positional.size() > maxPositional) {
            String extra = a.positional.get(maxPositional);
            throw new UsageException("unexpected argument '" + extra + "' (see mobilellm " + command + " --help)");
        }
        return a;
    }

    /** --help or -h was given. */
    boolean help() {
        return help;
    }

    private String key(String name) {
        Option o = byName.get(name);
        if (o == null) throw new IllegalArgumentException("option " + name + " is not declared by " + command);
        return o.key();
    }

    boolean has(String name) {
        return values.containsKey(key(name));
    }

    /** Whether the command takes the option at all. */
    boolean declares(String name) {
        return byName.containsKey(name);
    }

    /** The last value given for the option (any of its spellings), or null. */
    String get(String name) {
        List<String> v = values.get(key(name));
        return v == null ? null : v.get(v.size() - 1);
    }

    List<String> all(String name) {
        return values.getOrDefault(key(name), List.of());
    }

    /** The spelling the user typed for the option (the declared name if it was not given). */
    String typed(String name) {
        return typed.getOrDefault(key(name), key(name));
    }

    int intValue(String name, int def) {
        String v = get(name);
        if (v == null) return def;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(typed(name) + " expects an integer, got '" + v + "'");
        }
    }

    long longValue(String name, long def) {
        String v = get(name);
        if (v == null) return def;
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(typed(name) + " expects an integer, got '" + v + "'");
        }
    }

    float floatValue(String name, float def) {
        String v = get(name);
        if (v == null) return def;
        if (!isNumber(v.trim())) throw new UsageException(typed(name) + " expects a number, got '" + v + "'");
        return Float.parseFloat(v.trim());
    }

    /** When the option is given: its integer value to the setter, whose IllegalArgumentException names the option. */
    void withInt(String name, IntConsumer setter) {
        if (has(name)) {
            int v = intValue(name, 0);
            checked(name, () -> setter.accept(v));
        }
    }

    void withFloat(String name, Consumer<Float> setter) {
        if (has(name)) {
            float v = floatValue(name, 0);
            checked(name, () -> setter.accept(v));
        }
    }

    /**
     * Runs an API call made with the option's value. The API's IllegalArgumentException names its own parameter
     * ("topP must be in (0, 1], got 2.0"); the user sees the option they typed ("--top-p must be in (0, 1], got 2").
     */
    private void checked(String name, Runnable apiCall) {
        try {
            apiCall.run();
        } catch (IllegalArgumentException e) {
            String m = String.valueOf(e.getMessage());
            int must = m.indexOf(" must ");
            if (must < 0) throw new UsageException(typed(name) + " " + get(name) + ": " + m);
            throw invalid(name, m.substring(must + 1).replaceFirst(", got .*$", ""));
        }
    }

    /** A usage error for a value that breaks a rule: "--top must be >= 1, got 0". */
    UsageException invalid(String name, String rule) {
        String v = get(name);
        return new UsageException(typed(name) + " " + rule + ", got " + (isNumber(v) ? v : "'" + v + "'"));
    }

    private static boolean isNumber(String s) {
        try {
            return s != null && Double.isFinite(Double.parseDouble(s));
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** "1,2,3" or "1 2 3" to token ids; null when the option is not given. */
    int[] tokens(String name) {
        String v = get(name);
        if (v == null) return null;
        if (v.isBlank()) return new int[0];
        String[] parts = v.trim().split("[,\\s]+");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new UsageException(typed(name) + " expects comma-separated token ids, got '" + parts[i] + "'");
            }
        }
        return out;
    }

    List<String> positional() {
        return positional;
    }
}
