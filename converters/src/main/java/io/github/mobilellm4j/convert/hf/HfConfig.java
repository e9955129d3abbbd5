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
        int hidden = req(file, n, "hidden_size");
        int heads = req(file, n, "num_attention_heads");
        int kv = n.has("num_key_value_heads") && !n.get("num_key_value_heads").isNull() ? req(file, n, "num_key_value_heads") : heads;
        if (hidden % heads != 0) throw new ConversionException(file, "hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
        int headDim = n.has("head_dim") && !n.get("head_dim").isNull() ? req(file, n, "head_dim") : hidden / heads;
        if (headDim * heads != hidden) throw new ConversionException(file, "head_dim " + headDim + " * heads " + heads + " != hidden_size " + hidden + " (unsupported)");
        if (headDim % 2 != 0) throw new ConversionException(file, "head dimension " + headDim + " is odd");
        if (heads % kv != 0) throw new ConversionException(file, "num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kv);
        String act = n.path("hidden_act").asText("silu");
        if (!act.equals("silu")) throw new ConversionException(file, "unsupported hidden_act '" + act + "' (expected silu)");
        JsonNode scaling = n.get("rope_scaling");
        if (scaling != null && !scaling.isNull()) throw new ConversionException(file, "rope_scaling is not supported");
        if (n.path("attention_bias").asBoolean(false) || n.path("mlp_bias").asBoolean(false)) {
            throw new ConversionException(file, "biases (attention_bias/mlp_bias) are not supported");
        }
        return new HfConfig(file, arch.isEmpty() ? mt : arch,
                hidden, req(file, n, "intermediate_size"), req(file, n, "num_hidden_layers"), heads, kv, headDim,
                (float) n.path("rms_norm_eps").asDouble(1e-5), (float) n.path("rope_theta").asDouble(10000.0),
                n.has("max_position_embeddings") ? req(file, n, "max_position_embeddings") : 2048,
                req(file, n, "vocab_size"),
                optInt(n, "bos_token_id", 1), optInt(n, "eos_token_id", 2),
                n.path("share_embedding").asBoolean(false),
                n.path("tie_word_embeddings").asBoolean(false),
                n.path("layer_sharing").asBoolean(false),
                n.path("torch_dtype").asText(""));
    }

    private static int req(Path file, JsonNode n, String key) throws ConversionException {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) throw new ConversionException(file, "missing \"" + key + "\"");
        if (!v.isIntegralNumber() || v.asLong() <= 0 || v.asLong() > Integer.MAX_VALUE) {
            throw new ConversionException(file, "\"" + key + "\" must be a positive integer, got " + v);
        }
        return v.asInt();
    }

    private static int optInt(JsonNode n, String key, int def) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return def;
        if (v.isArray() && !v.isEmpty()) return v.get(0).asInt(def);
        return v.isIntegralNumber() ? v.asInt() : def;
    }
}
