package io.github.mobilellm4j.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.langchain4j.data.document.Document;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.StreamingResponseHandler;
import dev.langchain4j.model.language.LanguageModel;
import dev.langchain4j.model.language.StreamingLanguageModel;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingStoreIngestor;
import dev.langchain4j.store.embedding.inmemory.InMemoryEmbeddingStore;
import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.Pooling;
import io.github.mobilellm4j.Session;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The base-model and embedding adapters driven through LangChain4j's APIs (LanguageModel, StreamingLanguageModel,
 * EmbeddingStoreIngestor with the in-memory store) on the demo model, each result checked against the same work done
 * directly with the core API.
 */
class LanguageAndEmbeddingModelTest {
    static final String PROMPT = "Permission is hereby granted";
    static Model model;

    @BeforeAll
    static void load() {
        model = Model.loadDemo(ModelOptions.builder().threads(1).build());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static Generation direct(String prompt, int maxTokens) {
        try (Session s = model.newSession()) {
            return s.generate(model.tokenizer().encode(prompt), GenerateOptions.builder().maxTokens(maxTokens).greedy().build(), null);
        }
    }

    @Test
    void aLanguageModelContinuesThePromptAsTheCoreApiDoes() {
        LanguageModel lm = MobileLlmLanguageModel.builder().model(model).temperature(0.0).maxTokens(16).build();
        Response<String> r = lm.generate(PROMPT);
        Generation expected = direct(PROMPT, 16);
        assertThat(r.content()).isEqualTo(expected.text()).isNotBlank();
        assertThat(r.tokenUsage().inputTokenCount()).isEqualTo(expected.promptTokens().length);
        assertThat(r.tokenUsage().outputTokenCount()).isEqualTo(expected.tokens().length);
        assertThat(r.finishReason()).isEqualTo(expected.tokens().length == 16 ? FinishReason.LENGTH : FinishReason.STOP);
    }

    @Test
    void aStreamingLanguageModelStreamsTheSameText() throws Exception {
        StreamingLanguageModel lm = MobileLlmStreamingLanguageModel.builder().model(model).temperature(0.0).maxTokens(16).build();
        List<String> pieces = new ArrayList<>();
        CompletableFuture<Response<String>> done = new CompletableFuture<>();
        lm.generate(PROMPT, new StreamingResponseHandler<>() {
            @Override
            public void onNext(String token) {
                pieces.add(token);
            }

            @Override
            public void onComplete(Response<String> response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        Response<String> r = done.get(60, TimeUnit.SECONDS);
        assertThat(pieces).hasSizeGreaterThan(1);
        assertThat(String.join("", pieces)).isEqualTo(r.content()).isEqualTo(direct(PROMPT, 16).text());
    }

    @Test
    void anIngestedStoreFindsSegmentsByTheModelsEmbeddings() {
        MobileLlmEmbeddingModel embedder = MobileLlmEmbeddingModel.builder().model(model).build();
        assertThat(embedder.dimension()).isEqualTo(model.info().shape().embeddingLength());
        List<String> texts = List.of("THE SOFTWARE IS PROVIDED AS IS, WITHOUT WARRANTY OF ANY KIND.",
                "Redistributions of source code must retain the above copyright notice.",
                "You may obtain a copy of the License at the address below.");
        InMemoryEmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
        EmbeddingStoreIngestor.builder().embeddingModel(embedder).embeddingStore(store).build()
                .ingest(texts.stream().map(Document::from).toList());

        String query = "copyright notice in source code";
        Embedding q = embedder.embed(query).content();
        float[] expectedQ = model.embed(query, Pooling.MEAN, true);
        // the adapter hands the core API's vector through unchanged
        assertThat(q.vector()).containsExactly(expectedQ);

        List<EmbeddingMatch<TextSegment>> matches = store.search(EmbeddingSearchRequest.builder().queryEmbedding(q).maxResults(3).build()).matches();
        List<String> byCosine = new ArrayList<>(texts);
        byCosine.sort(Comparator.comparingDouble((String t) -> dot(expectedQ, model.embed(t, Pooling.MEAN, true))).reversed());
        assertThat(matches).extracting(m -> m.embedded().text()).containsExactlyElementsOf(byCosine);
        for (EmbeddingMatch<TextSegment> m : matches) {
            // the store scores (cosine + 1) / 2; float sums in two orders differ by rounding only
            double cosine = dot(expectedQ, model.embed(m.embedded().text(), Pooling.MEAN, true));
            assertThat(m.score()).isCloseTo((cosine + 1) / 2, within(1e-5));
        }

        var usage = embedder.embedAll(List.of(TextSegment.from(texts.get(0)), TextSegment.from(texts.get(1)))).tokenUsage();
        assertThat(usage.inputTokenCount())
                .isEqualTo(model.tokenizer().encode(texts.get(0)).length + model.tokenizer().encode(texts.get(1)).length);
    }

    @Test
    void embedAllGivesEachSegmentTheVectorOfModelEmbed() {
        MobileLlmEmbeddingModel embedder = MobileLlmEmbeddingModel.builder().model(model).pooling(Pooling.LAST).build();
        List<String> texts = List.of("MIT License", "Permission is hereby granted, free of charge, to any person obtaining a copy",
                "GNU", "Apache License, Version 2.0");
        List<Embedding> got = embedder.embedAll(texts.stream().map(TextSegment::from).toList()).content();
        assertThat(got).hasSize(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            // one batched pass sums its matmuls over more rows, maybe in another order: unit vectors move by ~1e-7
            assertThat(got.get(i).vector()).as(texts.get(i)).containsExactly(model.embed(texts.get(i), Pooling.LAST, true), within(1e-5f));
        }
    }

    @Test
    void buildersRefuseWhatTheyCannotUse() {
        assertThatThrownBy(() -> MobileLlmEmbeddingModel.builder().build()).hasMessageContaining("a model is required");
        assertThatThrownBy(() -> MobileLlmLanguageModel.builder().build()).hasMessageContaining("a model is required");
        assertThatThrownBy(() -> MobileLlmTokenCountEstimator.builder().build()).hasMessageContaining("a model is required");
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }
}
