package io.github.mobilellm4j.convert;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A convert or quantize killed while writing leaves its hidden temporary file behind; the next run to the same
 * output removes it once its owner process is gone, and never touches the temporary file of a live run.
 * The runs here are real separate JVMs (see {@link Main}) so that their temporary files are named exactly as
 * the converter names them.
 */
class StaleTempFilesTest {
    @TempDir
    Path tmp;

    /** Opens the converter's temporary output for args[0], then dies without cleaning up or waits to be killed. */
    public static final class Main {
        public static void main(String[] args) throws Exception {
            AtomicOutput.create(Path.of(args[0]), false, List.of());
            if (args[1].equals("die")) Runtime.getRuntime().halt(137); // like SIGKILL: no shutdown hooks run
            System.out.println("ready");
            System.out.flush();
            System.in.read(); // until killed
        }
    }

    static Process run(Path target, String mode) throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                target.toString(), mode).redirectErrorStream(true).start();
    }

    List<Path> temps(String output) throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.filter(p -> p.getFileName().toString().startsWith("." + output + ".")).sorted().toList();
        }
    }

    @Test
    void theNextRunRemovesTheTemporaryFilesOfKilledRunsOnly() throws Exception {
        Path in = tmp.resolve("in");
        Files.createDirectories(in);
        TestFiles.config(in, ConverterTest.TINY, java.util.Map.of());
        Files.write(in.resolve("tokenizer.model"), SyntheticCheckpoint.syntheticTokenizer(ConverterTest.TINY.vocab()).toBytes());
        TestFiles.safetensors(in.resolve("model.safetensors"), TestFiles.modelTensors(ConverterTest.TINY));
        Path out = tmp.resolve("out.gguf");
        Path requantized = tmp.resolve("q8.gguf");

        Process dead = run(out, "die");
        assertThat(dead.waitFor(60, TimeUnit.SECONDS)).isTrue();
        List<Path> stale = temps("out.gguf");
        assertThat(stale).hasSize(1);
        Process live = run(requantized, "wait");
        try {
            assertThat(new String(live.getInputStream().readNBytes(5), StandardCharsets.US_ASCII)).isEqualTo("ready");
            List<Path> liveTemp = temps("q8.gguf");
            assertThat(liveTemp).hasSize(1);
            Path unrelated = Files.writeString(tmp.resolve(".out.gguf.notes.tmp"), "not the converter's");

            Converter.convert(in, out, ConvertOptions.defaults());
            assertThat(stale.get(0)).doesNotExist();
            assertThat(temps("out.gguf")).containsExactly(unrelated);

            // the second output's temporary file belongs to a live run: untouched by a run to that output
            Quantizer.quantize(out, requantized, OutputType.Q8_0, false, ProgressListener.SILENT);
            assertThat(liveTemp.get(0)).exists();
            Files.delete(requantized);

            // once that run is killed, the next run to its output removes it
            live.destroyForcibly();
            assertThat(live.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(liveTemp.get(0)).exists();
            Quantizer.quantize(out, requantized, OutputType.Q8_0, false, ProgressListener.SILENT);
            assertThat(liveTemp.get(0)).doesNotExist();
            assertThat(requantized).isRegularFile();
        } finally {
            live.destroyForcibly();
        }
    }
}
