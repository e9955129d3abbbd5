package io.github.mobilellm4j.hub;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mobilellm4j.convert.ConvertOptions;
import io.github.mobilellm4j.convert.Converter;
import io.github.mobilellm4j.convert.OutputType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The repository's test checkpoints, GGUF files converted from them once per build, and a small chat model: the
 * demo model's checkpoint with a chat template, for the tests of the modules that chat (it writes licence-like text,
 * not answers, which is enough to check how requests and replies travel).
 */
public final class TestCheckpoints {
    /** A Zephyr-style template: each turn as {@code <|role|>}, a newline, the text and EOS. */
    public static final String CHAT_TEMPLATE = """
            {% for message in messages %}<|{{ message['role'] }}|>
            {{ message['content'] }}{{ eos_token }}
            {% endfor %}{% if add_generation_prompt %}<|assistant|>
            {% endif %}""";

    private TestCheckpoints() {
    }

    public static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("testdata"))) p = p.getParent();
        if (p == null) throw new IllegalStateException("testdata/ not found above " + Path.of("").toAbsolutePath());
        return p;
    }

    /** A checkpoint folder under testdata/checkpoints. */
    public static Path checkpoint(String name) {
        return repoRoot().resolve("testdata/checkpoints").resolve(name);
    }

    /** A checkpoint under testdata/checkpoints converted to GGUF, once per build. */
    public static synchronized Path gguf(String checkpoint, OutputType type) {
        return convert(checkpoint(checkpoint), checkpoint + "-" + type.lowerName(), type);
    }

    /** The demo model's checkpoint (models/demo/hf) with {@link #CHAT_TEMPLATE} in its tokenizer_config.json, in dir. */
    public static Path demoChatCheckpoint(Path dir) {
        try {
            Files.createDirectories(dir);
            try (Stream<Path> files = Files.list(repoRoot().resolve("models/demo/hf"))) {
                for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            Path config = dir.resolve("tokenizer_config.json");
            ObjectNode json = (ObjectNode) FakeHub.JSON.readTree(config.toFile());
            json.put("chat_template", CHAT_TEMPLATE);
            FakeHub.JSON.writerWithDefaultPrettyPrinter().writeValue(config.toFile(), json);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@link #demoChatCheckpoint} converted to Q8_0 GGUF, once per build. */
    public static synchronized Path demoChatGguf() {
        Path dir = Path.of("target", "test-models", "demo-chat").toAbsolutePath();
        Path out = dir.resolveSibling("demo-chat-q8_0.gguf");
        return Files.isRegularFile(out) ? out : convert(demoChatCheckpoint(dir), "demo-chat-q8_0", OutputType.Q8_0);
    }

    private static Path convert(Path checkpoint, String name, OutputType type) {
        Path out = Path.of("target", "test-models", name + ".gguf").toAbsolutePath();
        if (Files.isRegularFile(out)) return out;
        try {
            Files.createDirectories(out.getParent());
            Converter.convert(checkpoint, out, ConvertOptions.defaults().withType(type));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException("converting " + checkpoint + " failed: " + e.getMessage(), e);
        }
        return out;
    }
}
