package io.github.mobilellm4j.convert.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mobilellm4j.convert.ConversionException;
import io.github.mobilellm4j.convert.ProgressListener;
import io.github.mobilellm4j.convert.sentencepiece.SentencePieceModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Loads the tokenizer of a Hugging Face folder: tokenizer.model (SentencePiece) if present, else
 * tokenizer.json (HF tokenizers BPE). tokenizer_config.json supplies add_bos_token/add_eos_token.
 *
 * <p>Scores for tokenizer.json (which has merges but no scores), chosen so that a SentencePiece
 * BPE encoder that always applies the highest-scoring merge reproduces HF's merge order:
 * <ul>
 *   <li>a piece produced by merge rank r (0 = first merge line) scores -r (first merge that
 *       produces it wins);</li>
 *   <li>every other normal piece (single characters, pieces no merge produces) with id i scores
 *       -(number of merges + i): below every merge result, in id order;</li>
 *   <li>byte pieces &lt;0xNN&gt;, &lt;unk&gt; and special/added tokens score 0 (they never take part in
 *       merges; SentencePiece stores 0 for them too).</li>
 * </ul>
 * Types: the model's unk_token UNKNOWN; special added tokens CONTROL; non-special added tokens
 * USER_DEFINED; &lt;0xNN&gt; BYTE; everything else NORMAL.
 */
public final class TokenizerLoader {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern BYTE_PIECE = Pattern.compile("<0x[0-9A-F]{2}>");

    private TokenizerLoader() {}

