package io.github.mobilellm4j.spring.ai;

import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.hub.HubModels;
import io.github.mobilellm4j.hub.HubOptions;
import io.github.mobilellm4j.service.GenerationService;
import io.github.mobilellm4j.service.SessionPool;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Spring AI beans for the model named by {@code mobilellm.model} (a GGUF file or a Hugging Face repository): the
 * {@link Model}, a {@link SessionPool} of {@code mobilellm.parallel} sessions serving it, and a {@link ChatModel} and
 * an {@link EmbeddingModel} over that pool. Each bean gives way to one the application defines itself.
 */
@AutoConfiguration
@ConditionalOnProperty(prefix = MobileLlmProperties.PREFIX, name = "model")
@EnableConfigurationProperties(MobileLlmProperties.class)
public class MobileLlmAutoConfiguration {

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public Model mobileLlmModel(MobileLlmProperties properties) {
        ModelOptions options = ModelOptions.builder().threads(properties.getThreads()).backend(properties.getBackend()).build();
        return Model.load(HubModels.resolve(properties.getModel(), hubOptions(properties.getHub())), options);
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public GenerationService mobileLlmGenerationService(Model model, MobileLlmProperties properties) {
        return SessionPool.builder(model).maxSessions(properties.getParallel()).acquireTimeout(properties.getQueueTimeout()).build();
    }

    @Bean
    @ConditionalOnMissingBean(ChatModel.class)
    @ConditionalOnProperty(prefix = MobileLlmProperties.PREFIX + ".chat", name = "enabled", matchIfMissing = true)
    public MobileLlmChatModel mobileLlmChatModel(GenerationService service, MobileLlmProperties properties) {
        MobileLlmProperties.Chat c = properties.getChat();
        ChatOptions defaults = ChatOptions.builder().temperature(c.getTemperature()).topP(c.getTopP()).topK(c.getTopK())
                .maxTokens(c.getMaxTokens()).stopSequences(c.getStopSequences().isEmpty() ? null : c.getStopSequences()).build();
        return MobileLlmChatModel.builder().service(service).defaultOptions(defaults).build();
    }

    @Bean
    @ConditionalOnMissingBean(EmbeddingModel.class)
    @ConditionalOnProperty(prefix = MobileLlmProperties.PREFIX + ".embedding", name = "enabled", matchIfMissing = true)
    public MobileLlmEmbeddingModel mobileLlmEmbeddingModel(GenerationService service, MobileLlmProperties properties) {
        MobileLlmProperties.Embedding e = properties.getEmbedding();
        return MobileLlmEmbeddingModel.builder().service(service).pooling(e.getPooling()).normalize(e.isNormalize()).build();
    }

    static HubOptions hubOptions(MobileLlmProperties.Hub hub) {
        HubOptions.Builder b = HubOptions.builder();
        if (hub.getEndpoint() != null) b.endpoint(hub.getEndpoint());
        if (hub.getToken() != null) b.token(hub.getToken());
        if (hub.getCache() != null) b.hubCache(hub.getCache());
        if (hub.getModelCache() != null) b.modelCache(hub.getModelCache());
        if (hub.getOffline() != null) b.offline(hub.getOffline());
        return b.build();
    }
}
