package io.github.mobilellm4j.chat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rewrites a Jinja template so that Jinjava gives it Python Jinja's meaning:
 * <ul>
 *   <li>one newline at the end of the template is dropped;</li>
 *   <li>whitespace control ({@code {{-}}, {@code -%}} ...) is applied to the text here, as
 *       Python's lexer does (Jinjava leaves the whitespace a trim_blocks-removed newline
 *       exposes);</li>
 *   <li>{@code x[::-1]} becomes {@code x|py_reversed} (Jinjava's parser has no slice step) and
 *       {@code x[i]} with a literal index {@code (x|py_item(i))} (Jinjava cannot index strings);</li>
 *   <li>{@code not x is test} becomes {@code not (x is test)} and {@code a|f is test} becomes
 *       {@code (a|f) is test} (Python's precedence);</li>
 *   <li>keyword arguments of {@code namespace(...)} get parentheses, so {@code n=a|length - 1}
 *       keeps its meaning.</li>
 * </ul>
 * Text outside tags and string literals inside tags are left alone.
 */
final class TemplatePrepass {
    private static final String CHAIN = "[A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*|\\[[^\\[\\]]*\\])*";
    private static final Pattern REVERSED = Pattern.compile("(" + CHAIN + ")\\[\\s*:\\s*:\\s*-1\\s*\\]");
    private static final Pattern INDEX = Pattern.compile("(" + CHAIN + ")\\[\\s*(-?\\d+)\\s*\\]");
    private static final Pattern NOT_IS = Pattern.compile("\\bnot\\s+(" + CHAIN + "\\s+is\\s+(?:not\\s+)?[A-Za-z_]\\w*)");
    private static final Pattern FILTER_IS = Pattern.compile(
            "(" + CHAIN + "(?:\\s*\\|\\s*[A-Za-z_]\\w*(?:\\([^()]*\\))?)+)\\s+is\\s+");

    private TemplatePrepass() {}

    static String apply(String source) {
        // Python's Jinja drops one newline at the end of the template (keep_trailing_newline=False)
        String template = source.endsWith("\r\n") ? source.substring(0, source.length() - 2)
                : source.endsWith("\n") || source.endsWith("\r") ? source.substring(0, source.length() - 1) : source;
        StringBuilder out = new StringBuilder(template.length());
        int i = 0, n = template.length();
        boolean stripNext = false; // the previous tag ended with '-'
        while (i < n) {
            int open = nextTag(template, i);
            String text = template.substring(i, open < 0 ? n : open);
            if (stripNext) text = text.stripLeading();
            if (open < 0) {
                out.append(text);
                break;
            }
            char kind = template.charAt(open + 1);
            boolean stripBefore = open + 2 < n && template.charAt(open + 2) == '-';
            if (stripBefore) text = text.stripTrailing();
            out.append(text);
            int close = tagEnd(template, open + 2, kind);
            if (close < 0) { // unterminated: leave the rest for Jinjava to report
                out.append(template, open, n);
                break;
            }
            String inner = template.substring(open + (stripBefore ? 3 : 2), close);
            stripNext = inner.endsWith("-");
            if (stripNext) inner = inner.substring(0, inner.length() - 1);
            out.append('{').append(kind).append(kind == '#' ? inner : rewrite(inner)).append(closer(kind)).append('}');
            i = close + 2;
        }
        return out.toString();
    }

    private static char closer(char kind) {
        return kind == '{' ? '}' : kind;
    }

    /** Start of the next "{{", "{%" or "{#" at or after i, or -1. */
    private static int nextTag(String t, int i) {
        for (int k = t.indexOf('{', i); k >= 0 && k + 1 < t.length(); k = t.indexOf('{', k + 1)) {
            char c = t.charAt(k + 1);
            if (c == '{' || c == '%' || c == '#') return k;
        }
        return -1;
    }

    /** Index of the closing "}}", "%}" or "#}" of a tag whose content starts at i; string literals are skipped. */
    private static int tagEnd(String t, int i, char kind) {
        char end = closer(kind);
        char quote = 0;
        for (int k = i; k + 1 < t.length(); k++) {
            char c = t.charAt(k);
            if (kind != '#' && quote != 0) {
                if (c == '\\') k++;
                else if (c == quote) quote = 0;
            } else if (kind != '#' && (c == '\'' || c == '"')) {
                quote = c;
            } else if (c == end && t.charAt(k + 1) == '}') {
                return k;
            }
        }
        return -1;
    }

    /** Rewrites the code of one tag outside its string literals. */
    static String rewrite(String code) {
        if (!hasCode(code)) return code;
        String s = replaceOutsideLiterals(code, REVERSED, m -> {
            // parentheses only where a subscript or attribute follows: (x|py_reversed)[0]
            boolean follows = m.end() < code.length() && (code.charAt(m.end()) == '[' || code.charAt(m.end()) == '.');
            return follows ? "(" + m.group(1) + "|py_reversed)" : m.group(1) + "|py_reversed";
        });
        s = replaceOutsideLiterals(s, INDEX, m -> "(" + m.group(1) + "|py_item(" + m.group(2) + "))");
        s = replaceOutsideLiterals(s, NOT_IS, m -> "not (" + m.group(1) + ")");
        s = replaceOutsideLiterals(s, FILTER_IS, m -> "(" + m.group(1) + ") is ");
        return namespaceKwargs(s);
    }

    private static boolean hasCode(String s) {
        return s.contains("[") || s.contains(" is ") || s.contains("namespace(");
    }

    /** Applies a pattern only where the match does not start inside a string literal. */
    private static String replaceOutsideLiterals(String s, Pattern p, java.util.function.Function<Matcher, String> f) {
        boolean[] inLiteral = literalMask(s);
        Matcher m = p.matcher(s);
        StringBuilder b = new StringBuilder();
        int last = 0;
        while (m.find()) {
            if (inLiteral[m.start()]) continue;
            b.append(s, last, m.start()).append(f.apply(m));
            last = m.end();
        }
        return b.append(s.substring(last)).toString();
    }

    private static boolean[] literalMask(String s) {
        boolean[] mask = new boolean[s.length() + 1];
        char quote = 0;
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            mask[k] = quote != 0 || c == '\'' || c == '"';
            if (quote != 0) {
                if (c == '\\') {
                    if (k + 1 < s.length()) mask[++k] = true;
                } else if (c == quote) quote = 0;
            } else if (c == '\'' || c == '"') quote = c;
        }
        return mask;
    }

    /** namespace(a=x - 1, b=y) becomes namespace(a=(x - 1), b=(y)). */
    private static String namespaceKwargs(String s) {
        int at = s.indexOf("namespace(");
        if (at < 0) return s;
        boolean[] lit = literalMask(s);
        if (lit[at]) return s;
        int start = at + "namespace(".length();
        int depth = 0, k = start;
        StringBuilder args = new StringBuilder();
        int argStart = start;
        for (; k < s.length(); k++) {
            char c = s.charAt(k);
            if (lit[k]) continue;
            if (c == '(' || c == '[' || c == '{') depth++;
            else if ((c == ')' || c == ']' || c == '}') && depth > 0) depth--;
            else if ((c == ',' || c == ')') && depth == 0) {
                args.append(wrapKwarg(s.substring(argStart, k)));
                if (c == ')') break;
                args.append(',');
                argStart = k + 1;
            }
        }
        if (k >= s.length()) return s;
        return s.substring(0, start) + args + namespaceKwargs(s.substring(k));
    }

    private static String wrapKwarg(String arg) {
        Matcher m = Pattern.compile("^(\\s*[A-Za-z_]\\w*\\s*)=(?!=)(.*)$", Pattern.DOTALL).matcher(arg);
        return m.matches() ? m.group(1) + "=(" + m.group(2) + ")" : arg;
    }
}
