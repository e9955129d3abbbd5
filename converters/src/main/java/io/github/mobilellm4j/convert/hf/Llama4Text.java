package io.github.mobilellm4j.convert.hf;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mobilellm4j.convert.ConversionException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The fields of a Llama 4 text config (transformers' Llama4TextConfig, model_type llama4_text) that
 * MobileLLM-R1 and MobileLLM-Pro use, read with transformers' defaults, into how each layer handles
 * positions. Everything this engine does not run is refused with the field named: mixture-of-experts
 * layers, Llama 4's chunked attention (unless the chunk holds the whole trained context), sliding
 * windows outside MobileLLM-Pro, biases.
 *
 * <p>Semantics as transformers' Llama 4 text model has them: {@code no_rope_layers[l] == 1} means
 * layer l USES RoPE (default: every fourth layer, {@code no_rope_layer_interval}, is NoPE);
 * {@code use_qk_norm} (default true) is a weightless RMS norm of q and k after RoPE, on RoPE layers
 * only; {@code attn_temperature_tuning} (default true) scales q on NoPE layers only; layer_types
 * defaults to "chunked_attention" on RoPE layers and "full_attention" on NoPE layers; moe_layers
 * defaults to every {@code interleave_moe_layer_step}-th layer (default 1: all of them).
 */
public final class Llama4Text {
    private Llama4Text() {}

    /**
     * Reads the Llama 4 fields of config.json (n is its root); pro: MobileLLMP1ForCausalLM, whose
     * layer_types may also say "sliding_attention" (window sliding_window).
     */
    static HfConfig.Attention read(Path file, JsonNode n, int layers, int maxPositions, boolean pro) throws ConversionException {
        checkMoe(file, n, layers);
        List<Integer> noRope = intList(file, n, "no_rope_layers", layers);
        int interval = HfConfig.intIn(file, n, "no_rope_layer_interval", 1, Integer.MAX_VALUE, 4);
        List<String> types = stringList(file, n, "layer_types", layers);
        boolean qkNorm = bool(file, n, "use_qk_norm", true);
        boolean temp = bool(file, n, "attn_temperature_tuning", true);
        int floorScale = HfConfig.intIn(file, n, "floor_scale", 1, Integer.MAX_VALUE, 8192);
        double attnScale = HfConfig.number(file, n, "attn_scale", 0.1);
        if (!(attnScale >= 0 && attnScale < 1e6)) throw new ConversionException(file, "\"attn_scale\" must be in [0, 1e6), got " + n.get("attn_scale"));
        int chunk = HfConfig.intIn(file, n, "attention_chunk_size", 1, Integer.MAX_VALUE, 8192);
        int window = HfConfig.intIn(file, n, "sliding_window", 1, Integer.MAX_VALUE, 0);
        if (n.hasNonNull("rope_local_base_freq")) {
            throw new ConversionException(file, "\"rope_local_base_freq\" (a RoPE base of its own for local layers) is not supported");
        }
        List<HfConfig.LayerAttention> out = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            boolean rope = noRope == null ? (l + 1) % interval != 0 : noRope.get(l) != 0;
            if (noRope != null && noRope.get(l) != 0 && noRope.get(l) != 1) {
                throw new ConversionException(file, "\"no_rope_layers\" entries must be 0 (NoPE) or 1 (RoPE), got " + noRope.get(l));
            }
            String type = types == null ? (rope ? "chunked_attention" : "full_attention") : types.get(l);
            int w = switch (type) {
                case "full_attention" -> 0;
                case "chunked_attention" -> {
                    if (chunk < maxPositions) {
                        throw new ConversionException(file, "layer " + l + " has Llama 4's chunked attention (\"layer_types\", \"attention_chunk_size\" "
                                + chunk + " < max_position_embeddings " + maxPositions + "), which is not supported");
                    }
                    yield 0; // a chunk that holds the whole trained context is full attention there
                }
                case "sliding_attention" -> {
                    if (!pro) throw new ConversionException(file, "\"layer_types\": sliding_attention is only supported for MobileLLM-Pro (MobileLLMP1ForCausalLM)");
                    if (window == 0) throw new ConversionException(file, "\"layer_types\" has sliding_attention layers but \"sliding_window\" is missing");
                    yield window;
                }
                default -> throw new ConversionException(file, "\"layer_types\": unsupported layer type '" + type + "'");
            };
            out.add(new HfConfig.LayerAttention(rope, w));
        }
        return new HfConfig.Attention(List.copyOf(out), qkNorm, temp, (float) attnScale, floorScale);
    }

    private static void checkMoe(Path file, JsonNode n, int layers) throws ConversionException {
        JsonNode moe = n.get("moe_layers");
        if (moe != null && !moe.isNull()) {
            if (!moe.isArray()) throw new ConversionException(file, "\"moe_layers\" must be a list, got " + moe);
            if (!moe.isEmpty()) throw new ConversionException(file, "\"moe_layers\" " + moe + ": mixture-of-experts layers are not supported");
            return;
        }
        int step = HfConfig.intIn(file, n, "interleave_moe_layer_step", 0, Integer.MAX_VALUE, 1);
        if (step > 0 && step <= layers) {
            throw new ConversionException(file, "\"interleave_moe_layer_step\" " + step + " makes mixture-of-experts layers, which are not supported");
        }
    }

    private static boolean bool(Path file, JsonNode n, String key, boolean def) throws ConversionException {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return def;
        if (!v.isBoolean()) throw new ConversionException(file, "\"" + key + "\" must be true or false, got " + v);
        return v.asBoolean();
    }

    /** A list of at least `layers` integers (its first `layers` entries), or null when absent or empty. */
    private static List<Integer> intList(Path file, JsonNode n, String key, int layers) throws ConversionException {
        JsonNode v = n.get(key);
        if (v == null || v.isNull() || (v.isArray() && v.isEmpty())) return null;
        if (!v.isArray() || v.size() < layers) throw new ConversionException(file, "\"" + key + "\" must be a list of at least " + layers + " integers");
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            if (!v.get(i).isIntegralNumber()) throw new ConversionException(file, "\"" + key + "\" must hold integers, got " + v.get(i));
            out.add(v.get(i).asInt());
        }
        return out;
    }

    /** A list of exactly `layers` strings, or null when absent. */
    private static List<String> stringList(Path file, JsonNode n, String key, int layers) throws ConversionException {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return null;
        if (!v.isArray() || v.size() != layers) throw new ConversionException(file, "\"" + key + "\" must be a list of " + layers + " strings, one per layer");
        List<String> out = new ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isTextual()) throw new ConversionException(file, "\"" + key + "\" must hold strings, got " + e);
            out.add(e.asText());
        }
        return out;
    }
}
