package io.github.mobilellm4j.chat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The Python semantics chat templates rely on and Jinjava (a Java engine) does not have: str
 * methods (strip/lstrip/rstrip with characters, split keeping empty parts, startswith, ...),
 * dict.get/items/keys/values, reversed sequences, number formatting.
 */
final class PythonValues {
    private PythonValues() {}

    static String repr(Number n) {
        if (n instanceof Double || n instanceof Float) {
            double d = n.doubleValue();
            if (d == Math.rint(d) && Math.abs(d) < 1e16) return (long) d + ".0";
            return Double.toString(d);
        }
        return n.toString();
    }

    /** Python's str.strip/lstrip/rstrip: chars null means whitespace. */
    static String strip(String s, String chars, boolean left, boolean right) {
        int a = 0, b = s.length();
        while (left && a < b && strippable(s.charAt(a), chars)) a++;
        while (right && b > a && strippable(s.charAt(b - 1), chars)) b--;
        return s.substring(a, b);
    }

    private static boolean strippable(char c, String chars) {
        return chars == null ? Character.isWhitespace(c) || Character.isSpaceChar(c) : chars.indexOf(c) >= 0;
    }

    /** Python's str.split: by a separator (keeping empty parts), or by whitespace runs when sep is null. */
    static List<String> split(String s, String sep, int maxSplit) {
        List<String> out = new ArrayList<>();
        if (sep == null) {
            int i = 0, n = s.length();
            while (true) {
                while (i < n && Character.isWhitespace(s.charAt(i))) i++;
                if (i >= n) break;
                if (maxSplit >= 0 && out.size() == maxSplit) {
                    out.add(strip(s.substring(i), null, false, true));
                    break;
                }
                int j = i;
                while (j < n && !Character.isWhitespace(s.charAt(j))) j++;
                out.add(s.substring(i, j));
                i = j;
            }
            return out;
        }
        if (sep.isEmpty()) throw new IllegalArgumentException("empty separator");
        int from = 0;
        while (maxSplit < 0 || out.size() < maxSplit) {
            int at = s.indexOf(sep, from);
            if (at < 0) break;
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    static String title(String s) {
        StringBuilder b = new StringBuilder(s.length());
        boolean prevCased = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(prevCased ? Character.toLowerCase(c) : Character.toTitleCase(c));
            prevCased = Character.isLetter(c);
        }
        return b.toString();
    }

    static Object reversed(Object v) {
        if (v instanceof CharSequence s) return new StringBuilder(s).reverse().toString();
        if (v instanceof Iterable<?> it) {
            List<Object> l = new ArrayList<>();
            it.forEach(l::add);
            Collections.reverse(l);
            return l;
        }
        if (v instanceof Object[] a) return reversed(java.util.Arrays.asList(a));
        throw new IllegalArgumentException("cannot reverse " + (v == null ? "none" : v.getClass().getSimpleName()));
    }

    /** Python's x[i] for a literal index: strings and lists (negative from the end), dicts by key; out of range is undefined. */
    static Object item(Object v, long i) {
        if (v instanceof Map<?, ?> m) return m.containsKey(i) ? m.get(i) : m.get((int) i);
        if (v instanceof CharSequence s) {
            long k = i < 0 ? s.length() + i : i;
            return k >= 0 && k < s.length() ? String.valueOf(s.charAt((int) k)) : null;
        }
        if (v instanceof List<?> l) {
            long k = i < 0 ? l.size() + i : i;
            return k >= 0 && k < l.size() ? l.get((int) k) : null;
        }
        if (v instanceof Object[] a) return item(java.util.Arrays.asList(a), i);
        return null;
    }

    /** A str method call, or NOT_HANDLED. */
    static Object strMethod(String s, String name, Object[] a) {
        return switch (name) {
            case "strip" -> strip(s, arg(a, 0), true, true);
            case "lstrip" -> strip(s, arg(a, 0), true, false);
            case "rstrip" -> strip(s, arg(a, 0), false, true);
            case "split" -> split(s, arg(a, 0), a.length > 1 ? ((Number) a[1]).intValue() : -1);
            case "startswith" -> anyOf(a, p -> s.startsWith(p));
            case "endswith" -> anyOf(a, p -> s.endsWith(p));
            case "upper" -> s.toUpperCase(java.util.Locale.ROOT);
            case "lower" -> s.toLowerCase(java.util.Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1).toLowerCase(java.util.Locale.ROOT);
            case "replace" -> a.length > 2
                    ? replaceN(s, String.valueOf(a[0]), String.valueOf(a[1]), ((Number) a[2]).intValue())
                    : s.replace(String.valueOf(a[0]), String.valueOf(a[1]));
            case "find" -> s.indexOf(String.valueOf(a[0]));
            case "count" -> countOf(s, String.valueOf(a[0]));
            case "join" -> String.join(s, strings(a[0]));
            case "isdigit" -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            case "isspace" -> !s.isEmpty() && s.chars().allMatch(Character::isWhitespace);
            default -> NOT_HANDLED;
        };
    }

    /** A dict method call, or NOT_HANDLED. */
    static Object dictMethod(Map<?, ?> m, String name, Object[] a) {
        return switch (name) {
            case "get" -> m.containsKey(a[0]) ? m.get(a[0]) : a.length > 1 ? a[1] : null;
            case "items" -> {
                List<List<Object>> items = new ArrayList<>();
                m.forEach((k, v) -> items.add(java.util.Arrays.asList(k, v)));
                yield items;
            }
            case "keys" -> new ArrayList<>(m.keySet());
            case "values" -> new ArrayList<>(m.values());
            default -> NOT_HANDLED;
        };
    }

    static final Object NOT_HANDLED = new Object();

    private static String arg(Object[] a, int i) {
        return a.length > i && a[i] != null ? String.valueOf(a[i]) : null;
    }

    private static boolean anyOf(Object[] a, java.util.function.Predicate<String> test) {
        if (a.length == 0) throw new IllegalArgumentException("startswith/endswith need an argument");
        for (String p : strings(a[0])) {
            if (test.test(p)) return true;
        }
        return false;
    }

    private static List<String> strings(Object v) {
        List<String> out = new ArrayList<>();
        if (v instanceof Iterable<?> it) it.forEach(x -> out.add(String.valueOf(x)));
        else if (v instanceof Object[] arr) for (Object x : arr) out.add(String.valueOf(x));
        else out.add(String.valueOf(v));
        return out;
    }

    private static String replaceN(String s, String from, String to, int n) {
        StringBuilder b = new StringBuilder();
        int i = 0;
        for (int k = 0; k < n || n < 0; k++) {
            int at = s.indexOf(from, i);
            if (at < 0) break;
            b.append(s, i, at).append(to);
            i = at + from.length();
        }
        return b.append(s.substring(i)).toString();
    }

    private static int countOf(String s, String sub) {
        int c = 0;
        for (int i = s.indexOf(sub); i >= 0 && !sub.isEmpty(); i = s.indexOf(sub, i + sub.length())) c++;
        return c;
    }
}
