package io.github.mobilellm4j.convert.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mobilellm4j.convert.ConversionException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The parts of a Hugging Face config.json that describe a MobileLLM model, in any of its forms: the
 * 2024 models as hub (MobileLLMForCausalLM, share_embedding, layer_sharing), GitHub copies
 * (LlamaForCausalLM + share_embedding) and plain Llama (tie_word_embeddings); MobileLLM-R1
 * (Llama4ForCausalLM, model_type llama4_text, dense) and MobileLLM-Pro (MobileLLMP1ForCausalLM: the
 * Llama 4 text fields plus sliding-window layers), see {@link Llama4Text}.
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
        String torchDtype,
        Family family,
        Attention attention,
        RopeScaling ropeScaling) {

    /** Which architecture the config describes. */
    public enum Family {
        /** The 2024 MobileLLM models and plain Llama: RoPE on every layer. */
        LLAMA,
        /** MobileLLM-R1: Llama 4's text model, dense, QK-norm. */
        LLAMA4_TEXT,
        /** MobileLLM-Pro: Llama 4's text model with sliding-window layers. */
        MOBILELLM_PRO
    }

    /** How one layer handles positions: RoPE or NoPE, and its sliding window (0: full attention). */
    public record LayerAttention(boolean rope, int window) {}

    /**
     * Position handling of every layer; QK-norm applies to the RoPE layers, temperature tuning
     * (query scale 1 + temperatureScale * log(floor((pos + 1) / floorScale) + 1)) to the NoPE ones.
     */
    public record Attention(List<LayerAttention> layers, boolean qkNorm, boolean temperatureTuning, float temperatureScale,
                            int floorScale) {
        static Attention plain(int layers) {
            return new Attention(java.util.Collections.nCopies(layers, new LayerAttention(true, 0)), false, false, 0.1f, 8192);
        }

        /** True when every layer is a RoPE layer with full attention. */
        public boolean allRopeFull() {
            return layers.stream().allMatch(l -> l.rope() && l.window() == 0);
        }

        /** The sliding window of the layers that have one, 0 if none. */
        public int slidingWindow() {
            return layers.stream().mapToInt(LayerAttention::window).max().orElse(0);
        }
    }

    /** Llama 3 RoPE scaling (rope_type "llama3"): inverse frequency i is divided by factors(...)[i]. */
    public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, double originalContext) {
        /** The divisor of each of the headDim / 2 inverse frequencies theta^(-2i/headDim), as transformers scales them. */
        public float[] factors(int headDim, double theta) {
            float[] f = new float[headDim / 2];
            double lowWavelen = originalContext / lowFreqFactor, highWavelen = originalContext / highFreqFactor;
            for (int i = 0; i < f.length; i++) {
                double wavelen = 2 * Math.PI * Math.pow(theta, 2.0 * i / headDim);
                if (wavelen < highWavelen) {
                    f[i] = 1f;
                } else if (wavelen > lowWavelen) {
                    f[i] = (float) factor;
                } else {
                    double smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                    f[i] = (float) (1 / ((1 - smooth) / factor + smooth));
                }
            }
            return f;
        }
    }

    /** The prefix of the feed-forward weights of a layer: "mlp." (Llama) or "feed_forward." (Llama 4). */
    public String ffnPrefix() {
        return family == Family.LLAMA ? "mlp." : "feed_forward.";
    }

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
        Family family;
        if (arch.equals("MobileLLMP1ForCausalLM")) family = Family.MOBILELLM_PRO;
        else if (arch.equals("Llama4ForCausalLM") || (arch.isEmpty() && mt.equals("llama4_text"))) family = Family.LLAMA4_TEXT;
        else if (arch.equals("MobileLLMForCausalLM") || arch.equals("LlamaForCausalLM") || (arch.isEmpty() && (mt.equals("mobilellm") || mt.equals("llama")))) family = Family.LLAMA;
        else {
            throw new ConversionException(file, "unsupported model (architectures " + a + ", model_type '" + mt
                    + "'); expected MobileLLM (MobileLLMForCausalLM, LlamaForCausalLM), MobileLLM-R1 (Llama4ForCausalLM) or MobileLLM-Pro (MobileLLMP1ForCausalLM)");
        }
        boolean llama4 = family != Family.LLAMA;
        int hidden = intIn(file, n, "hidden_size", 1, MAX_HIDDEN, -1);
        // Llama 4 keeps the dense layers' width in intermediate_size_mlp (intermediate_size is the experts')
        int intermediate = intIn(file, n, llama4 ? "intermediate_size_mlp" : "intermediate_size", 1, MAX_INTERMEDIATE, -1);
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
        // RoPE: transformers 5's rope_parameters {rope_type, rope_theta, ...}, or rope_theta + rope_scaling
        JsonNode rp = n.get("rope_parameters");
        boolean v5 = rp != null && rp.isObject();
        String ropeKey = v5 ? "rope_parameters" : "rope_scaling";
        JsonNode scaling = v5 ? rp : n.get("rope_scaling");
        double theta = number(file, v5 && rp.has("rope_theta") ? rp : n, "rope_theta", llama4 ? 500000.0 : 10000.0);
        if (!(theta > 0 && theta <= MAX_ROPE_THETA)) {
            throw new ConversionException(file, "\"rope_theta\" must be in (0, 1e30], got " + theta);
        }
        RopeScaling ropeScaling = ropeScaling(file, ropeKey, scaling);
        String act = n.path("hidden_act").asText("silu");
        if (!act.equals("silu")) throw new ConversionException(file, "unsupported hidden_act '" + act + "' (expected silu)");
        if (bool(file, n, "attention_bias") || bool(file, n, "mlp_bias")) {
            throw new ConversionException(file, "biases (attention_bias/mlp_bias) are not supported");
        }
        if (llama4 && layerSharing) throw new ConversionException(file, "\"layer_sharing\" is not supported for Llama 4 models");
        Attention attention = llama4 ? Llama4Text.read(file, n, layers, positions, family == Family.MOBILELLM_PRO) : Attention.plain(layers);
        String dtype = n.path("torch_dtype").asText(n.path("dtype").asText(""));
        return new HfConfig(file, arch.isEmpty() ? mt : arch, hidden, intermediate, layers, heads, kv, headDim, eps,
                (float) theta, positions, vocab, tokenId(file, n, "bos_token_id", vocab, 1),
                tokenId(file, n, "eos_token_id", vocab, 2), bool(file, n, "share_embedding"),
                bool(file, n, "tie_word_embeddings"), layerSharing, dtype, family, attention, ropeScaling);
    }

    /** Llama 3 scaling from rope_scaling / rope_parameters, null for plain RoPE; any other type is refused. */
    private static RopeScaling ropeScaling(Path file, String key, JsonNode s) throws ConversionException {
        if (s == null || s.isNull()) return null;
        if (!s.isObject()) throw new ConversionException(file, "\"" + key + "\" must be an object, got " + s);
        String type = s.path("rope_type").asText(s.path("type").asText("default"));
        if (type.equals("default")) return null;
        if (!type.equals("llama3")) throw new ConversionException(file, "\"" + key + "\": RoPE type '" + type + "' is not supported (default and llama3 are)");
        double factor = number(file, s, "factor", -1), low = number(file, s, "low_freq_factor", -1);
        double high = number(file, s, "high_freq_factor", -1), orig = number(file, s, "original_max_position_embeddings", -1);
        if (!(factor >= 1 && factor < 1e6 && low > 0 && high > low && high < 1e6 && orig >= 1 && orig <= MAX_POSITIONS)) {
            throw new ConversionException(file, "\"" + key + "\": llama3 scaling needs factor >= 1, 0 < low_freq_factor < high_freq_factor and "
                    + "original_max_position_embeddings >= 1, got " + s);
        }
        return new RopeScaling(factor, low, high, orig);
    }

    /** An integer in lo..hi; def when absent or null (def &lt; 0: required). */
    static int intIn(Path file, JsonNode n, String key, int lo, int hi, int def) throws ConversionException {
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
    static double number(Path file, JsonNode n, String key, double def) throws ConversionException {
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
