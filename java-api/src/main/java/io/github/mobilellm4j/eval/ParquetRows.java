package io.github.mobilellm4j.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hardwood.InputFile;
import dev.hardwood.reader.ParquetFileReader;
import dev.hardwood.reader.RowReader;
import dev.hardwood.row.PqList;
import dev.hardwood.row.PqStruct;
import dev.hardwood.row.StructAccessor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Parquet rows (hardwood, no Hadoop) as JSON objects, so that a task reads a Hub Parquet file exactly as the same
 * data in JSON Lines: structs become objects, lists arrays, strings, integers, booleans and floating-point values
 * themselves, null stays null.
 */
final class ParquetRows {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private ParquetRows() {
    }

    static List<JsonNode> read(Path file) throws IOException {
        List<JsonNode> rows = new ArrayList<>();
        try (ParquetFileReader reader = ParquetFileReader.open(InputFile.of(file)); RowReader r = reader.rowReader()) {
            while (r.hasNext()) {
                r.next();
                rows.add(object(r));
            }
        } catch (IOException | RuntimeException e) { // e.g. no Parquet magic, a truncated file, a codec missing
            throw new IOException(file + ": not a readable Parquet file (" + e.getMessage() + ")", e);
        }
        return rows;
    }

    private static ObjectNode object(StructAccessor s) {
        ObjectNode o = JSON.objectNode();
        for (int i = 0; i < s.getFieldCount(); i++) o.set(s.getFieldName(i), s.isNull(i) ? JSON.nullNode() : value(s.getValue(i)));
        return o;
    }

    private static JsonNode value(Object v) {
        return switch (v) {
            case null -> JSON.nullNode();
            case String s -> JSON.textNode(s);
            case Integer i -> JSON.numberNode(i);
            case Long l -> JSON.numberNode(l);
            case Short s -> JSON.numberNode(s);
            case Byte b -> JSON.numberNode(b);
            case Boolean b -> JSON.booleanNode(b);
            case Float f -> JSON.numberNode(f);
            case Double d -> JSON.numberNode(d);
            case byte[] b -> JSON.textNode(new String(b, StandardCharsets.UTF_8));
            case PqStruct s -> object(s);
            case PqList l -> array(l);
            default -> JSON.textNode(v.toString());
        };
    }

    private static ArrayNode array(PqList list) {
        ArrayNode a = JSON.arrayNode(list.size());
        for (int i = 0; i < list.size(); i++) a.add(list.isNull(i) ? JSON.nullNode() : value(list.get(i)));
        return a;
    }
}
