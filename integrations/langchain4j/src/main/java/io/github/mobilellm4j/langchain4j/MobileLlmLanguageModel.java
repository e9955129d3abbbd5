package io.github.mobilellm4j.langchain4j;

import dev.langchain4j.model.language.LanguageModel;
import dev.langchain4j.model.output.Response;
import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.service.GenerationService;

/**
 * A LangChain4j {@link LanguageModel} over a mobilellm4j model: continues the prompt text, as base models such as
 * MobileLLM-125M are made to. The response carries the token usage and the finish reason (STOP at the end-of-sequence
 * token or a stop sequence, LENGTH at maxTokens).
 *
 * <pre>{@code
 * LanguageModel lm = MobileLlmLanguageModel.builder().model(model).maxTokens(64).temperature(0.0).build();
 * String text = lm.generate("The capital of France is").content();
 * }</pre>
 */
public class MobileLlmLanguageModel implements LanguageModel {
    private final GenerationService service;
    private final GenerateOptions options;
    private final String modelName;

    private MobileLlmLanguageModel(Builder b) {
        this.service = b.buildService();
        MobileLlmChatRequestParameters p = b.buildParameters(service);
        this.modelName = p.modelName();
        this.options = Requests.options(p, modelName);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Response<String> generate(String prompt) {
        Generation g = service.complete(prompt, options, null);
        return Response.from(g.text(), Requests.usage(g), Requests.finishReason(g.stopReason()));
    }

    public String modelName() {
        return modelName;
    }

    public static class Builder extends MobileLlmModelBuilder<Builder> {
        public MobileLlmLanguageModel build() {
            return new MobileLlmLanguageModel(this);
        }
    }
}
