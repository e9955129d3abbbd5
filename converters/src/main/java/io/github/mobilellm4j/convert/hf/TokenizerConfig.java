package io.github.mobilellm4j.convert.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mobilellm4j.convert.ConversionException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The files of a Hugging Face folder that describe a tokenizer beside its model:
 * tokenizer_config.json (special tokens, add_bos_token/add_eos_token, added_tokens_decoder,
 * chat_template), special_tokens_map.json (special tokens, when tokenizer_config.json does not
 * name them), added_tokens.json (content -> id), generation_config.json (eos_token_id, possibly a
 * list: the tokens that end generation) and chat_template.jinja / chat_template.json (the chat
 * template, when tokenizer_config.json has none). Every file is optional.
 */
public final class TokenizerConfig {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A token added to the model's vocabulary; lstrip/rstrip/singleWord are HF's matching options. */
    public record AddedToken(int id, String content, boolean special, boolean lstrip, boolean rstrip, boolean singleWord) {}

    private final JsonNode config;
    private final JsonNode specialMap;
    private final Map<Integer, AddedToken> added = new TreeMap<>();
    private final List<Integer> generationEos = new ArrayList<>();
    private final String chatTemplate;

    private TokenizerConfig(JsonNode config, JsonNode specialMap, String chatTemplate) {
        this.config = config;
        this.specialMap = specialMap;
        this.chatTemplate = chatTemplate;
    }

    public static TokenizerConfig read(Path dir) throws ConversionException {
        Path tc = dir.resolve("tokenizer_config.json");
        JsonNode config = Files.isRegularFile(tc) ? json(tc) : null;
        Path stm = dir.resolve("special_tokens_map.json");
        JsonNode specialMap = Files.isRegularFile(stm) ? json(stm) : null;
        TokenizerConfig c = new TokenizerConfig(config, specialMap, chatTemplate(dir, tc, config));
        Path at = dir.resolve("added_tokens.json");
        if (Files.isRegularFile(at)) {
            for (Iterator<Map.Entry<String, JsonNode>> it = json(at).fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                int id = tokenId(at, e.getValue(), e.getKey());
                boolean special = isListedSpecial(c, e.getKey());
                c.added.put(id, new AddedToken(id, e.getKey(), special, false, false, false));
            }
        }
        if (config != null && config.path("added_tokens_decoder").isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = config.get("added_tokens_decoder").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException x) {
                    throw new ConversionException(tc, "added_tokens_decoder key '" + e.getKey() + "' is not a token id");
                }
                if (id < 0) throw new ConversionException(tc, "added_tokens_decoder has a negative token id " + id);
                c.added.put(id, addedToken(tc, id, e.getValue()));
            }
        }
        Path gc = dir.resolve("generation_config.json");
        if (Files.isRegularFile(gc)) {
            JsonNode eos = json(gc).get("eos_token_id");
            if (eos != null && eos.isArray()) {
                for (JsonNode x : eos) c.generationEos.add(tokenId(gc, x, "eos_token_id"));
            } else if (eos != null && !eos.isNull()) {
                c.generationEos.add(tokenId(gc, eos, "eos_token_id"));
            }
        }
        return c;
    }

    /** Parses one added-token object ({"content", "special", "lstrip", ...}) of tokenizer.json or tokenizer_config.json. */
    static AddedToken addedToken(Path file, int id, JsonNode n) throws ConversionException {
        if (!n.path("content").isTextual()) throw new ConversionException(file, "added token " + id + " has no \"content\" string");
        return new AddedToken(id, n.get("content").asText(), n.path("special").asBoolean(false), n.path("lstrip").asBoolean(false),
                n.path("rstrip").asBoolean(false), n.path("single_word").asBoolean(false));
    }

    /** Tokens added beside the tokenizer's own vocabulary, by id. */
    public Map<Integer, AddedToken> addedTokens() {
        return added;
    }

    /** The text of a special token ("bos_token", "eos_token", "unk_token", "pad_token"), or null. */
    public String specialToken(String key) {
        String t = tokenText(config, key);
        return t != null ? t : tokenText(specialMap, key);
    }

    /** tokenizer_config.json's add_bos_token / add_eos_token when it is a boolean, else null. */
    public Boolean addToken(String key) {
        JsonNode v = config == null ? null : config.get(key);
        return v != null && v.isBoolean() ? v.asBoolean() : null;
    }

    /** generation_config.json's eos_token_id as a list (empty if absent). */
    public List<Integer> generationEosIds() {
        return generationEos;
    }

    /** The chat template, or null. */
    public String chatTemplate() {
        return chatTemplate;
    }

    private static boolean isListedSpecial(TokenizerConfig c, String content) {
        for (JsonNode root : new JsonNode[] {c.config, c.specialMap}) {
            if (root == null) continue;
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().endsWith("_token") && content.equals(tokenText(root, e.getKey()))) return true;
                if (e.getKey().equals("additional_special_tokens")) {
                    for (JsonNode t : e.getValue()) {
                        if (content.equals(t.isObject() ? t.path("content").asText(null) : t.asText(null))) return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * tokenizer_config.json's chat_template: a string, or a list of {name, template} of which the
     * one named "default" is taken; else chat_template.jinja; else chat_template.json's.
     */
    private static String chatTemplate(Path dir, Path tc, JsonNode config) throws ConversionException {
        JsonNode t = config == null ? null : config.get("chat_template");
        if (t != null && !t.isNull()) return templateOf(tc, t);
        Path jinja = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            try {
                return Files.readString(jinja, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw ConversionException.io(jinja, "cannot read", e);
            }
        }
        Path cj = dir.resolve("chat_template.json");
        if (Files.isRegularFile(cj)) {
            JsonNode n = json(cj).get("chat_template");
            if (n != null && !n.isNull()) return templateOf(cj, n);
        }
        return null;
    }

    private static String templateOf(Path file, JsonNode t) throws ConversionException {
        if (t.isTextual()) return t.asText();
        if (t.isArray()) {
            for (JsonNode e : t) {
                if (e.path("name").asText("").equals("default") && e.path("template").isTextual()) return e.get("template").asText();
            }
            throw new ConversionException(file, "chat_template is a list without a template named \"default\"");
        }
        throw new ConversionException(file, "chat_template is neither a string nor a list of named templates");
    }

    private static int tokenId(Path file, JsonNode v, String what) throws ConversionException {
        if (!v.isIntegralNumber() || v.asLong() < 0 || v.asLong() > Integer.MAX_VALUE) {
            throw new ConversionException(file, what + ": " + v + " is not a token id");
        }
        return v.asInt();
    }

    static String tokenText(JsonNode cfg, String key) {
        JsonNode v = cfg == null ? null : cfg.get(key);
        if (v == null || v.isNull()) return null;
        if (v.isTextual()) return v.asText();
        if (v.isObject() && v.path("content").isTextual()) return v.get("content").asText();
        return null;
    }

    static JsonNode json(Path p) throws ConversionException {
        try {
            JsonNode n = JSON.readTree(Files.readAllBytes(p));
            if (n == null || !n.isObject()) throw new ConversionException(p, "not a JSON object");
            return n;
        } catch (JsonProcessingException e) {
            throw new ConversionException(p, "invalid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ConversionException.io(p, "cannot read", e);
        }
    }
}
