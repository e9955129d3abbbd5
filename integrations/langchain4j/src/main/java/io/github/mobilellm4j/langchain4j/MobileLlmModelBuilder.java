package io.github.mobilellm4j.langchain4j;

import dev.langchain4j.model.chat.request.ChatRequestParameters;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.chat.ChatTemplate;
import io.github.mobilellm4j.service.GenerationService;
import io.github.mobilellm4j.service.SessionPool;
import java.util.List;
import java.util.Objects;

/**
 * What the builders of the generating models share: the model (or a {@link GenerationService} serving it, to share
 * one pool of sessions between several LangChain4j models) and the default request parameters.
 *
 * @param <B> the concrete builder
 */
public abstract class MobileLlmModelBuilder<B extends MobileLlmModelBuilder<B>> {
    private Model model;
    private GenerationService service;
    private ChatTemplate chatTemplate;
    private String modelName;
    private final MobileLlmChatRequestParameters.Builder parameters = MobileLlmChatRequestParameters.builder();

    MobileLlmModelBuilder() {
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /**
     * The model, served one request at a time (a {@link SessionPool} of one session); the caller keeps it and closes
     * it. For requests in parallel, give a {@link #service} instead.
     */
    public B model(Model model) {
        this.model = Objects.requireNonNull(model, "model");
        return self();
    }

    /** The service that runs the requests (e.g. a {@link SessionPool} with several sessions, shared between models). */
    public B service(GenerationService service) {
        this.service = Objects.requireNonNull(service, "service");
        return self();
    }

    /** A chat template in place of the model's own (with {@link #model}). */
    public B chatTemplate(ChatTemplate chatTemplate) {
        this.chatTemplate = Objects.requireNonNull(chatTemplate, "chatTemplate");
        return self();
    }

    /** The name responses carry (default: the GGUF file's general.name, else its file name). */
    public B modelName(String modelName) {
        this.modelName = modelName;
        return self();
    }

    /** Defaults for every request (a request's own parameters win). */
    public B defaultRequestParameters(ChatRequestParameters parameters) {
        this.parameters.overrideWith(Objects.requireNonNull(parameters, "parameters"));
        return self();
    }

    /** Softmax temperature; 0 = always the most likely token (default 0.8). */
    public B temperature(Double temperature) {
        parameters.temperature(temperature);
        return self();
    }

    /** Nucleus sampling threshold in (0, 1] (default 0.95). */
    public B topP(Double topP) {
        parameters.topP(topP);
        return self();
    }

    /** Keep the k most likely tokens; 0 = all (default 40). */
    public B topK(Integer topK) {
        parameters.topK(topK);
        return self();
    }

    /** Most tokens generated per request (default {@value Requests#DEFAULT_MAX_TOKENS}). */
    public B maxTokens(Integer maxTokens) {
        parameters.maxOutputTokens(maxTokens);
        return self();
    }

    /** Generation stops where any of these appears; the reply ends before it. */
    public B stopSequences(List<String> stopSequences) {
        parameters.stopSequences(stopSequences);
        return self();
    }

    /** The sampler's seed (default: random): the same seed and request give the same reply. */
    public B seed(Long seed) {
        parameters.seed(seed);
        return self();
    }

    public B minP(Double minP) {
        parameters.minP(minP);
        return self();
    }

    public B repeatPenalty(Double repeatPenalty) {
        parameters.repeatPenalty(repeatPenalty);
        return self();
    }

    GenerationService buildService() {
        if (service != null) {
            if (model != null || chatTemplate != null) throw new IllegalStateException("give either a model (and a chat template) or a service");
            return service;
        }
        if (model == null) throw new IllegalStateException("a model is required: model(Model) or service(GenerationService)");
        SessionPool.Builder b = SessionPool.builder(model);
        if (chatTemplate != null) b.chatTemplate(chatTemplate);
        return b.build();
    }

    MobileLlmChatRequestParameters buildParameters(GenerationService service) {
        return parameters.modelName(modelName != null ? modelName : service.modelName()).build();
    }
}
