package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mobilellm4j.chat.ChatMessage;
import io.github.mobilellm4j.chat.ChatTemplate;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * ChatTemplate beyond the @huggingface/jinja comparison: a converted model's own template and
 * token texts, Python semantics that @huggingface/jinja 0.5 does not share (str.rstrip with
 * characters, strftime_now directives), errors, and argument checks.
 */
class ChatTemplateTest {
    private static final List<ChatMessage> CHAT = List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi!"));

    @Test
    void theConvertedModelCarriesItsTemplateAndSpecialTokens() throws Exception {
        Path src = TestFiles.llama3TokenizerDir();
        JsonNode cfg = TestFiles.json(src.resolve("tokenizer_config.json"));
        Path gguf = ByteLevelTokenizerParityTest.vocabularyModel("llama3", 128_256, src.resolve("tokenizer.json"),
                src.resolve("tokenizer_config.json"));
        try (Model model = Model.load(gguf)) {
            ChatTemplate t = ChatTemplate.from(model);
            assertThat(t.source()).isEqualTo(cfg.get("chat_template").asText());
            String prompt = t.render(CHAT, true);
            assertThat(prompt).isEqualTo(ChatTemplate.of(cfg.get("chat_template").asText(), "<|begin_of_text|>", "<|end_of_text|>")
                    .render(CHAT, true));
            assertThat(prompt).startsWith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>")
                    .endsWith("<|start_header_id|>assistant<|end_header_id|>\n\n");
            int[] ids = model.tokenizer().encode(prompt, false, true);
            assertThat(ids[0]).isEqualTo(128_000);
            assertThat(ids).contains(128_006, 128_007, 128_009);
            // the lenml files name no end-of-turn token list; <|eot_id|> is found by name, so a reply ends there
            assertThat(model.tokenizer().endOfGeneration()).contains(128_001, 128_009);
        }
    }

    @Test
    void modelWithoutTemplateIsRefusedWithAHint() {
        try (Model model = Model.loadDemo()) {
            assertThatThrownBy(() -> ChatTemplate.from(model)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("no chat template");
        }
    }

    @Test
    void pythonStringSemantics() {
        // Python: 'xaax'.rstrip('x') == 'xaa'; "a,,b".split(",") keeps the empty part; title() capitalises words
        String out = ChatTemplate.of("{{ 'xaax'.rstrip('x') }}|{{ 'xaax'.lstrip('x') }}|{{ 'a,,b'.split(',')|length }}|"
                + "{{ 'hello wORLD'.title() }}|{{ ' a b '.split()|join('+') }}|{{ 'ab'.startswith(('x', 'a')) }}").render(CHAT, false);
        assertThat(out).isEqualTo("xaa|aax|3|Hello World|a+b|true");
    }

    @Test
    void strftimeNowUsesTheClock() {
        Clock clock = Clock.fixed(Instant.parse("2026-07-04T15:04:05Z"), ZoneOffset.UTC);
        String out = ChatTemplate.of("{{ strftime_now('%A %d %B %Y, %I:%M %p (%j) %%') }}").withClock(clock).render(CHAT, false);
        assertThat(out).isEqualTo("Saturday 04 July 2026, 03:04 PM (185) %");
    }

    @Test
    void raisedExceptionsAndBrokenTemplatesAreErrors() {
        assertThatThrownBy(() -> ChatTemplate.of("{{ raise_exception('Roles must alternate') }}").render(CHAT, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Roles must alternate");
        assertThatThrownBy(() -> ChatTemplate.of("{% for m in messages %}{{ m.role }}").render(CHAT, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("chat template");
    }

    @Test
    void argumentsAreChecked() {
        assertThatThrownBy(() -> new ChatMessage(" ", "x")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("role");
        assertThatThrownBy(() -> new ChatMessage("user", null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> ChatTemplate.of("x").render(null, true)).isInstanceOf(NullPointerException.class);
    }
}
