package io.github.mobilellm4j.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parsed options of one command. Each command declares which options take a value and which are flags, so
 * a typo is an error rather than silently ignored.
 */
final class Args {
    private final String command;
    private final Map<String, List<String>> values = new HashMap<>();
    private final List<String> positional = new ArrayList<>();

    private Args(String command) {
        this.command = command;
    }

    static Args parse(String command, String[] argv, int from, Set<String> valued, Set<String> flags) {
        Args a = new Args(command);
        for (int i = from; i < argv.length; i++) {
            String arg = argv[i];
            if (arg.startsWith("-") && arg.length() > 1 && !isNumber(arg)) {
                String name = arg;
                String inline = null;
                int eq = arg.indexOf('=');
                if (arg.startsWith("--") && eq > 0) {
                    name = arg.substring(0, eq);
                    inline = arg.substring(eq + 1);
                }
                if (valued.contains(name)) {
                    String v = inline;
                    if (v == null) {
                        if (i + 1 >= argv.length) throw new UsageException(command + ": option " + name + " needs a value");
                        v = argv[++i];
                    }
                    a.values.computeIfAbsent(name, k -> new ArrayList<>()).add(v);
                } else if (flags.contains(name) && inline == null) {
                    a.values.computeIfAbsent(name, k -> new ArrayList<>()).add("true");
                } else {
                    throw new UsageException(command + ": unknown option " + name + " (see mobilellm " + command + " --help)");
                }
            } else {
                a.positional.add(arg);
            }
        }
        return a;
    }

    private static boolean isNumber(String s) {
        try {
            Double.parseDouble(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    String get(String name) {
        List<String> v = values.get(name);
        return v == null ? null : v.get(v.size() - 1);
    }

    List<String> all(String name) {
        return values.getOrDefault(name, List.of());
    }

    String get(String a, String b) {
        String v = get(a);
        return v != null ? v : get(b);
    }

    String require(String name, String what) {
        String v = get(name);
        if (v == null) throw new UsageException(command + ": " + what + " is required (" + name + ")");
        return v;
    }

    int intValue(String name, int def) {
        String v = get(name);
        if (v == null) return def;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": " + name + " expects an integer, got '" + v + "'");
        }
    }

    long longValue(String name, long def) {
        String v = get(name);
        if (v == null) return def;
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": " + name + " expects an integer, got '" + v + "'");
        }
    }

    float floatValue(String name, float def) {
        String v = get(name);
        if (v == null) return def;
        try {
            return Float.parseFloat(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": " + name + " expects a number, got '" + v + "'");
        }
    }

    /** "1,2,3" or "1 2 3" to token ids. */
    int[] tokens(String name) {
        String v = get(name);
        if (v == null) return null;
        String[] parts = v.trim().split("[,\\s]+");
        if (v.isBlank()) return new int[0];
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new UsageException(command + ": " + name + " expects comma-separated token ids, got '" + parts[i] + "'");
            }
        }
        return out;
    }

    List<String> positional() {
        return positional;
    }
}
