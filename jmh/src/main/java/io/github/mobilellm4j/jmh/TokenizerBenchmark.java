package io.github.mobilellm4j.jmh;

import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Tokenizer throughput through the Java API: {@code encode} of a {@code textKiB} KiB text and {@code decode} of
 * its tokens back to a String. The secondary result {@code :bytes} is UTF-8 bytes/s of text (the report shows
 * MB/s). Every MobileLLM size has the same 32000-piece vocabulary, so one model (shape 125M, Q8_0) is enough;
 * the synthetic checkpoints carry a synthetic SentencePiece BPE vocabulary of that size.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = BenchDefaults.NATIVE_ACCESS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class TokenizerBenchmark {

    @State(Scope.Benchmark)
    public static class Text {
        @Param({"125M"})
        public String tokenizerShape;

        @Param({"64"})
        public int textKiB;

        Model model;
        Tokenizer tokenizer;
        String text;
        int textBytes;
        int[] tokens;

        @Setup(Level.Trial)
        public void setUp() {
            model = Model.load(BenchModels.model(tokenizerShape, "Q8_0"));
            tokenizer = model.tokenizer();
            text = SampleText.text(textKiB * 1024);
            textBytes = text.getBytes(StandardCharsets.UTF_8).length;
            tokens = tokenizer.encode(text, false, false);
            if (!tokenizer.decode(tokens).equals(text)) {
                BenchModels.log("note: decode(encode(text)) differs from the text (normalisation); throughput is unaffected");
            }
            BenchModels.log(String.format(java.util.Locale.ROOT, "tokenizer text: %d bytes, %d tokens (%.2f bytes/token)",
                    textBytes, tokens.length, (double) textBytes / tokens.length));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            model.close();
        }
    }

    @Benchmark
    public int[] encode(Text t, ByteCounter counter) {
        int[] ids = t.tokenizer.encode(t.text, false, false);
        counter.bytes += t.textBytes;
        return ids;
    }

    @Benchmark
    public String decode(Text t, ByteCounter counter) {
        String s = t.tokenizer.decode(t.tokens);
        counter.bytes += t.textBytes;
        return s;
    }
}
