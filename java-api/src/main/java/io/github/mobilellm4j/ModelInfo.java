package io.github.mobilellm4j;

import java.util.Objects;

/**
 * What a loaded model is, read from its file's metadata when it was loaded, and how it runs. Immutable, grouped
 * by topic: {@link #shape()} (the layer stack), {@link #attention()}, {@link #vocabulary()} (special tokens and
 * the tokenizer's settings) and {@link #weights()} (what the file stores).
 *
 * @param architecture {@code general.architecture}: "llama", "mobilellm", "llama4" (MobileLLM-R1) or
 *     "mobilellm-pro"
 * @param name {@code general.name}, empty if the file has none
 * @param shape the sizes of the layer stack
 * @param attention the attention heads and their rotary position encoding
 * @param vocabulary the vocabulary's size and special tokens
 * @param weights what the file stores
 * @param backend the backend running the model
 * @param threads the CPU threads the model runs on
 */
public record ModelInfo(String architecture, String name, Shape shape, Attention attention, Vocabulary vocabulary,
        Weights weights, Backend backend, int threads) {
    public ModelInfo {
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(attention, "attention");
        Objects.requireNonNull(vocabulary, "vocabulary");
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(backend, "backend");
    }

    /**
     * The sizes of the layer stack. MobileLLM's layer sharing applies each stored block {@code blockRepeat} times in
     * a row, so {@code layers = blocks * blockRepeat} (each applied layer has its own KV cache).
     *
     * @param blocks the distinct blocks stored in the file
     * @param blockRepeat how often each block is applied in a row (1: no layer sharing)
     * @param layers the applied layers
     * @param embeddingLength the width of the hidden state
     * @param feedForwardLength the width of the feed-forward layers
     * @param contextLength the context the model was trained for (a session's default context may be shorter)
     * @param rmsNormEps the epsilon of the RMS norms
     */
    public record Shape(int blocks, int blockRepeat, int layers, int embeddingLength, int feedForwardLength,
            int contextLength, float rmsNormEps) {
    }

    /**
     * The attention heads and their rotary position encoding (grouped-query attention when
     * {@code headCountKv < headCount}).
     *
     * @param headCount the query heads
     * @param headCountKv the key/value heads
     * @param headDim the width of one head
     * @param ropeFreqBase the base frequency of the rotary position encoding
     */
    public record Attention(int headCount, int headCountKv, int headDim, float ropeFreqBase) {
    }

    /**
     * The vocabulary's size, its special tokens (-1 where the file names none) and the tokenizer's BOS / EOS
     * settings.
     *
     * @param size the number of tokens
     * @param bosToken the beginning-of-sequence token
     * @param eosToken the end-of-sequence token
     * @param unkToken the token of unknown text
     * @param padToken the padding token
     * @param addBos whether a prompt starts with BOS by default
     * @param addEos the file's {@code tokenizer.ggml.add_eos_token} (encoding here never appends EOS)
     */
    public record Vocabulary(int size, int bosToken, int eosToken, int unkToken, int padToken, boolean addBos,
            boolean addEos) {
    }

    /**
     * What the file stores.
     *
     * @param fileType {@code general.file_type} (llama.cpp's numbering of the main weight type, e.g. 7 for q8_0), -1
     *     if absent
     * @param parameterCount the parameters stored
     * @param sizeBytes the bytes of tensor data
     * @param tiedEmbeddings whether the output head reuses the token embedding (no {@code output.weight})
     */
    public record Weights(int fileType, long parameterCount, long sizeBytes, boolean tiedEmbeddings) {
    }
}
