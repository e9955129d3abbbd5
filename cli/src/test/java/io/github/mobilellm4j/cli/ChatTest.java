package io.github.mobilellm4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mobilellm4j.chat.ChatSession;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * mobilellm chat and generate --chat on MobileLLM-R1 / MobileLLM-Pro shaped models: the reference's chat
 * prompt (testdata/reference/*-tiny-bf16.json, prompt 3) is the one user message "What may I do with the
 * Program?" rendered with the checkpoint's chat template, so the rendered prompt's tokens and the greedy
 * reply must be Hugging Face tokenizers' and transformers' (float64). The models are converted to F32: some
 * greedy steps have top-2 gaps of 0.01-0.02 (greedy_top2_margins), within Q8_0's rounding but far above F32's.
 */
class ChatTest {
    static final String QUESTION = "What may I do with the Program?";

    private static synchronized Path model(String name) throws Exception {
        Path dir = Path.of("target", "cli-test").toAbsolutePath();
        Files.createDirectories(dir);
        Path m = dir.resolve(name + "-f32.gguf");
        if (!Files.isRegularFile(m)) {
            Cli.Result r = Cli.run("convert", Cli.root().resolve("testdata/checkpoints/" + name).toString(), "-o", m.toString(),
                    "--type", "f32", "--force");
            assertThat(r.code()).as(r.err()).isZero();
        }
        return m;
    }

    private static JsonNode chatPrompt(String name) throws Exception {
        JsonNode p = Cli.JSON.readTree(Cli.root().resolve("testdata/reference/" + name + ".json").toFile()).get("prompts").get(3);
        assertThat(p.get("parse_special").asBoolean()).isTrue();
        return p;
    }

    private static List<Integer> ints(JsonNode a) {
        List<Integer> l = new ArrayList<>();
        a.forEach(n -> l.add(n.asInt()));
        return l;
    }

    @Test
    void generateChatRendersTheTemplateAndRepliesAsTransformers() throws Exception {
        for (String name : new String[] {"r1-tiny-bf16", "pro-tiny-bf16"}) {
            JsonNode ref = chatPrompt(name);
            Cli.Result r = Cli.run("generate", "-m", model(name).toString(), "--chat", "-p", QUESTION, "--greedy", "--ignore-eos",
                    "-n", String.valueOf(ref.get("greedy_ids").size()), "--json");
            assertThat(r.code()).as(r.err()).isZero();
            JsonNode o = r.json();
            assertThat(ints(o.get("prompt_tokens"))).as("%s: the rendered prompt's tokens", name).isEqualTo(ints(ref.get("ids")));
            assertThat(ints(o.get("tokens"))).as("%s: greedy reply", name).isEqualTo(ints(ref.get("greedy_ids")));
        }
    }

    @Test
    void chatRepliesStreamAndResetStartsOver() throws Exception {
        String name = "r1-tiny-bf16";
        JsonNode ref = chatPrompt(name);
        String n = String.valueOf(ref.get("greedy_ids").size());
        Cli.Result r = Cli.runWith(QUESTION + "\n/reset\n\n" + QUESTION + "\n/exit\nnot read\n", false, "chat", "-m", model(name).toString(),
                "--greedy", "-n", n);
        assertThat(r.code()).as(r.err()).isZero();
        String reply = ref.get("greedy_text").asText();
        assertThat(r.out()).as("the same reply after /reset, nothing after /exit").isEqualTo(reply + "\n" + reply + "\n");
        assertThat(r.err()).contains("conversation reset");
    }

    @Test
    void aMessageThatDoesNotFitIsDroppedAndTheChatGoesOn() throws Exception {
        String name = "r1-tiny-bf16";
        JsonNode ref = chatPrompt(name);
        // a context of the rendered question's tokens + 8: the question alone and its 8-token reply fit, the doubled question does not
        String ctx = String.valueOf(ref.get("ids").size() + 8);
        Cli.Result r = Cli.runWith(QUESTION + " " + QUESTION + "\n" + QUESTION + "\n", false, "chat", "-m", model(name).toString(),
                "--greedy", "-n", "8", "-c", ctx);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("context full").contains("the message was dropped");
        List<Integer> greedy = ints(ref.get("greedy_ids"));
        assertThat(r.out()).as("the second message is answered as if it were the first")
                .startsWith("\n").contains(Cli.run("detokenize", "-m", model(name).toString(), "--tokens",
                        String.join(",", greedy.subList(0, 8).stream().map(String::valueOf).toList())).out().strip());
    }

    @Test
    void reasoningIsMarkedOrHidden() {
        for (boolean show : new boolean[] {true, false}) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            ChatCommand.ReplyPrinter p = new ChatCommand.ReplyPrinter(new PrintStream(bytes, true, StandardCharsets.UTF_8), show);
            p.accept(new ChatSession.Chunk(null, "\nFirst, 2+2", ""));
            p.accept(new ChatSession.Chunk(null, ".\n", ""));
            p.accept(new ChatSession.Chunk(null, "", "\n\nIt is"));
            p.accept(new ChatSession.Chunk(null, "", " 4."));
            assertThat(bytes.toString(StandardCharsets.UTF_8))
                    .isEqualTo(show ? "[thinking] \nFirst, 2+2.\n\n[answer] \n\nIt is 4." : "\n\nIt is 4.");
        }
    }

    @Test
    void misuseIsAUsageErrorAndAModelWithoutTemplateSaysSo() throws Exception {
        Path m = model("r1-tiny-bf16");
        assertThat(Cli.run("generate", "-m", m.toString(), "--system", "x", "-p", "y").code()).isEqualTo(2);
        Cli.Result tokens = Cli.run("generate", "-m", m.toString(), "--chat", "--tokens", "1,2");
        assertThat(tokens.code()).isEqualTo(2);
        assertThat(tokens.err()).contains("--chat needs a text prompt");
        Cli.Result noTemplate = Cli.runWith("hi\n", false, "chat", "-m", Cli.model().toString());
        assertThat(noTemplate.code()).isEqualTo(1);
        assertThat(noTemplate.err()).contains("has no chat template (tokenizer.chat_template)");
        Cli.Result noTemplateGenerate = Cli.run("generate", "-m", Cli.model().toString(), "--chat", "-p", "hi");
        assertThat(noTemplateGenerate.code()).isEqualTo(1);
        assertThat(noTemplateGenerate.err()).contains("has no chat template");
        assertThat(Cli.run("chat").code()).as("a model file is required").isEqualTo(2);
    }
}
