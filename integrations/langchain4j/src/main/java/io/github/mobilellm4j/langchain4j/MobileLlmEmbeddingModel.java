package io.github.mobilellm4j.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.request.EmbeddingInput;
import dev.langchain4j.model.embedding.request.EmbeddingRequest;
import dev.langchain4j.model.embedding.response.EmbeddingResponse;
import dev.langchain4j.model.output.TokenUsage;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Pooling;
import io.github.mobilellm4j.service.GenerationService;
import io.github.mobilellm4j.service.SessionPool;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A LangChain4j {@link EmbeddingModel} over a mobilellm4j model: each text's embedding is its hidden states pooled
 * (mean by default, or the last token's) and L2-normalised, as {@link Model#embed} computes it. The inputs of one
 * request are embedded together in batched passes ({@link Model#embedAll}). The usage counts the input tokens.
 */
public class MobileLlmEmbeddingModel implements EmbeddingModel {
    private final GenerationService service;
    private final Pooling pooling;
    private final boolean normalize;
    private final String modelName;

    private MobileLlmEmbeddingModel(Builder b) {
        if (b.service != null && b.model != null) throw new IllegalStateException("give either a model or a service");
        if (b.service == null && b.model == null) throw new IllegalStateException("a model is required: model(Model) or service(GenerationService)");
        this.service = b.service != null ? b.service : SessionPool.of(b.model);
        this.pooling = b.pooling;
        this.normalize = b.normalize;
        this.modelName = b.modelName != null ? b.modelName : service.modelName();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Embeds all inputs of the request in batched passes ({@link GenerationService#embedAll}). */
    @Override
    public EmbeddingResponse doEmbed(EmbeddingRequest request) {
        List<String> texts = new ArrayList<>(request.inputs().size());
        for (EmbeddingInput input : request.inputs()) texts.add(input.text());
        List<Embedding> embeddings = new ArrayList<>(texts.size());
        for (float[] vector : service.embedAll(texts, pooling, normalize)) embeddings.add(Embedding.from(vector));
        int tokens = 0;
        for (String text : texts) tokens += service.model().tokenizer().encode(text).length;
        return EmbeddingResponse.builder().embeddings(embeddings).modelName(modelName).tokenUsage(new TokenUsage(tokens)).build();
    }

    @Override
    public int dimension() {
        return service.model().info().shape().embeddingLength();
    }

    @Override
    public String modelName() {
        return modelName;
    }

    public static class Builder {
        private Model model;
        private GenerationService service;
        private Pooling pooling = Pooling.MEAN;
        private boolean normalize = true;
        private String modelName;

        /** The model (the caller keeps it and closes it). */
        public Builder model(Model model) {
            this.model = Objects.requireNonNull(model, "model");
            return this;
        }

        /** The service that runs the requests, e.g. shared with a chat model. */
        public Builder service(GenerationService service) {
            this.service = Objects.requireNonNull(service, "service");
            return this;
        }

        /** How token states become one vector (default MEAN). */
        public Builder pooling(Pooling pooling) {
            this.pooling = Objects.requireNonNull(pooling, "pooling");
            return this;
        }

        /** Scale embeddings to length 1 (default true). */
        public Builder normalize(boolean normalize) {
            this.normalize = normalize;
            return this;
        }

        public Builder modelName(String modelName) {
            this.modelName = modelName;
            return this;
        }

        public MobileLlmEmbeddingModel build() {
            return new MobileLlmEmbeddingModel(this);
        }
    }
}
