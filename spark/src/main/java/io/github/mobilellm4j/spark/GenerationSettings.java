package io.github.mobilellm4j.spark;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.sampling.SamplerOptions;
import java.util.Map;

/**
 * The options map of {@code mobilellm_generate(text, options)} turned into {@link GenerateOptions}. Without a
 * temperature (or with temperature 0) decoding is greedy, so a job gives the same text on every run and every
 * retry of a task.
 */
final class GenerationSettings {
    static final String MAX_TOKENS = "max_tokens";
    static final String TEMPERATURE = "temperature";
    static final String TOP_K = "top_k";
    static final String TOP_P = "top_p";
    static final String MIN_P = "min_p";
    static final String SEED = "seed";
    static final String STOP = "stop";
    static final String IGNORE_EOS = "ignore_eos";
    /** Options that only matter when sampling. */
    private static final java.util.Set<String> SAMPLING_ONLY = java.util.Set.of(TOP_K, TOP_P, MIN_P, SEED);

    private GenerationSettings() {
    }

    /** Greedy decoding of at most 128 tokens: what an empty options map means. */
    static GenerateOptions defaults() {
        return parse(Map.of());
    }

    /**
     * @throws IllegalArgumentException naming the key when a key is unknown or its value is not valid
     */
    static GenerateOptions parse(Map<String, String> options) {
        GenerateOptions.Builder generate = GenerateOptions.builder().greedy();
        SamplerOptions.Builder sampler = SamplerOptions.builder();
        boolean sampling = false;
        boolean samplerSet = false;
        for (Map.Entry<String, String> e : options.entrySet()) {
            String key = e.getKey();
            try {
                if (e.getValue() == null) throw new IllegalArgumentException("no value");
                String value = e.getValue().trim();
                switch (key) {
                    case MAX_TOKENS -> generate.maxTokens(Integer.parseInt(value));
                    case STOP -> generate.stopStrings(e.getValue());
                    case IGNORE_EOS -> generate.ignoreEos(parseBoolean(value));
                    case TEMPERATURE -> {
                        float t = Float.parseFloat(value);
                        sampling = t > 0;
                        sampler.temperature(t);
                    }
                    case TOP_K -> sampler.topK(Integer.parseInt(value));
                    case TOP_P -> sampler.topP(Float.parseFloat(value));
                    case MIN_P -> sampler.minP(Float.parseFloat(value));
                    case SEED -> sampler.seed(Long.parseLong(value));
                    default -> throw new IllegalArgumentException("unknown option; the options are " + MAX_TOKENS
                            + ", " + STOP + ", " + IGNORE_EOS + ", " + TEMPERATURE + ", " + TOP_K + ", " + TOP_P + ", "
                            + MIN_P + ", " + SEED);
                }
                samplerSet |= SAMPLING_ONLY.contains(key);
            } catch (IllegalArgumentException ex) { // NumberFormatException included
                throw new IllegalArgumentException("mobilellm_generate option '" + key + "' = '" + e.getValue()
                        + "': " + ex.getMessage(), ex);
            }
        }
        if (samplerSet && !sampling) {
            throw new IllegalArgumentException("mobilellm_generate options " + TOP_K + ", " + TOP_P + ", " + MIN_P
                    + " and " + SEED + " apply to sampling: set " + TEMPERATURE + " > 0 as well");
        }
        if (sampling) {
            generate.sampler(sampler.build());
        }
        return generate.build();
    }

    private static boolean parseBoolean(String value) {
        return switch (value.toLowerCase(java.util.Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("expected true or false");
        };
    }
}
