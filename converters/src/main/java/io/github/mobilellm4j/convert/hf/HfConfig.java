package io.github.mobilellm4j.convert.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mobilellm4j.convert.ConversionException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The parts of a Hugging Face config.json that describe a MobileLLM / Llama model, in any of its
 * forms: hub (MobileLLMForCausalLM, share_embedding, layer_sharing), GitHub copies
 * (LlamaForCausalLM + share_embedding) and plain Llama (tie_word_embeddings).
 */
public record HfConfig(
        Path file,
        String architecture,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        float rmsNormEps,
        float ropeTheta,
        int maxPositions,
        int vocabSize,
        int bosTokenId,
        int eosTokenId,
        boolean shareEmbedding,
        boolean tieWordEmbeddings,
        boolean layerSharing,
        String torchDtype) {

    /** True when the output head is the input embedding. */
    public boolean sharedEmbeddings() {
        return shareEmbedding || tieWordEmbeddings;
    }

    // The engine's limits on what a GGUF file may declare (native/src/model/model_load.c; the table in
    // docs/converter.md). A value outside them would give a file the engine refuses to load.
    static final int MAX_HIDDEN = 1 << 16;
    static final int MAX_INTERMEDIATE = 1 << 20;
    static final int MAX_LAYERS = 1024;
    static final int MAX_HEADS = 4096;
    static final int MAX_HEAD_DIM = 512;
    static final int MAX_POSITIONS = 1 << 20;
    static final int MAX_VOCAB = 1 << 24;
    static final double MAX_ROPE_THETA = 1e30;

    /**
     * Reads and validates config.json: every value the converter uses must have the right type and lie in
     * the engine's range, before any weight is read or anything is sized from it.
     */
    public static HfConfig read(Path file) throws ConversionException {
        JsonNode n;
        try {
            n = new ObjectMapper().readTree(Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            throw new ConversionException(file, "invalid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ConversionException.io(file, "cannot read", e);
        }
        if (n == null || !n.isObject()) throw new ConversionException(file, "not a JSON object");
        String arch = "";
        JsonNode a = n.get("architectures");
        if (a != null && a.isArray() && !a.isEmpty()) arch = a.get(0).asText();
        String mt = n.path("model_type").asText("");
        boolean known = arch.equals("MobileLLMForCausalLM") || arch.equals("LlamaForCausalLM")
                || mt.equals("mobilellm") || mt.equals("llama");
        if (!known) {
            throw new ConversionException(file, "unsupported model (architectures " + a + ", model_type '" + mt + "'); expected MobileLLM or Llama");
        }
        int hidden = intIn(file, n, "hidden_size", 1, MAX_HIDDEN, -1);
        int intermediate = intIn(file, n, "intermediate_size", 1, MAX_INTERMEDIATE, -1);
        int layers = intIn(file, n, "num_hidden_layers", 1, MAX_LAYERS, -1);
        int heads = intIn(file, n, "num_attention_heads", 1, MAX_HEADS, -1);
        int kv = intIn(file, n, "num_key_value_heads", 1, MAX_HEADS, heads);
        int positions = intIn(file, n, "max_position_embeddings", 1, MAX_POSITIONS, 2048);
        int vocab = intIn(file, n, "vocab_size", 1, MAX_VOCAB, -1);
        if (hidden % heads != 0) throw new ConversionException(file, "hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
        int headDim = intIn(file, n, "head_dim", 2, MAX_HEAD_DIM, hidden / heads);
        if (headDim * heads != hidden) throw new ConversionException(file, "head_dim " + headDim + " * heads " + heads + " != hidden_size " + hidden + " (unsupported)");
        if (headDim % 2 != 0) throw new ConversionException(file, "head dimension " + headDim + " is odd");
        if (heads % kv != 0) throw new ConversionException(file, "num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kv);
        boolean layerSharing = bool(file, n, "layer_sharing");
        if (layerSharing && 2 * layers > MAX_LAYERS) {
            throw new ConversionException(file, "layer sharing applies each of the " + layers + " blocks twice: "
                    + 2 * layers + " layers, more than " + MAX_LAYERS);
        }
        float eps = (float) number(file, n, "rms_norm_eps", 1e-5);
        if (!(eps > 0f && eps < 1f)) { // checked as stored: a tiny double rounds to 0 in float32
            throw new ConversionException(file, "\"rms_norm_eps\" must be in (0, 1), got " + n.get("rms_norm_eps"));
        }
        double theta = number(file, n, "rope_theta", 10000.0);
        if (!(theta > 0 && theta <= MAX_ROPE_THETA)) {
            throw new ConversionException(file, "\"rope_theta\" must be in (0, 1e30], got " + n.get("rope_theta"));
        }
        String act = n.path("hidden_act").asText("silu");
        if (!act.equals("silu")) throw new ConversionException(file, "unsupported hidden_act '" + act + "' (expected silu)");
        JsonNode scaling = n.get("rope_scaling");
        if (scaling != null && !scaling.isNull()) throw new ConversionException(file, "rope_scaling is not supported");
        if (bool(file, n, "attention_bias") || bool(file, n, "mlp_bias")) {
            throw new ConversionException(file, "biases (attention_bias/mlp_bias) are not supported");
        }
        return new HfConfig(file, arch.isEmpty() ? mt : arch, hidden, intermediate, layers, heads, kv, headDim, eps,
                (float) theta, positions, vocab, tokenId(file, n, "bos_token_id", vocab, 1),
                tokenId(file, n, "eos_token_id", vocab, 2), bool(file, n, "share_embedding"),
                bool(file, n, "tie_word_embeddings"), layerSharing, n.path("torch_dtype").asText(""));
    }

    /** An integer in lo..hi; def when absent or null (def &lt; 0: required). */
    private static int intIn(Path file, JsonNode n, String key, int lo, int hi, int def) throws ConversionException {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            if (def < 0) throw new ConversionException(file, "missing \"" + key + "\"");
            return def;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < lo || v.asLong() > hi) {
            throw new ConversionException(file, "\"" + key + "\" must be an integer in " + lo + ".." + hi + ", got " + v);
        }
        return v.asInt();
    }

    /** A JSON number; def when absent or null. */
    private static double number(Path file, JsonNode n, String key, double def) throws ConversionException {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return def;
        if (!v.isNumber()) throw new ConversionException(file, "\"" + key + "\" must be a number, got " + v);
        return v.asDouble();
    }

    /** A JSON boolean; false when absent or null. */
    private static boolean bool(Path file, JsonNode n, String key) throws ConversionException {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return false;
        if (!v.isBoolean()) throw new ConversionException(file, "\"" + key + "\" must be true or false, got " + v);
        return v.asBoolean();
    }

    /** A token id in 0..vocab-1 (the first of a list, as some configs give several EOS ids); def when absent. */
    private static int tokenId(Path file, JsonNode n, String key, int vocab, int def) throws ConversionException {
        JsonNode v = n.get(key);
        if (v != null && v.isArray() && !v.isEmpty()) v = v.get(0);
        if (v == null || v.isNull() || v.isArray()) return def;
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0 || v.asLong() >= vocab) {
            throw new ConversionException(file, "\"" + key + "\" must be an integer in 0.." + (vocab - 1) + ", got " + v);
        }
        return v.asInt();
    }
}
