package io.github.mobilellm4j.chat;

import java.util.Iterator;
import java.util.Map;

/**
 * JSON as Python's json.dumps(value, ensure_ascii=False, indent=indent) writes it, which is what
 * chat templates' {@code tojson} filter produces in transformers: ", " and ": " separators on one
 * line, or "," line breaks and indentation with an indent; non-ASCII characters as they are.
 */
final class PythonJson {
    private PythonJson() {}

    static String dumps(Object value, int indent) {
        StringBuilder out = new StringBuilder();
        write(out, value, indent, 0);
        return out.toString();
    }

    private static void write(StringBuilder out, Object v, int indent, int depth) {
        if (v == null) {
            out.append("null");
        } else if (v instanceof Boolean b) {
            out.append(b ? "true" : "false");
        } else if (v instanceof Number n) {
            out.append(PythonValues.repr(n));
        } else if (v instanceof CharSequence s) {
            string(out, s.toString());
        } else if (v instanceof Map<?, ?> m) {
            container(out, '{', '}', m.entrySet().iterator(), m.isEmpty(), indent, depth);
        } else if (v instanceof Iterable<?> it) {
            container(out, '[', ']', it.iterator(), !it.iterator().hasNext(), indent, depth);
        } else if (v.getClass().isArray() && v instanceof Object[] a) {
            container(out, '[', ']', java.util.Arrays.asList(a).iterator(), a.length == 0, indent, depth);
        } else {
            string(out, v.toString());
        }
    }

    private static void container(StringBuilder out, char open, char close, Iterator<?> items, boolean empty, int indent, int depth) {
        out.append(open);
        if (empty) {
            out.append(close);
            return;
        }
        boolean first = true;
        while (items.hasNext()) {
            Object item = items.next();
            if (!first) out.append(indent > 0 ? "," : ", ");
            first = false;
            if (indent > 0) out.append('\n').append(" ".repeat(indent * (depth + 1)));
            if (item instanceof Map.Entry<?, ?> e) {
                string(out, String.valueOf(e.getKey()));
                out.append(": ");
                write(out, e.getValue(), indent, depth + 1);
            } else {
                write(out, item, indent, depth + 1);
            }
        }
        if (indent > 0) out.append('\n').append(" ".repeat(indent * depth));
        out.append(close);
    }

    private static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        out.append('"');
    }
}