    /**
     * Loads and sizes the vocabulary to vocabSize: a smaller tokenizer is padded with "[PAD{id}]"
     * UNUSED pieces (warning); a larger one is an error.
     */
    public static Vocabulary load(Path dir, HfConfig cfg, ProgressListener pl) throws ConversionException {
        Path spm = dir.resolve("tokenizer.model");
        Path tj = dir.resolve("tokenizer.json");
        Path tc = dir.resolve("tokenizer_config.json");
        JsonNode tcfg = Files.isRegularFile(tc) ? json(tc) : null;
        List<String> tokens = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        int bos, eos, unk, pad;
        boolean addSpace;
        Path src;
        if (Files.isRegularFile(spm)) {
            src = spm;
            SentencePieceModel sp = SentencePieceModel.read(spm);
            if (sp.modelType != SentencePieceModel.BPE) {
                pl.warn(spm + ": SentencePiece model type " + sp.modelType + " is not BPE; the engine tokenizes as BPE");
            }
            for (SentencePieceModel.Piece p : sp.pieces) {
                tokens.add(p.piece());
                scores.add(p.score());
                types.add(p.type());
            }
            bos = sp.bosId;
            eos = sp.eosId;
            unk = sp.unkId;
            pad = sp.padId;
            addSpace = sp.addDummyPrefix;
            if (cfg.bosTokenId() != bos || cfg.eosTokenId() != eos) {
                pl.warn(cfg.file() + ": bos/eos ids " + cfg.bosTokenId() + "/" + cfg.eosTokenId() + " differ from tokenizer.model's " + bos + "/" + eos + "; using tokenizer.model's");
            }
        } else if (Files.isRegularFile(tj)) {
            src = tj;
            JsonNode root = json(tj);
            JsonNode model = root.path("model");
            if (!model.path("type").asText("BPE").equals("BPE") || !model.path("vocab").isObject()) {
                throw new ConversionException(tj, "only BPE tokenizers with a model.vocab are supported");
            }
            Map<Integer, String> byId = new HashMap<>();
            Map<Integer, Boolean> special = new HashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = model.get("vocab").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isIntegralNumber()) throw new ConversionException(tj, "vocab id of " + e.getKey() + " is not an integer");
                int id = e.getValue().asInt();
                if (id < 0 || byId.put(id, e.getKey()) != null) throw new ConversionException(tj, "duplicate or negative vocab id " + id);
            }
            for (JsonNode at : root.path("added_tokens")) {
                int id = at.path("id").asInt(-1);
                String content = at.path("content").asText(null);
                if (id < 0 || content == null) throw new ConversionException(tj, "malformed added_tokens entry");
                String prev = byId.put(id, content);
                if (prev != null && !prev.equals(content)) throw new ConversionException(tj, "added token " + content + " reuses id " + id + " of " + prev);
                special.put(id, at.path("special").asBoolean(false));
            }
            int n = byId.size();
            for (int i = 0; i < n; i++) {
                if (!byId.containsKey(i)) throw new ConversionException(tj, "token ids are not contiguous (id " + i + " missing)");
            }
            Map<String, Integer> mergeRank = new HashMap<>();
            JsonNode merges = model.path("merges");
            int r = 0;
            for (JsonNode m : merges) {
                String left, right;
                if (m.isTextual()) {
                    String s = m.asText();
                    int sp = s.indexOf(' ', 1);
                    if (sp < 0) throw new ConversionException(tj, "malformed merge '" + s + "'");
                    left = s.substring(0, sp);
                    right = s.substring(sp + 1);
                } else if (m.isArray() && m.size() == 2) {
                    left = m.get(0).asText();
                    right = m.get(1).asText();
                } else {
                    throw new ConversionException(tj, "malformed merge entry " + m);
                }
                mergeRank.putIfAbsent(left + right, r);
                r++;
            }
            int nMerges = r;
            String unkTok = model.path("unk_token").asText("<unk>");
            unk = -1;
            for (int i = 0; i < n; i++) {
                String piece = byId.get(i);
                tokens.add(piece);
                int type;
                float score;
                if (special.containsKey(i)) {
                    type = piece.equals(unkTok) ? SentencePieceModel.UNKNOWN : special.get(i) ? SentencePieceModel.CONTROL : SentencePieceModel.USER_DEFINED;
                    score = 0f;
                } else if (piece.equals(unkTok)) {
                    type = SentencePieceModel.UNKNOWN;
                    score = 0f;
                } else if (BYTE_PIECE.matcher(piece).matches()) {
                    type = SentencePieceModel.BYTE;
                    score = 0f;
                } else {
                    type = SentencePieceModel.NORMAL;
                    Integer rank = mergeRank.get(piece);
                    score = rank != null ? 0f - rank : 0f - ((long) nMerges + i); // 0f - x: never -0.0
                }
                if (type == SentencePieceModel.UNKNOWN) unk = i;
                scores.add(score);
                types.add(type);
            }
            bos = idOf(tokens, tcfg, "bos_token", cfg.bosTokenId());
            eos = idOf(tokens, tcfg, "eos_token", cfg.eosTokenId());
            pad = tcfg != null ? idOfOrNone(tokens, tcfg, "pad_token") : -1;
            addSpace = addsPrefixSpace(root);
        } else {
            throw new ConversionException(dir, "no tokenizer found (need tokenizer.model or tokenizer.json)");
        }
        boolean addBos = tcfg == null || tcfg.path("add_bos_token").asBoolean(true);
        boolean addEos = tcfg != null && tcfg.path("add_eos_token").asBoolean(false);
        int vocab = cfg.vocabSize();
        if (tokens.size() > vocab) {
            throw new ConversionException(src, "tokenizer has " + tokens.size() + " tokens but config.json vocab_size is " + vocab);
        }
        if (tokens.size() < vocab) {
            pl.warn(src + ": tokenizer has " + tokens.size() + " tokens, fewer than vocab_size " + vocab + "; padding with [PAD{id}] unused tokens");
            for (int i = tokens.size(); i < vocab; i++) {
                tokens.add("[PAD" + i + "]");
                scores.add(0f);
                types.add(SentencePieceModel.UNUSED);
            }
        }
        for (int id : new int[] {bos, eos, unk, pad}) {
            if (id >= vocab) throw new ConversionException(src, "special token id " + id + " is outside the vocabulary of " + vocab);
        }
        float[] s = new float[scores.size()];
        int[] t = new int[types.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = scores.get(i);
            t[i] = types.get(i);
        }
        return new Vocabulary(List.copyOf(tokens), s, t, bos, eos, unk, pad, addBos, addEos, addSpace);
    }

    private static JsonNode json(Path p) throws ConversionException {
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

    private static String tokenText(JsonNode cfg, String key) {
        JsonNode v = cfg == null ? null : cfg.get(key);
        if (v == null || v.isNull()) return null;
        if (v.isTextual()) return v.asText();
        if (v.isObject() && v.has("content")) return v.get("content").asText();
        return null;
    }

    private static int idOf(List<String> tokens, JsonNode cfg, String key, int def) {
        String t = tokenText(cfg, key);
        if (t != null) {
            int i = tokens.indexOf(t);
            if (i >= 0) return i;
        }
        return def;
    }

    private static int idOfOrNone(List<String> tokens, JsonNode cfg, String key) {
        String t = tokenText(cfg, key);
        return t == null ? -1 : tokens.indexOf(t);
    }

    /** True unless the normalizer/pre-tokenizer clearly does not prepend "▁". */
    private static boolean addsPrefixSpace(JsonNode root) {
        JsonNode pre = root.path("pre_tokenizer");
        if (pre.path("type").asText("").equals("Metaspace")) {
            if (pre.has("prepend_scheme")) return !pre.get("prepend_scheme").asText().equals("never");
            if (pre.has("add_prefix_space")) return pre.get("add_prefix_space").asBoolean(true);
        }
        JsonNode norm = root.path("normalizer");
        if (norm.isObject()) {
            if (norm.path("type").asText("").equals("Prepend")) return true;
            for (JsonNode s : norm.path("normalizers")) {
                if (s.path("type").asText("").equals("Prepend")) return true;
            }
            return false;
        }
        return true;
    }
}
