package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * ModelOptions.sharedThreadPool: models on the process's one pool start no workers of their own (counted in
 * /proc/self/task, hence Linux only), and a target with a draft on that pool gives the target's own tokens.
 */
@EnabledOnOs(OS.LINUX)
class SharedThreadPoolTest {
    private static long processThreads() throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.count();
        }
    }

    @Test
    void modelsOnTheSharedPoolStartNoWorkersAndKeepTheTargetsTokens() throws IOException {
        Path file = TestFiles.checkpoint("llama-f32", "f32");
        ModelOptions own = ModelOptions.builder().threads(5).build();
        ModelOptions shared = ModelOptions.builder().threads(5).sharedThreadPool(true).build();
        assertThat(shared.sharedThreadPool()).isTrue();
        assertThat(own.sharedThreadPool()).isFalse();
        GenerateOptions greedy = GenerateOptions.builder().greedy().ignoreEos(true).maxTokens(16).build();
        long before = processThreads();
        try (Model alone = Model.load(file, own)) {
            // the counting works: a model with its own pool of 5 threads starts 4 workers (the caller is the 5th)
            assertThat(processThreads() - before).isGreaterThanOrEqualTo(4);
            Generation reference = alone.generate("This License applies to any program", greedy);
            try (Model target = Model.load(file, shared)) {
                long withPool = processThreads();
                try (Model draft = Model.load(file, shared)) {
                    // the JVM may start a thread of its own meanwhile; a pool of the draft's own would add 4
                    assertThat(processThreads() - withPool).as("threads started by a second model on the shared pool")
                            .isLessThan(4);
                    Generation speculative = target.generate("This License applies to any program",
                            greedy.toBuilder().draft(draft, 4).build());
                    assertThat(speculative.tokens()).isEqualTo(reference.tokens());
                    assertThat(speculative.timings().acceptedDraftTokens()).isPositive();
                }
            }
        }
    }
}
