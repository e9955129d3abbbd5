package io.github.mobilellm4j;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mobilellm4j.convert.ConversionException;
import io.github.mobilellm4j.convert.ConvertOptions;
import io.github.mobilellm4j.convert.Converter;
import io.github.mobilellm4j.convert.OutputType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The llama-f32 test checkpoint, loaded once per test class that extends this one (2 threads) and closed after it,
 * with {@link #PROMPT}'s tokens. The test classes of this module run one after another, so the static model is
 * always that of the class running.
 */
abstract class ReferenceModelFixture {
    static final String PROMPT = "This License applies to any program";
    static Model model;
    static int[] prompt;

    /** A new model of the llama-f32 checkpoint (F32 conversion), owned by the caller. */
    static Model load(int threads) {
        return Model.load(TestFiles.checkpoint("llama-f32", "f32"), ModelOptions.builder().threads(threads).build());
    }

    /**
     * The llama-f32 checkpoint converted to F32 with {@code token} named an end-of-turn token (listed after EOS in
     * generation_config.json), written under dir; returns the GGUF file.
     */
    static Path withEndOfTurn(Path dir, int token) throws IOException, ConversionException {
        Path hf = Files.createDirectories(dir.resolve("hf"));
        try (Stream<Path> files = Files.list(TestFiles.testdata("checkpoints/llama-f32"))) {
            for (Path f : files.toList()) Files.copy(f, hf.resolve(f.getFileName()));
        }
        ObjectNode gen = (ObjectNode) TestFiles.JSON.readTree(hf.resolve("generation_config.json").toFile());
        gen.putArray("eos_token_id").add(2).add(token);
        TestFiles.JSON.writeValue(hf.resolve("generation_config.json").toFile(), gen);
        Path gguf = dir.resolve("end-of-turn.gguf");
        Converter.convert(hf, gguf, ConvertOptions.defaults().withType(OutputType.F32));
        return gguf;
    }

    @BeforeAll
    static void loadReferenceModel() {
        model = load(2);
        prompt = model.tokenizer().encode(PROMPT);
    }

    @AfterAll
    static void closeReferenceModel() {
        model.close();
    }
}
