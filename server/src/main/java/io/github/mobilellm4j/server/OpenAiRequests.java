package io.github.mobilellm4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.chat.ChatMessage;
import io.github.mobilellm4j.sampling.SamplerOptions;
import java.util.ArrayList;
import java.util.List;

/** OpenAI request bodies in the engine's terms; whatever cannot be honoured is refused with the parameter named. */
final class OpenAiRequests {
    private OpenAiRequests() {
    }

    /** max_completion_tokens, else max_tokens, within [1, ceiling]; null when the request gives neither. */
    static Integer maxTokens(JsonNode body, int ceiling) {
        String param = body.hasNonNull("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        Integer max = integer(body, param);
        if (max != null && (max < 1 || max > ceiling)) throw ApiException.invalid(param, param + " must be in [1, " + ceiling + "], got " + max);
        return max;
    }

    /**
     * Generation of at most maxTokens tokens with temperature (0 = the most likely token), top_p, seed and stop (a
     * string or up to 4 strings), ended by the engine once timeout has passed.
     */
    static GenerateOptions options(JsonNode body, int maxTokens, java.time.Duration timeout) {
        for (String unsupported : List.of("tools", "functions", "logprobs", "response_format", "logit_bias")) {
            JsonNode v = body.get(unsupported);
            if (v != null && !v.isNull() && !(v.isBoolean() && !v.asBoolean())) {
                throw ApiException.invalid(unsupported, "'" + unsupported + "' is not supported by this server");
            }
        }
        JsonNode n = body.get("n");
        if (n != null && !n.isNull() && (!n.canConvertToInt() || n.asInt() != 1)) throw ApiException.invalid("n", "only n=1 is supported");
        for (String penalty : List.of("frequency_penalty", "presence_penalty")) {
            JsonNode v = body.get(penalty);
            if (v != null && !v.isNull() && v.asDouble() != 0) throw ApiException.invalid(penalty, "'" + penalty + "' is not supported by this server");
        }
        Double temperature = number(body, "temperature");
        Double topP = number(body, "top_p");
        Integer seed = integer(body, "seed");
        if (temperature != null && (temperature < 0 || temperature > 2)) throw ApiException.invalid("temperature", "temperature must be in [0, 2], got " + temperature);
        if (topP != null && (topP <= 0 || topP > 1)) throw ApiException.invalid("top_p", "top_p must be in (0, 1], got " + topP);
        SamplerOptions sampler;
        if (temperature != null && temperature == 0) {
            sampler = SamplerOptions.greedy();
        } else {
            SamplerOptions.Builder s = SamplerOptions.builder();
            if (temperature != null) s.temperature(temperature.floatValue());
            if (topP != null) s.topP(topP.floatValue());
            if (seed != null) s.seed(seed);
            sampler = s.build();
        }
        return GenerateOptions.builder().maxTokens(maxTokens).stopStrings(stops(body.get("stop"))).sampler(sampler).timeout(timeout).build();
    }

    static List<String> stops(JsonNode stop) {
        if (stop == null || stop.isNull()) return List.of();
        if (stop.isTextual()) return List.of(stop.asText());
        if (!stop.isArray() || stop.size() > 4) throw ApiException.invalid("stop", "stop must be a string or an array of up to 4 strings");
        List<String> out = new ArrayList<>();
        for (JsonNode s : stop) {
            if (!s.isTextual() || s.asText().isEmpty()) throw ApiException.invalid("stop", "stop must be a string or an array of up to 4 strings");
            out.add(s.asText());
        }
        return out;
    }

    /** The conversation: roles system (or developer), user and assistant, each with text content. */
    static List<ChatMessage> messages(JsonNode body) {
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) throw ApiException.invalid("messages", "'messages' must be a non-empty array");
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String param = "messages[" + i + "]";
            if (!m.isObject()) throw ApiException.invalid(param, param + " must be an object with a role and content");
            String role = m.path("role").asText("");
            String text = content(m.get("content"), param + ".content");
            out.add(switch (role) {
                case "system", "developer" -> ChatMessage.system(text);
                case "user" -> ChatMessage.user(text);
                case "assistant" -> ChatMessage.assistant(text);
                default -> throw ApiException.invalid(param + ".role", "role must be system, developer, user or assistant, got '" + role + "'");
            });
        }
        return out;
    }

    /** A message's content: a string, or an array of text parts. */
    private static String content(JsonNode c, String param) {
        if (c == null || c.isNull()) return "";
        if (c.isTextual()) return c.asText();
        if (!c.isArray()) throw ApiException.invalid(param, "content must be a string or an array of text parts");
        StringBuilder text = new StringBuilder();
        for (JsonNode part : c) {
            if (!"text".equals(part.path("type").asText())) throw ApiException.invalid(param, "only text content is supported, got '" + part.path("type").asText() + "'");
            text.append(part.path("text").asText());
        }
        return text.toString();
    }

    /** The prompt of a completion: one string (or an array holding one). */
    static String prompt(JsonNode body) {
        JsonNode p = body.get("prompt");
        if (p != null && p.isArray() && p.size() == 1 && p.get(0).isTextual()) return p.get(0).asText();
        if (p == null || !p.isTextual()) throw ApiException.invalid("prompt", "'prompt' must be a string");
        return p.asText();
    }

    /** The texts to embed: a string or an array of strings (at most maxInputs). */
    static List<String> inputs(JsonNode body, int maxInputs) {
        JsonNode input = body.get("input");
        if (input != null && input.isTextual()) return List.of(input.asText());
        if (input == null || !input.isArray() || input.isEmpty() || input.size() > maxInputs) {
            throw ApiException.invalid("input", "'input' must be a string or an array of 1 to " + maxInputs + " strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode s : input) {
            if (!s.isTextual()) throw ApiException.invalid("input", "'input' must be a string or an array of strings (token arrays are not supported)");
            out.add(s.asText());
        }
        return out;
    }

    static Integer integer(JsonNode body, String name) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) return null;
        if (!v.canConvertToInt() || !v.isIntegralNumber()) throw ApiException.invalid(name, "'" + name + "' must be an integer");
        return v.asInt();
    }

    static Double number(JsonNode body, String name) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) return null;
        if (!v.isNumber()) throw ApiException.invalid(name, "'" + name + "' must be a number");
        return v.asDouble();
    }

    /**
     * Whether a stream ends with a chunk of the usage (stream_options.include_usage), which only a streamed request
     * may ask for.
     */
    static boolean includeUsage(JsonNode body, boolean stream) {
        JsonNode o = body.get("stream_options");
        if (o == null || o.isNull()) return false;
        if (!stream) throw ApiException.invalid("stream_options", "'stream_options' is only allowed when 'stream' is true");
        if (!o.isObject()) throw ApiException.invalid("stream_options", "'stream_options' must be an object");
        for (var names = o.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals("include_usage")) throw ApiException.invalid("stream_options." + name, "'stream_options." + name + "' is not supported by this server");
        }
        return flag(o, "include_usage");
    }

    static boolean flag(JsonNode body, String name) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) return false;
        if (!v.isBoolean()) throw ApiException.invalid(name, "'" + name + "' must be a boolean");
        return v.asBoolean();
    }
}
