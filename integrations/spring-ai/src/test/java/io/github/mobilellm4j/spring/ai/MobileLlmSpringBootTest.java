package io.github.mobilellm4j.spring.ai;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Pooling;
import io.github.mobilellm4j.chat.ChatMessage;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * An application as a user writes it: a Spring Boot application with auto-configuration on and the model in its
 * properties; the beans are injected and answer like the core API does with the same model (greedy decoding, so
 * the texts must be equal).
 */
@SpringBootTest(classes = MobileLlmSpringBootTest.Application.class,
        properties = {"mobilellm.threads=1", "mobilellm.chat.temperature=0", "mobilellm.chat.max-tokens=10"})
class MobileLlmSpringBootTest {
    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class Application {
    }

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry registry) {
        registry.add("mobilellm.model", () -> MobileLlmAutoConfigurationTest.DEMO_CHAT.toString());
    }

    @Autowired
    ChatModel chat;

    @Autowired
    EmbeddingModel embeddings;

    @Autowired
    Model model;

    @Test
    void injectedBeansAnswerAsTheCoreApiDoes() {
        Generation expected = MobileLlmAutoConfigurationTest.direct(model, List.of(ChatMessage.user("Which licence?")), 10);
        assertThat(chat.call("Which licence?")).isEqualTo(MobileLlmAutoConfigurationTest.answer(expected)).isNotBlank();
        assertThat(embeddings.embed("MIT License")).containsExactly(model.embed("MIT License", Pooling.MEAN, true));
    }
}
