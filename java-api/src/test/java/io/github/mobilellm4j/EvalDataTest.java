package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mobilellm4j.eval.EvalItem;
import io.github.mobilellm4j.eval.Task;
import io.github.mobilellm4j.eval.TaskData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Task data as users download it: the Parquet files under testdata/eval/parquet were written by Hugging Face
 * datasets (pyarrow, snappy, as the Hub's files) from the JSON Lines files beside them, so both must give the same
 * items; the Hub's folder layout is found; broken files are named.
 */
class EvalDataTest {
    private static final Path DATA = TestFiles.testdata("eval/data");
    private static final Path PARQUET = TestFiles.testdata("eval/parquet");

    @Test
    void parquetGivesTheItemsOfJsonLines() throws Exception {
        for (Task task : Task.values()) {
            List<EvalItem> json = TaskData.load(task, DATA);
            assertThat(TaskData.load(task, PARQUET.resolve(task.id() + ".parquet"))).as(task.id()).isEqualTo(json);
        }
    }

    @Test
    void findsTheHubLayout(@TempDir Path tmp) throws Exception {
        // allenai/ai2_arc: ARC-Easy/test-00000-of-00001.parquet; the harness evaluates the test split
        Path dir = Files.createDirectories(tmp.resolve("arc_easy/ARC-Easy"));
        Files.copy(PARQUET.resolve("arc_easy.parquet"), dir.resolve("test-00000-of-00001.parquet"));
        Files.writeString(dir.resolve("train-00000-of-00001.parquet"), "not read: another split");
        assertThat(TaskData.files(Task.ARC_EASY, tmp)).containsExactly(dir.resolve("test-00000-of-00001.parquet"));
        assertThat(TaskData.load(Task.ARC_EASY, tmp)).isEqualTo(TaskData.load(Task.ARC_EASY, DATA));

        // the harness's task name as the folder name, JSON Lines shards read in name order
        Path siqa = Files.createDirectories(tmp.resolve("social_iqa"));
        List<String> lines = Files.readAllLines(DATA.resolve("siqa.jsonl"));
        Files.write(siqa.resolve("validation-1.jsonl"), lines.subList(100, lines.size()));
        Files.write(siqa.resolve("validation-0.jsonl"), lines.subList(0, 100));
        assertThat(TaskData.load(Task.SIQA, tmp)).isEqualTo(TaskData.load(Task.SIQA, DATA));
    }

    @Test
    void brokenFilesAreNamed(@TempDir Path tmp) throws Exception {
        Path notParquet = Files.writeString(tmp.resolve("piqa.parquet"), "{\"goal\": \"g\"}\n");
        assertThatThrownBy(() -> TaskData.load(Task.PIQA, notParquet)).isInstanceOf(IOException.class)
                .hasMessageContaining("piqa.parquet: not a readable Parquet file");

        Path csv = Files.writeString(tmp.resolve("piqa.csv"), "goal,sol1\n");
        assertThatThrownBy(() -> TaskData.load(Task.PIQA, csv)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown data format");

        Path arc = Files.writeString(tmp.resolve("arc.jsonl"), "{\"question\": \"q\", \"choices\": {\"text\": [\"a\", \"b\"],"
                + " \"label\": [\"A\", \"B\"]}, \"answerKey\": \"C\"}\n");
        assertThatThrownBy(() -> TaskData.load(Task.ARC_EASY, arc)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("arc_easy item 0: field 'answerKey' 'C' is not one of the labels [A, B]");

        Path wino = Files.writeString(tmp.resolve("wino.jsonl"), "{\"sentence\": \"no blank\", \"option1\": \"a\","
                + " \"option2\": \"b\", \"answer\": \"1\"}\n");
        assertThatThrownBy(() -> TaskData.load(Task.WINOGRANDE, wino)).hasMessage("winogrande item 0: field 'sentence' has no blank '_'");

        Path empty = Files.writeString(tmp.resolve("empty.jsonl"), "\n");
        assertThatThrownBy(() -> TaskData.load(Task.BOOLQ, empty)).hasMessageContaining("no boolq items");

        assertThatThrownBy(() -> TaskData.load(Task.HELLASWAG, tmp.resolve("none"))).isInstanceOf(NoSuchFileException.class);
    }
}
