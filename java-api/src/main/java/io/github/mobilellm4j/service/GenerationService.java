package io.github.mobilellm4j.service;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.GeneratedToken;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Pooling;
import io.github.mobilellm4j.chat.ChatMessage;
import io.github.mobilellm4j.chat.ChatReply;
import io.github.mobilellm4j.chat.ChatSession;
import io.github.mobilellm4j.chat.ChatTemplate;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Text and embedding requests over one model, the way integrations make them (LangChain4j and Spring AI models, an
 * HTTP server): each call is one whole request, from any thread, and how requests share the model is the service's
 * concern, not the caller's. {@link SessionPool} serves each request in a session of a bounded pool.
 *
 * <p>Callbacks run on the thread that made the call, between tokens. A callback that throws ends its request and the
 * exception comes out of the call: that is how a caller stops a stream early.
 */
public interface GenerationService extends AutoCloseable {
    /** The model served. */
    Model model();

    /** The name the model goes by in requests and responses: the GGUF file's general.name, else its file name. */
    default String modelName() {
        String n = model().info().name();
        return n == null || n.isBlank() ? String.valueOf(model().path().getFileName()) : n;
    }

    /**
     * Continues a text prompt (BOS and special-token text per options).
     *
     * @param onToken receives each token as it is generated; may be null
     * @throws java.util.concurrent.RejectedExecutionException when the service is too busy to take the request
     */
    Generation complete(String prompt, GenerateOptions options, Consumer<GeneratedToken> onToken);

    /**
     * The assistant's reply to a conversation, rendered with {@link #chatTemplate()}.
     *
     * @param onChunk receives the reply as it is generated, reasoning and answer apart; may be null
     * @throws IllegalStateException when there is no chat template
     * @throws java.util.concurrent.RejectedExecutionException when the service is too busy to take the request
     */
    ChatReply chat(List<ChatMessage> messages, GenerateOptions options, Consumer<ChatSession.Chunk> onChunk);

    /**
     * The embedding of a text (BOS per the model's setting).
     *
     * @throws java.util.concurrent.RejectedExecutionException when the service is too busy to take the request
     */
    float[] embed(String text, Pooling pooling, boolean normalize);

    /**
     * The embeddings of many texts, in order, each as {@link #embed} gives it (up to float rounding). This default
     * embeds them one by one; services over a whole model embed them in batched passes ({@link Model#embedAll}).
     *
     * @throws java.util.concurrent.RejectedExecutionException when the service is too busy to take the request
     */
    default List<float[]> embedAll(List<String> texts, Pooling pooling, boolean normalize) {
        List<float[]> out = new java.util.ArrayList<>(texts.size());
        for (String text : texts) out.add(embed(text, pooling, normalize));
        return out;
    }

    /** The template that renders conversations: the one the service was given, else the model's; empty when neither. */
    Optional<ChatTemplate> chatTemplate();

    /** Frees what the service holds for its requests; the model stays open (it belongs to the caller). */
    @Override
    void close();
}
