package io.github.mobilellm4j.eval;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One dataset row (a JSON object, from JSON Lines or converted from Parquet) with checked field access: a
 * missing field or one of the wrong kind is an IllegalArgumentException naming the task, the item and the field.
 *
 * @param path the field path of this object inside the row ("" for the row, "choices." for a nested object)
 */
record Doc(Task task, int index, JsonNode node, String path) {
    Doc(Task task, int index, JsonNode node) {
        this(task, index, node, "");
    }

    /** A string field. */
    String text(String field) {
        return text(field(field), field);
    }

    /** A list of strings. */
    List<String> texts(String field) {
        JsonNode v = field(field);
        if (!v.isArray()) throw bad(field, "must be a list of strings, got " + kind(v));
        List<String> out = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) out.add(text(v.get(i), field + "[" + i + "]"));
        return out;
    }

    /** A nested object, e.g. ARC's choices. */
    Doc child(String field) {
        JsonNode v = field(field);
        if (!v.isObject()) throw bad(field, "must be an object, got " + kind(v));
        return new Doc(task, index, v, path + field + ".");
    }

    /**
     * An integer label: a JSON integer, a boolean (1/0) or a string of digits (as Jinja's int filter and the
     * harness's literal_eval of digit strings read it).
     */
    int integer(String field) {
        JsonNode v = field(field);
        if (v.isIntegralNumber() && v.canConvertToInt()) return v.intValue();
        if (v.isBoolean()) return v.booleanValue() ? 1 : 0;
        if (v.isTextual()) {
            String s = PythonText.strip(v.textValue());
            if (!s.isEmpty() && s.length() < 10 && s.chars().allMatch(c -> c >= '0' && c <= '9')) return Integer.parseInt(s);
        }
        throw bad(field, "must be an integer, got " + kind(v) + " " + v);
    }

    IllegalArgumentException bad(String field, String problem) {
        return new IllegalArgumentException(String.format(Locale.ROOT, "%s item %d: field '%s%s' %s", task.id(), index,
                path, field, problem));
    }

    private JsonNode field(String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isMissingNode()) throw bad(field, "is missing");
        if (v.isNull()) throw bad(field, "is null");
        return v;
    }

    private String text(JsonNode v, String field) {
        if (!v.isTextual()) throw bad(field, "must be a string, got " + kind(v));
        return v.textValue();
    }

    private static String kind(JsonNode v) {
        return v.getNodeType().name().toLowerCase(Locale.ROOT);
    }
}
