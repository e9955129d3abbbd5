package io.github.mobilellm4j.eval;

import java.util.Locale;

/**
 * The few Python str operations the harness's prompt code uses, with Python's semantics: what counts as
 * whitespace (str.isspace) differs from Java's Character.isWhitespace, and str.capitalize lowercases the rest
 * of the string and title-cases the first character with full case mappings.
 */
final class PythonText {
    private PythonText() {
    }

    /**
     * Python's str.isspace for one code point: bidirectional class WS, B or S, or category Zs (the complete list;
     * Unicode has added none since Python 3.0).
     */
    static boolean isSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
                || cp == 0x3000;
    }

    /** s.rstrip(). */
    static String rstrip(String s) {
        int end = s.length();
        while (end > 0) {
            int cp = s.codePointBefore(end);
            if (!isSpace(cp)) break;
            end -= Character.charCount(cp);
        }
        return s.substring(0, end);
    }

    /** s.lstrip(). */
    static String lstrip(String s) {
        int start = 0;
        while (start < s.length()) {
            int cp = s.codePointAt(start);
            if (!isSpace(cp)) break;
            start += Character.charCount(cp);
        }
        return s.substring(start);
    }

    /** s.strip(). */
    static String strip(String s) {
        return lstrip(rstrip(s));
    }

    /**
     * s.capitalize(): the first character in title case, the rest in lower case (both full mappings, e.g. "ß"
     * becomes "Ss").
     */
    static String capitalize(String s) {
        if (s.isEmpty()) return s;
        int first = s.codePointAt(0);
        int n = Character.charCount(first);
        return titleCase(first) + s.substring(n).toLowerCase(Locale.ROOT);
    }

    /**
     * The full title-case mapping of one code point. Where Unicode gives a single title-case character it is
     * Character.toTitleCase; the characters whose title case is several (SpecialCasing.txt: "ß", ligatures such
     * as "ﬁ", Armenian "և") title-case as their full upper case with all but the first character lowered, except
     * "ŉ", whose title case is its upper case "ʼN".
     */
    static String titleCase(int cp) {
        int simple = Character.toTitleCase(cp);
        String upper = new String(Character.toChars(cp)).toUpperCase(Locale.ROOT);
        if (simple != cp || upper.codePointCount(0, upper.length()) == 1 || cp == 0x149) {
            return simple != cp ? new String(Character.toChars(simple)) : upper;
        }
        int head = Character.charCount(upper.codePointAt(0));
        return upper.substring(0, head) + upper.substring(head).toLowerCase(Locale.ROOT);
    }
}
