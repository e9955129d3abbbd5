package io.github.mobilellm4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.Pooling;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.chat.ChatMessage;
import io.github.mobilellm4j.hub.TestCheckpoints;
import io.github.mobilellm4j.service.SessionPool;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The server driven from node by the official {@code openai} npm package (installed into target/ at test time, never
 * committed; src/test/node/openai-npm-client.mjs makes the calls): a chat completion, the same chat streamed, a text
 * completion, an embedding and the model list. Replies are compared with the same greedy generations done directly
 * with the core API, the embedding with {@link Model#embed}.
 */
class OpenAiNpmClientTest {
    /** The npm package's newest line that runs on node 20 (openai 7 needs node 22). */
    static final String OPENAI_NPM = "openai@6.49.0";

    @Test
    void theOpenAiNpmPackageGetsWhatTheCoreApiGives() throws Exception {
        Path modules = openAiNpmModules();
        Path out = Files.createTempDirectory(Path.of("target"), "npm-client").resolve("out.json");
        try (Model model = Model.load(TestCheckpoints.demoChatGguf(), ModelOptions.builder().threads(1).build());
             SessionPool pool = SessionPool.of(model); OpenAiServer server = OpenAiServer.builder().service(pool).port(0).build().start()) {
            run(List.of("node", Path.of("src/test/node/openai-npm-client.mjs").toAbsolutePath().toString(), modules.toString(),
                    "http://127.0.0.1:" + server.port() + "/v1", out.toString()));
            assertAnswersAsTheCoreApi(model, new ObjectMapper().readTree(out.toFile()));
        }
    }

    static void assertAnswersAsTheCoreApi(Model model, JsonNode got) {
        OpenAiServerTest.model = model;
        Generation chat = OpenAiServerTest.directChat(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Which licence?")), 12);
        String finish = chat.tokens().length == 12 ? "length" : "stop";
        assertThat(got.at("/chat/content").asText()).isEqualTo(OpenAiServerTest.answer(chat)).isNotBlank();
        assertThat(got.at("/chat/finish_reason").asText()).isEqualTo(finish);
        assertThat(got.at("/chat/object").asText()).isEqualTo("chat.completion");
        assertThat(got.at("/chat/usage/prompt_tokens").asInt()).isEqualTo(chat.promptTokens().length);
        assertThat(got.at("/chat/usage/completion_tokens").asInt()).isEqualTo(chat.tokens().length);
        assertThat(got.at("/stream/content").asText()).isEqualTo(OpenAiServerTest.answer(chat));
        assertThat(got.at("/stream/finish_reason").asText()).isEqualTo(finish);
        assertThat(got.at("/stream/usage/completion_tokens").asInt()).isEqualTo(chat.tokens().length);
        assertThat(got.at("/stream/chunks").asInt()).isGreaterThan(3);

        Generation completion;
        try (Session s = model.newSession()) {
            completion = s.generate(model.tokenizer().encode("Permission is hereby granted"), GenerateOptions.builder().maxTokens(10).greedy().build(), null);
        }
        assertThat(got.at("/completion/text").asText()).isEqualTo(completion.text()).isNotBlank();
        assertThat(got.at("/completion/usage/completion_tokens").asInt()).isEqualTo(completion.tokens().length);

        // the package asks for base64 and decodes it into a Float32Array: the floats must come back bit for bit
        float[] direct = model.embed("MIT License", Pooling.MEAN, true);
        JsonNode values = got.at("/embedding/values");
        assertThat(values.size()).isEqualTo(direct.length);
        for (int i = 0; i < direct.length; i++) assertThat((float) values.get(i).asDouble()).as("element %d", i).isEqualTo(direct[i]);
        assertThat(got.at("/embedding/usage/prompt_tokens").asInt()).isEqualTo(model.tokenizer().encode("MIT License").length);
        assertThat(got.at("/models").get(0).asText()).isEqualTo("demo-chat");
    }

    /** node and npm are optional on a developer machine (the test is then skipped), required in CI (CI set). */
    static void requireNode() throws InterruptedException {
        try {
            run(List.of("node", "--version"));
            run(List.of("npm", "--version"));
        } catch (IOException | IllegalStateException e) {
            String why = "node and npm are not both installed (apt-get install nodejs npm): " + e.getMessage();
            if (System.getenv("CI") != null) throw new IllegalStateException("this test needs node and npm in CI: " + why, e);
            Assumptions.abort("skipped: " + why);
        }
    }

    /** node_modules with the openai package, installed into target/ once. */
    static synchronized Path openAiNpmModules() throws IOException, InterruptedException {
        requireNode();
        Path dir = Path.of("target", "npm-openai").toAbsolutePath();
        Path modules = dir.resolve("node_modules");
        if (Files.isDirectory(modules.resolve("openai"))) return modules;
        Files.createDirectories(dir);
        run(List.of("npm", "install", "--prefix", dir.toString(), "--no-audit", "--no-fund", "--no-save", OPENAI_NPM));
        return modules;
    }

    /** Runs a command to its end (at most 5 minutes), failing with its output when it fails. */
    static void run(List<String> command) throws IOException, InterruptedException {
        Path log = Files.createTempFile(Path.of("target"), "node", ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " did not finish in 5 minutes");
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        System.out.print(output);
        if (p.exitValue() != 0) throw new IllegalStateException(String.join(" ", command) + " failed (" + p.exitValue() + "):\n" + output);
    }
}
