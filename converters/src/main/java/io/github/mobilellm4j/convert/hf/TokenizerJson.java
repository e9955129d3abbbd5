package io.github.mobilellm4j.convert.hf;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mobilellm4j.convert.ConversionException;
import io.github.mobilellm4j.convert.ProgressListener;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face tokenizer.json of a byte-level BPE tokenizer (GPT-2 style: Split(pattern) +
 * ByteLevel pre-tokenizer, BPE model with merges, ByteLevel decoder), read into what GGUF's
 * tokenizer.ggml.model "gpt2" holds: tokens in id order (model vocabulary, then added tokens),
 * merges, and the pre-tokenizer by llama.cpp's name, recognised by its split pattern. Anything
 * the engine would tokenize differently (a normalizer, another pattern, BPE options) is refused
 * with the field named.
 */
public final class TokenizerJson {
    /** Llama 3's split pattern (tokenizer.ggml.pre "llama-bpe"). */
    public static final String LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
            + " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Llama 4's split pattern, GPT-4o's (tokenizer.ggml.pre "llama4"). */
    public static final String LLAMA4_PATTERN = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
            + "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*"
            + "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final Map<String, String> PRE_BY_PATTERN = Map.of(LLAMA3_PATTERN, "llama-bpe", LLAMA4_PATTERN, "llama4");

    /** What the file says; the added tokens are already in {@code tokens} with their types. */
    public record Parsed(List<String> tokens, int[] types, List<String> merges, String pre, boolean ignoreMerges,
                         String unkToken, Boolean addBos, Boolean addEos, String bosToken, String eosToken) {}

    private TokenizerJson() {}

    /** True if the file describes a byte-level BPE tokenizer (a ByteLevel pre-tokenizer or decoder). */
    public static boolean isByteLevel(JsonNode root) {
        return hasType(root.path("pre_tokenizer"), "ByteLevel", "pretokenizers") || hasType(root.path("decoder"), "ByteLevel", "decoders");
    }

