package io.github.mobilellm4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ./mobilellm launcher script, run by sh in a copy of the repository root (the launcher and the JDK finder it
 * sources, ci/lib/jdk.sh) whose ./mvnw is a stand-in: it prints a build log of 150 lines and then either fails or
 * writes a jar that prints its arguments. The first run shows one line while building and keeps the log in a file; a
 * failed build shows the log's error lines and where the rest is.
 */
@DisabledOnOs(OS.WINDOWS) // the launcher is a POSIX shell script
class LauncherTest {
    static final String FAKE_MVNW = """
            #!/bin/sh
            i=1
            while [ $i -le 150 ]; do echo "build log line $i"; i=$((i + 1)); done
            echo "warning: a compiler warning" >&2
            if [ -n "$FAKE_BUILD_FAIL" ]; then
                echo "src/a.c:3:1: error: the build broke" >&2
                echo "[ERROR] Failed to execute goal exec (cmake-build)"
                echo "[ERROR] Re-run Maven with the -e switch"
                exit 1
            fi
            mkdir -p cli/target && cp "$FAKE_JAR" cli/target/mobilellm.jar
            """;

    @TempDir
    Path root;
    Path probeJar;

    @BeforeEach
    void copyLauncher(@TempDir Path jars) throws IOException {
        Files.copy(Cli.root().resolve("mobilellm"), root.resolve("mobilellm"));
        Files.createDirectories(root.resolve("ci/lib"));
        Files.copy(Cli.root().resolve("ci/lib/jdk.sh"), root.resolve("ci/lib/jdk.sh"));
        Files.writeString(root.resolve("mvnw"), FAKE_MVNW);
        Files.setPosixFilePermissions(root.resolve("mvnw"), PosixFilePermissions.fromString("rwxr-xr-x"));
        probeJar = jars.resolve("probe.jar");
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().put(Attributes.Name.MAIN_CLASS, LauncherProbe.class.getName());
        String entry = LauncherProbe.class.getName().replace('.', '/') + ".class";
        try (OutputStream o = Files.newOutputStream(probeJar); JarOutputStream jar = new JarOutputStream(o, mf);
                var in = LauncherProbe.class.getClassLoader().getResourceAsStream(entry)) {
            jar.putNextEntry(new JarEntry(entry));
            in.transferTo(jar);
        }
    }

    record Run(int code, String out, String err) {
    }

    Run launch(Map<String, String> env, String... args) throws Exception {
        String[] cmd = new String[args.length + 2];
        cmd[0] = "sh";
        cmd[1] = root.resolve("mobilellm").toString();
        System.arraycopy(args, 0, cmd, 2, args.length);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        pb.environment().keySet().removeIf(k -> k.startsWith("MOBILELLM_"));
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("FAKE_JAR", probeJar.toString());
        pb.environment().putAll(env);
        Path out = root.resolve("launch.out");
        Path err = root.resolve("launch.err");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("launcher finished").isTrue();
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    @Test
    void firstRunShowsOneLineAndKeepsTheLog() throws Exception {
        Run first = launch(Map.of(), "info", "-m", "x.gguf");
        Path log = root.resolve("target/mobilellm-build.log");
        assertThat(first.code()).as(first.err()).isZero();
        assertThat(first.out()).isEqualTo("probe ran: info -m x.gguf\n");
        assertThat(first.err())
                .isEqualTo("mobilellm: building (first run, about 2 minutes; log in " + log + ")... done\n");
        assertThat(Files.readString(log))
                .contains("build log line 1\n", "build log line 150\n", "warning: a compiler warning");

        Run second = launch(Map.of(), "info");
        assertThat(second.err()).as("built already: nothing to say").isEmpty();
        assertThat(second.out()).isEqualTo("probe ran: info\n");
    }

    @Test
    void failedBuildShowsTheErrorLinesAndWhereTheLogIs() throws Exception {
        Run r = launch(Map.of("FAKE_BUILD_FAIL", "1"), "info");
        Path log = root.resolve("target/mobilellm-build.log");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        // the error lines up to Maven's verdict, none of the rest
        assertThat(r.err()).isEqualTo("mobilellm: building (first run, about 2 minutes; log in " + log + ")... failed\n"
                + "src/a.c:3:1: error: the build broke\n[ERROR] Failed to execute goal exec (cmake-build)\n"
                + "mobilellm: the build failed; the whole log: " + log + "\n");
        assertThat(Files.readString(log)).contains("build log line 1\n");
    }
}
