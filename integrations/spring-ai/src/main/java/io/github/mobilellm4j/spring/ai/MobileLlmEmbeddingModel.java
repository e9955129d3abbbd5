package io.github.mobilellm4j.spring.ai;

import io.github.mobilellm4j.Pooling;
import io.github.mobilellm4j.service.GenerationService;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.springframework.ai.chat.metadata.DefaultUsage;
import org.springframework.ai.document.Document;
import org.springframework.ai.embedding.Embedding;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.ai.embedding.EmbeddingRequest;
import org.springframework.ai.embedding.EmbeddingResponse;
import org.springframework.ai.embedding.EmbeddingResponseMetadata;

/**
 * A Spring AI {@link EmbeddingModel} over a mobilellm4j model: each text's embedding is its hidden states pooled (mean
 * by default, or the last token's) and L2-normalised, as {@link io.github.mobilellm4j.Model#embed} computes it. The
 * instructions of one request are embedded together in batched passes ({@link GenerationService#embedAll}). The usage
 * counts the input tokens.
 */
public class MobileLlmEmbeddingModel implements EmbeddingModel {
    private final GenerationService service;
    private final Pooling pooling;
    private final boolean normalize;
    private final String modelName;

    private MobileLlmEmbeddingModel(Builder b) {
        this.service = Objects.requireNonNull(b.service, "a service is required: service(GenerationService)");
        this.pooling = b.pooling;
        this.normalize = b.normalize;
        this.modelName = b.modelName != null ? b.modelName : service.modelName();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public EmbeddingResponse call(EmbeddingRequest request) {
        var options = request.getOptions();
        if (options != null && options.getModel() != null && !options.getModel().equals(modelName)) {
            throw new IllegalArgumentException("this model is '" + modelName + "'; it cannot serve model '" + options.getModel() + "'");
        }
        if (options != null && options.getDimensions() != null && options.getDimensions() != dimensions()) {
            throw new IllegalArgumentException("this model's embeddings have " + dimensions() + " dimensions, not " + options.getDimensions());
        }
        List<String> texts = request.getInstructions();
        List<Embedding> out = new ArrayList<>(texts.size());
        for (float[] vector : service.embedAll(texts, pooling, normalize)) out.add(new Embedding(vector, out.size()));
        int tokens = 0;
        for (String text : texts) tokens += service.model().tokenizer().encode(text).length;
        return new EmbeddingResponse(out, new EmbeddingResponseMetadata(modelName, new DefaultUsage(tokens, 0, tokens)));
    }

    @Override
    public float[] embed(Document document) {
        return service.embed(getEmbeddingContent(document), pooling, normalize);
    }

    @Override
    public int dimensions() {
        return service.model().info().shape().embeddingLength();
    }

    public static final class Builder {
        private GenerationService service;
        private Pooling pooling = Pooling.MEAN;
        private boolean normalize = true;
        private String modelName;

        private Builder() {
        }

        /** The service that runs the requests, e.g. a {@link io.github.mobilellm4j.service.SessionPool}. */
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