    public static Parsed parse(Path file, JsonNode root, ProgressListener pl) throws ConversionException {
        JsonNode model = root.path("model");
        if (!model.path("type").asText("BPE").equals("BPE") || !model.path("vocab").isObject()) {
            throw new ConversionException(file, "model: only BPE models with a \"vocab\" are supported (model.type is '" + model.path("type").asText() + "')");
        }
        for (String k : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            if (!model.path(k).asText("").isEmpty()) throw new ConversionException(file, "model." + k + " is not supported for byte-level BPE");
        }
        if (model.path("byte_fallback").asBoolean(false)) throw new ConversionException(file, "model.byte_fallback is not supported for byte-level BPE");
        if (!model.path("dropout").isMissingNode() && !model.path("dropout").isNull() && model.path("dropout").asDouble() != 0) {
            throw new ConversionException(file, "model.dropout is not supported (encoding would not be deterministic)");
        }
        if (!root.path("normalizer").isMissingNode() && !root.path("normalizer").isNull()) {
            throw new ConversionException(file, "normalizer " + root.get("normalizer").path("type").asText("?")
                    + " is not supported for byte-level BPE (the supported tokenizers have none)");
        }
        String pre = preTokenizer(file, root.path("pre_tokenizer"));
        if (!hasType(root.path("decoder"), "ByteLevel", "decoders")) {
            throw new ConversionException(file, "decoder: a ByteLevel decoder is required, found " + root.path("decoder").path("type").asText("none"));
        }

        Map<Integer, String> byId = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = model.get("vocab").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode id = e.getValue();
            if (!id.isIntegralNumber() || id.asLong() < 0 || id.asLong() > Integer.MAX_VALUE) {
                throw new ConversionException(file, "model.vocab id of '" + e.getKey() + "' is not a token id: " + id);
            }
            if (byId.put(id.asInt(), e.getKey()) != null) throw new ConversionException(file, "model.vocab uses id " + id + " twice");
        }
        Map<Integer, Integer> addedType = new HashMap<>();
        for (JsonNode at : root.path("added_tokens")) {
            int id = at.path("id").asInt(-1);
            if (id < 0) throw new ConversionException(file, "added_tokens entry without a valid id: " + at);
            TokenizerConfig.AddedToken t = TokenizerConfig.addedToken(file, id, at);
            String prev = byId.put(id, t.content());
            if (prev != null && !prev.equals(t.content())) {
                throw new ConversionException(file, "added token '" + t.content() + "' reuses id " + id + " of '" + prev + "'");
            }
            addedType.put(id, t.special() ? Vocabulary.CONTROL : Vocabulary.USER_DEFINED);
            Vocabulary.warnUncarriedOptions(file, t, pl);
        }
        List<String> tokens = new ArrayList<>(byId.size());
        int[] types = new int[byId.size()];
        for (int i = 0; i < byId.size(); i++) {
            String p = byId.get(i);
            if (p == null) throw new ConversionException(file, "token ids are not contiguous (id " + i + " missing)");
            tokens.add(p);
            types[i] = addedType.getOrDefault(i, Vocabulary.NORMAL);
        }
        String unk = model.path("unk_token").isTextual() ? model.get("unk_token").asText() : null;
        if (unk != null) {
            int u = tokens.indexOf(unk);
            if (u < 0) throw new ConversionException(file, "model.unk_token '" + unk + "' is not in the vocabulary");
            types[u] = Vocabulary.UNKNOWN;
        }
        List<String> merges = merges(file, model.path("merges"));
        Boolean[] addBosEos = new Boolean[2];
        String[] bosEos = new String[2];
        postProcessor(root.path("post_processor"), addBosEos, bosEos);
        return new Parsed(tokens, types, merges, pre, model.path("ignore_merges").asBoolean(false), unk, addBosEos[0], addBosEos[1],
                bosEos[0], bosEos[1]);
    }

    /** The pre-tokenizer must be Sequence[Split(known pattern, Isolated), ByteLevel(no prefix space, no regex)]. */
    private static String preTokenizer(Path file, JsonNode pt) throws ConversionException {
        JsonNode steps = pt.path("type").asText("").equals("Sequence") ? pt.path("pretokenizers") : null;
        if (steps == null || steps.size() != 2 || !steps.get(0).path("type").asText("").equals("Split")
                || !steps.get(1).path("type").asText("").equals("ByteLevel")) {
            throw new ConversionException(file, "pre_tokenizer: expected a Sequence of Split and ByteLevel (as Llama 3 and Llama 4 have), found "
                    + abbreviate(pt.toString()));
        }
        JsonNode split = steps.get(0), bl = steps.get(1);
        String pattern = split.path("pattern").path("Regex").asText(null);
        String pre = pattern == null ? null : PRE_BY_PATTERN.get(pattern);
        if (pre == null) {
            throw new ConversionException(file, "pre_tokenizer: split pattern " + abbreviate(split.path("pattern").toString())
                    + " is not one the engine implements (Llama 3's or Llama 4's)");
        }
        if (!split.path("behavior").asText("").equals("Isolated") || split.path("invert").asBoolean(false)) {
            throw new ConversionException(file, "pre_tokenizer: Split must have behavior Isolated and invert false");
        }
        if (bl.path("add_prefix_space").asBoolean(false) || bl.path("use_regex").asBoolean(true)) {
            throw new ConversionException(file, "pre_tokenizer: ByteLevel must have add_prefix_space false and use_regex false");
        }
        return pre;
    }

    /** Merges as GGUF stores them: "left right", a space inside a part written as U+0120 (as llama.cpp does). */
    private static List<String> merges(Path file, JsonNode merges) throws ConversionException {
        List<String> out = new ArrayList<>(merges.size());
        for (JsonNode m : merges) {
            if (m.isTextual()) {
                String s = m.asText();
                if (s.indexOf(' ', 1) < 0) throw new ConversionException(file, "malformed merge '" + s + "'");
                out.add(s);
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                out.add(m.get(0).asText().replace(' ', '\u0120') + " " + m.get(1).asText().replace(' ', '\u0120'));
            } else {
                throw new ConversionException(file, "malformed merge entry " + abbreviate(m.toString()));
            }
        }
        return out;
    }

    /**
     * Whether the post-processor adds BOS/EOS: a TemplateProcessing whose single-sequence template
     * starts (ends) with a special token adds that token as BOS (EOS). A post-processor without
     * one (e.g. ByteLevel alone, as in early Llama 3 uploads) adds nothing, as Hugging Face
     * tokenizers encode; null only when there is no post-processor at all.
     */
    private static void postProcessor(JsonNode pp, Boolean[] add, String[] tokens) {
        List<JsonNode> steps = new ArrayList<>();
        if (pp.path("type").asText("").equals("Sequence")) pp.path("processors").forEach(steps::add);
        else if (pp.isObject()) steps.add(pp);
        if (pp.isObject()) {
            add[0] = false;
            add[1] = false;
        }
        for (JsonNode p : steps) {
            if (!p.path("type").asText("").equals("TemplateProcessing")) continue;
            JsonNode single = p.path("single");
            if (single.size() < 2) continue;
            String first = single.get(0).path("SpecialToken").path("id").asText(null);
            String last = single.get(single.size() - 1).path("SpecialToken").path("id").asText(null);
            add[0] = first != null;
            add[1] = last != null;
            tokens[0] = first;
            tokens[1] = last;
        }
    }

    private static boolean hasType(JsonNode n, String type, String listKey) {
        if (n.path("type").asText("").equals(type)) return true;
        for (JsonNode c : n.path(listKey)) {
            if (c.path("type").asText("").equals(type)) return true;
        }
        return false;
    }

    private static String abbreviate(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
