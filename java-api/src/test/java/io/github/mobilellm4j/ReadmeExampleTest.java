package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mobilellm4j.sampling.SamplerOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's Java example compiles against this API and prints what the API generates, so it cannot drift. */
class ReadmeExampleTest {
    /** The prompt and seed of the README example; {@link #sameGenerationThroughTheApi} repeats its settings. */
    private static final String PROMPT = "This License applies to";
    private static final String SEED = ".seed(42)";

    @Test
    void readmeExampleCompiles(@TempDir Path dir) throws Exception {
        compileExample(dir);
        assertThat(dir.resolve("Example.class")).isRegularFile();
    }

    @Test
    void readmeExamplePrintsTheSeededGenerationAndItsTokenCount(@TempDir Path dir) throws Exception {
        String code = compileExample(dir);
        assertThat(code).as("the README example's settings, repeated by this test").contains('"' + PROMPT + '"', SEED);
        String printed = runExample(dir);

        // The example streams each token's text, then prints "<n> tokens at <speed> tokens/s, stopped by <reason>".
        StringBuilder streamed = new StringBuilder();
        Generation expected = sameGenerationThroughTheApi(streamed);
        assertThat(expected.tokens()).as("the demo model continues the prompt").isNotEmpty();
        Pattern shape = Pattern.compile(Pattern.quote(streamed.toString()) + "\\R" + expected.tokens().length
                + " tokens at \\d+[.,]\\d tokens/s, stopped by " + expected.stopReason() + "\\R");
        assertThat(printed).matches(shape);
    }

    /** The example's generation done here through the API: the seeded sampler makes both runs give the same tokens. */
    private static Generation sameGenerationThroughTheApi(StringBuilder streamed) {
        try (Model model = Model.loadDemo(ModelOptions.builder().threads(2).build());
             Session session = model.newSession()) {
            GenerateOptions options = GenerateOptions.builder()
                    .maxTokens(32)
                    .sampler(SamplerOptions.builder().temperature(0.7f).topP(0.9f).seed(42).build())
                    .stopStrings("\n\n")
                    .build();
            return session.generate(model.tokenizer().encode(PROMPT), options, token -> streamed.append(token.text()));
        }
    }

    /** Writes the README's first java block to dir/Example.java, compiles it there and returns its source. */
    private static String compileExample(Path dir) throws Exception {
        String readme = Files.readString(TestFiles.repoRoot().resolve("README.md"));
        int start = readme.indexOf("```java\n");
        assertThat(start).as("README has a java example").isNotNegative();
        int end = readme.indexOf("```", start + 8);
        String code = readme.substring(start + 8, end);
        assertThat(code).contains("public class Example");
        Path src = dir.resolve("Example.java");
        Files.writeString(src, code);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int rc = javac.run(null, null, null, "-d", dir.toString(), "-cp", System.getProperty("java.class.path"),
                src.toString());
        assertThat(rc).as("javac on the README example").isZero();
        return code;
    }

    /** Runs Example.main in-process (the demo model is on the class path) and returns what it printed. */
    private static String runExample(Path dir) throws Exception {
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()},
                ReadmeExampleTest.class.getClassLoader())) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            PrintStream old = System.out;
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            try {
                loader.loadClass("Example").getMethod("main", String[].class).invoke(null, (Object) new String[0]);
            } finally {
                System.setOut(old);
            }
            return out.toString(StandardCharsets.UTF_8);
        }
    }
}
