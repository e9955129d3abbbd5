package io.github.mobilellm4j.spring.ai;

import io.github.mobilellm4j.Backend;
import io.github.mobilellm4j.Pooling;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code mobilellm.*} settings of the auto-configuration, e.g. in application.properties:
 *
 * <pre>
 * mobilellm.model=facebook/MobileLLM-R1-140M   # a GGUF file, or a Hugging Face repository (OWNER/NAME[:TYPE])
 * mobilellm.threads=4
 * mobilellm.parallel=2
 * mobilellm.chat.temperature=0.7
 * mobilellm.chat.max-tokens=256
 * </pre>
 */
@ConfigurationProperties(prefix = MobileLlmProperties.PREFIX)
public class MobileLlmProperties {
    public static final String PREFIX = "mobilellm";

    /** A GGUF file, or a Hugging Face repository id (OWNER/NAME, with :TYPE for a repository of GGUF files). */
    private String model;
    /** CPU threads per session (0: one per core). */
    private int threads;
    /** Where the model runs: CPU, VULKAN, or AUTO (the best GPU, else the CPU). */
    private Backend backend = Backend.CPU;
    /** Requests served at once (one session each); more wait. */
    private int parallel = 1;
    /** How long a request waits for a free session before it is refused. */
    private Duration queueTimeout = Duration.ofSeconds(60);
    private final Hub hub = new Hub();
    private final Chat chat = new Chat();
    private final Embedding embedding = new Embedding();

    /**
     * Where models named by repository come from; unset settings come from the environment as in huggingface_hub
     * (HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE, HF_HUB_OFFLINE).
     */
    public static class Hub {
        /** The hub's address. */
        private String endpoint;
        /** An access token, for gated repositories. */
        private String token;
        /** The download cache shared with huggingface_hub. */
        private Path cache;
        /** Where models converted from checkpoints are kept. */
        private Path modelCache;
        /** Use only what the caches hold. */
        private Boolean offline;

        public Path getModelCache() {
            return modelCache;
        }

        public void setModelCache(Path modelCache) {
            this.modelCache = modelCache;
        }

        public String getEndpoint() {
            return endpoint;
        }

        public void setEndpoint(String endpoint) {
            this.endpoint = endpoint;
        }

        public String getToken() {
            return token;
        }

        public void setToken(String token) {
            this.token = token;
        }

        public Path getCache() {
            return cache;
        }

        public void setCache(Path cache) {
            this.cache = cache;
        }

        public Boolean getOffline() {
            return offline;
        }

        public void setOffline(Boolean offline) {
            this.offline = offline;
        }
    }

    /** Chat defaults (a prompt's own options win). */
    public static class Chat {
        /** Whether to make the ChatModel bean (the model needs a chat template). */
        private boolean enabled = true;
        /** Softmax temperature; 0 picks the most likely token. */
        private Double temperature;
        /** Nucleus sampling threshold in (0, 1]. */
        private Double topP;
        /** Keep the k most likely tokens (0: all). */
        private Integer topK;
        /** Most tokens generated per reply. */
        private Integer maxTokens;
        /** The reply ends before any of these. */
        private List<String> stopSequences = new ArrayList<>();

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public Double getTemperature() {
            return temperature;
        }

        public void setTemperature(Double temperature) {
            this.temperature = temperature;
        }

        public Double getTopP() {
            return topP;
        }

        public void setTopP(Double topP) {
            this.topP = topP;
        }

        public Integer getTopK() {
            return topK;
        }

        public void setTopK(Integer topK) {
            this.topK = topK;
        }

        public Integer getMaxTokens() {
            return maxTokens;
        }

        public void setMaxTokens(Integer maxTokens) {
            this.maxTokens = maxTokens;
        }

        public List<String> getStopSequences() {
            return stopSequences;
        }

        public void setStopSequences(List<String> stopSequences) {
            this.stopSequences = stopSequences;
        }
    }

    /** Embedding settings. */
    public static class Embedding {
        /** Whether to make the EmbeddingModel bean. */
        private boolean enabled = true;
        /** How token states become one vector: MEAN or LAST. */
        private Pooling pooling = Pooling.MEAN;
        /** Scale embeddings to length 1. */
        private boolean normalize = true;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public Pooling getPooling() {
            return pooling;
        }

        public void setPooling(Pooling pooling) {
            this.pooling = pooling;
        }

        public boolean isNormalize() {
            return normalize;
        }

        public void setNormalize(boolean normalize) {
            this.normalize = normalize;
        }
    }

    public String getModel() {
        return model;
    }

    public void setModel(String model) {
        this.model = model;
    }

    public int getThreads() {
        return threads;
    }

    public void setThreads(int threads) {
        this.threads = threads;
    }

    public Backend getBackend() {
        return backend;
    }

    public void setBackend(Backend backend) {
        this.backend = backend;
    }

    public int getParallel() {
        return parallel;
    }

    public void setParallel(int parallel) {
        this.parallel = parallel;
    }

    public Duration getQueueTimeout() {
        return queueTimeout;
    }

    public void setQueueTimeout(Duration queueTimeout) {
        this.queueTimeout = queueTimeout;
    }

    public Hub getHub() {
        return hub;
    }

    public Chat getChat() {
        return chat;
    }

    public Embedding getEmbedding() {
        return embedding;
    }
}
