package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mobilellm4j.chat.ChatMessage;
import io.github.mobilellm4j.chat.ChatReply;
import io.github.mobilellm4j.chat.ChatSession;
import io.github.mobilellm4j.chat.ReasoningSplitter;
import io.github.mobilellm4j.sampling.SamplerOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Multi-turn chat over one session: a continued conversation evaluates only the tokens after the
 * prefix its KV cache already holds, and replies exactly as a fresh session evaluating the whole
 * conversation does (greedy); reasoning is separated from the answer however the text is split.
 */
class ChatSessionTest {
    private static final GenerateOptions GREEDY = GenerateOptions.builder().maxTokens(6).ignoreEos(true)
            .sampler(SamplerOptions.greedy()).build();

    @Test
    void continuedConversationReusesTheCachedPrefix() throws Exception {
        Path src = TestFiles.llama3TokenizerDir();
        Path gguf = ByteLevelTokenizerParityTest.vocabularyModel("llama3", 128_256, src.resolve("tokenizer.json"),
                src.resolve("tokenizer_config.json"));
        try (Model model = Model.load(gguf); Session s1 = model.newSession(); Session s2 = model.newSession()) {
            ChatSession chat = ChatSession.of(s1);
            List<ChatMessage> conv = new ArrayList<>(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hello there")));
            List<String> streamed = new ArrayList<>();
            ChatReply first = chat.reply(conv, GREEDY, c -> streamed.add(c.answer()));
            assertThat(first.generation().tokens()).hasSize(6);
            // the streamed answer adds up to the reply's: the generated text less the newlines that open it
            assertThat(String.join("", streamed)).isEqualTo(first.answer()).isEqualTo(first.generation().text().replaceFirst("^\n+", ""));
            conv.add(first.message());
            conv.add(ChatMessage.user("And then?"));
            ChatReply second = chat.reply(conv, GREEDY, null);
            ChatReply fresh = ChatSession.of(s2).reply(conv, GREEDY, null);
            int full = fresh.generation().promptTokens().length;
            assertThat(fresh.generation().timings().promptTokens()).isEqualTo(full);
            assertThat(second.generation().timings().promptTokens()).as("tokens evaluated for the second turn").isLessThan(full / 2);
            assertThat(second.generation().promptTokens()).as("the whole conversation").isEqualTo(fresh.generation().promptTokens());
            assertThat(second.generation().tokens()).isEqualTo(fresh.generation().tokens());
            assertThat(s1.position()).isEqualTo(s2.position());
        }
    }

    /**
     * MobileLLM-Pro's sliding-window layers keep only a ring of recent positions (window + batch - 1), so
     * cutting the cache back to a shared prefix can keep fewer tokens than asked (none, here): the next
     * turn must then evaluate from what is really kept, and reply as a fresh session does.
     */
    @Test
    void continuedConversationOnSlidingWindowRingsRepliesAsAFreshSession() {
        SessionOptions small = SessionOptions.builder().batchSize(2).kvCacheType(KvCacheType.F32).build();
        try (Model model = Model.load(TestFiles.checkpoint("pro-tiny-bf16", "f32")); Session s1 = model.newSession(small);
                Session s2 = model.newSession(small)) {
            ChatSession chat = ChatSession.of(s1);
            List<ChatMessage> conv = new ArrayList<>(List.of(ChatMessage.user("What may I do with the Program?")));
            ChatReply first = chat.reply(conv, GREEDY, null);
            // a reply that the next rendering changes (the template trims it) forces a cut inside the cached tokens
            conv.add(ChatMessage.assistant(first.answer() + " more"));
            conv.add(ChatMessage.user("And then?"));
            ChatReply second = chat.reply(conv, GREEDY, null);
            ChatReply fresh = ChatSession.of(s2).reply(conv, GREEDY, null);
            assertThat(second.generation().tokens()).isEqualTo(fresh.generation().tokens());
            assertThat(s1.position()).isEqualTo(s2.position());
        }
    }

    @Test
    void reasoningIsSeparatedFromTheAnswerAcrossPieces() {
        String text = "<think>\nFirst, 2+2.\n</think>\n\nIt is 4.";
        for (int size = 1; size <= text.length(); size++) {
            ReasoningSplitter s = new ReasoningSplitter(false);
            StringBuilder r = new StringBuilder(), a = new StringBuilder();
            for (int i = 0; i < text.length(); i += size) {
                ReasoningSplitter.Delta d = s.push(text.substring(i, Math.min(text.length(), i + size)));
                r.append(d.reasoning());
                a.append(d.answer());
            }
            ReasoningSplitter.Delta d = s.finish();
            r.append(d.reasoning());
            a.append(d.answer());
            assertThat(s.reasoning()).isEqualTo("First, 2+2.");
            assertThat(s.answer()).isEqualTo("It is 4.");
            assertThat(r.toString()).isEqualTo("\nFirst, 2+2.\n");
            assertThat(a.toString()).isEqualTo("It is 4.");
        }
        // the prompt opened the block; text that only looks like a tag start is released at the end
        ReasoningSplitter s = new ReasoningSplitter(true);
        s.push("thinking</think>answer <thi");
        s.finish();
        assertThat(s.reasoning()).isEqualTo("thinking");
        assertThat(s.answer()).isEqualTo("answer <thi");
    }
}
