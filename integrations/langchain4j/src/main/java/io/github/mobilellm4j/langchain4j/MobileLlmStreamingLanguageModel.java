package io.github.mobilellm4j.langchain4j;

import dev.langchain4j.model.StreamingResponseHandler;
import dev.langchain4j.model.language.StreamingLanguageModel;
import dev.langchain4j.model.output.Response;
import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.service.GenerationService;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * A LangChain4j {@link StreamingLanguageModel}: as {@link MobileLlmLanguageModel}, with the text handed to the
 * handler's onNext as it is generated, then the complete response. Requests run on the builder's executor (default: a
 * new virtual thread each).
 */
public class MobileLlmStreamingLanguageModel implements StreamingLanguageModel {
    private final GenerationService service;
    private final GenerateOptions options;
    private final String modelName;
    private final Executor executor;

    private MobileLlmStreamingLanguageModel(Builder b) {
        this.service = b.buildService();
        MobileLlmChatRequestParameters p = b.buildParameters(service);
        this.modelName = p.modelName();
        this.options = Requests.options(p, modelName);
        this.executor = b.executor;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void generate(String prompt, StreamingResponseHandler<String> handler) {
        Objects.requireNonNull(prompt, "prompt");
        Streaming.run(executor, handler::onError, new Streaming.Handle(), () -> {
            Generation g = service.complete(prompt, options, t -> {
                if (!t.text().isEmpty()) handler.onNext(t.text());
            });
            handler.onComplete(Response.from(g.text(), Requests.usage(g), Requests.finishReason(g.stopReason())));
        });
    }

    public String modelName() {
        return modelName;
    }

    public static class Builder extends MobileLlmModelBuilder<Builder> {
        private Executor executor = Streaming.VIRTUAL_THREADS;

        /** Where requests run (default: a new virtual thread each). */
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        public MobileLlmStreamingLanguageModel build() {
            return new MobileLlmStreamingLanguageModel(this);
        }
    }
}
