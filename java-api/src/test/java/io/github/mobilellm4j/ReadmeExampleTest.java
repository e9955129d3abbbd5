package io.github.mobilellm4j;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's Java example compiles against this API, so it cannot drift. */
class ReadmeExampleTest {
    @Test
    void readmeExampleCompiles(@TempDir Path dir) throws Exception {
        String readme = Files.readString(TestFiles.repoRoot().resolve("README.md"));
        int start = readme.indexOf("```java\n");
        assertTrue(start >= 0, "README has a java example");
        int end = readme.indexOf("```", start + 8);
        String code = readme.substring(start + 8, end);
        assertTrue(code.contains("public class Example"));
        Path src = dir.resolve("Example.java");
        Files.writeString(src, code);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int rc = javac.run(null, null, null, "-d", dir.toString(), "-cp", System.getProperty("java.class.path"),
                src.toString());
        assertEquals(0, rc, "javac on the README example");
        assertTrue(Files.isRegularFile(dir.resolve("Example.class")));
    }

    @Test
    void readmeExampleRuns(@TempDir Path dir) throws Exception {
        // run it in-process against the bundled demo model: it must print generated text and a speed line
        readmeExampleCompiles(dir);
        try (var loader = new java.net.URLClassLoader(new java.net.URL[] {dir.toUri().toURL()},
                ReadmeExampleTest.class.getClassLoader())) {
            var out = new java.io.ByteArrayOutputStream();
            var old = System.out;
            System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
            try {
                loader.loadClass("Example").getMethod("main", String[].class).invoke(null, (Object) new String[0]);
            } finally {
                System.setOut(old);
            }
            String printed = out.toString(java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(printed.contains("tokens/s"), printed);
            assertFalse(List.of(printed.split("\n")).isEmpty());
        }
    }
}
