package io.github.mobilellm4j.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * A task's items from its Hugging Face dataset files as users download them: JSON Lines ({@code .jsonl}, or
 * {@code .json} holding JSON Lines or one JSON array) or Parquet ({@code .parquet}, the Hub's format), rows in
 * file order. Rows keep the dataset's field names (e.g. ARC's {@code question}, {@code choices.text},
 * {@code choices.label}, {@code answerKey}).
 */
public final class TaskData {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TaskData() {
    }

    /** The items of the task in fileOrDir (see {@link #files}), in file and row order. */
    public static List<EvalItem> load(Task task, Path fileOrDir) throws IOException {
        List<EvalItem> items = new ArrayList<>();
        for (Path f : files(task, fileOrDir)) {
            for (JsonNode row : rows(f)) {
                if (!row.isObject()) {
                    throw new IllegalArgumentException(f + ": row " + items.size() + " is not a JSON object");
                }
                items.add(task.item(new Doc(task, items.size(), row)));
            }
        }
        if (items.isEmpty()) throw new IllegalArgumentException(fileOrDir + ": no " + task.id() + " items");
        return items;
    }

    /**
     * The data files of a task: fileOrDir itself when it is a file; in a folder, {@code <task>.jsonl},
     * {@code <task>.json} or {@code <task>.parquet} (the task's id or its harness name), or a folder of that name
     * holding the split's files ({@code <split>*.parquet} or {@code .jsonl}, also one level down, e.g.
     * {@code ARC-Easy/test-00000-of-00001.parquet} as the Hub stores them; several shards are read in name order).
     */
    public static List<Path> files(Task task, Path fileOrDir) throws IOException {
        if (!Files.exists(fileOrDir)) throw new NoSuchFileException(fileOrDir.toString());
        if (!Files.isDirectory(fileOrDir)) return List.of(fileOrDir);
        List<String> looked = new ArrayList<>();
        for (String name : names(task)) {
            for (String ext : List.of(".jsonl", ".json", ".parquet")) {
                Path f = fileOrDir.resolve(name + ext);
                looked.add(f.getFileName().toString());
                if (Files.isRegularFile(f)) return List.of(f);
            }
        }
        for (String name : names(task)) {
            Path dir = fileOrDir.resolve(name);
            looked.add(name + "/");
            if (!Files.isDirectory(dir)) continue;
            List<Path> shards = splitFiles(task, dir);
            if (shards.isEmpty() && task.config() != null) shards = splitFiles(task, dir.resolve(task.config()));
            if (shards.isEmpty()) shards = splitFiles(task, dir.resolve("data"));
            if (!shards.isEmpty()) return shards;
        }
        throw new NoSuchFileException(fileOrDir.toString(), null, "no " + task.id() + " data: looked for "
                + String.join(", ", looked) + " (with " + task.split() + "* files)");
    }

    /** The rows of one JSON Lines, JSON or Parquet file. */
    static List<JsonNode> rows(Path file) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".parquet")) return ParquetRows.read(file);
        if (name.endsWith(".jsonl") || name.endsWith(".json")) return jsonRows(file);
        throw new IllegalArgumentException(file + ": unknown data format (expected .jsonl, .json or .parquet)");
    }

    private static List<String> names(Task task) {
        return task.harnessName().equals(task.id()) ? List.of(task.id()) : List.of(task.id(), task.harnessName());
    }

    private static List<Path> splitFiles(Task task, Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(task.split()) && (n.endsWith(".parquet") || n.endsWith(".jsonl") || n.endsWith(".json"));
            }).sorted().toList();
        }
    }

    private static List<JsonNode> jsonRows(Path file) throws IOException {
        List<JsonNode> rows = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (lineNo == 1 && line.startsWith("\uFEFF")) line = line.substring(1);
                if (line.isBlank()) continue;
                if (rows.isEmpty() && line.strip().startsWith("[")) return arrayRows(file);
                rows.add(parse(file, lineNo, line));
            }
        }
        return rows;
    }

    /** A .json file holding one JSON array of rows. */
    private static List<JsonNode> arrayRows(Path file) throws IOException {
        JsonNode all;
        try {
            all = JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not valid JSON (" + e.getOriginalMessage() + ")");
        }
        List<JsonNode> rows = new ArrayList<>();
        all.forEach(rows::add);
        return rows;
    }

    private static JsonNode parse(Path file, int line, String text) {
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ":" + line + ": not valid JSON (" + e.getOriginalMessage() + ")");
        }
    }
}
