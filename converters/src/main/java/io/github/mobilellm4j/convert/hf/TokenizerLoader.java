package io.github.mobilellm4j.convert.hf;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mobilellm4j.convert.ConversionException;
import io.github.mobilellm4j.convert.ProgressListener;
import io.github.mobilellm4j.convert.sentencepiece.SentencePieceModel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Loads the tokenizer of a Hugging Face folder: tokenizer.model (SentencePiece) if present, else
 * tokenizer.json, either a byte-level BPE tokenizer (Llama 3 / Llama 4 style, {@link TokenizerJson})
 * or a SentencePiece-style BPE one. Tokens added beside the vocabulary (added_tokens.json,
 * tokenizer_config.json's added_tokens_decoder) become vocabulary entries of type CONTROL
 * (special) or USER_DEFINED; tokenizer_config.json / special_tokens_map.json name the special
 * tokens and add_bos_token/add_eos_token, generation_config.json the tokens that end generation
 * ({@link TokenizerConfig}).
 *
 * <p>Scores for a SentencePiece-style tokenizer.json (which has merges but no scores), chosen so that a SentencePiece
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
    private static final Pattern BYTE_PIECE = Pattern.compile("<0x[0-9A-F]{2}>");
    /** Names of end-of-turn / end-of-message tokens, for files that do not list them (as llama.cpp looks them up). */
    private static final Set<String> EOT_NAMES = Set.of("<|eot_id|>", "<|im_end|>", "<|eot|>", "<end_of_turn>");
    private static final Set<String> EOM_NAMES = Set.of("<|eom_id|>", "<|eom|>");

    private TokenizerLoader() {}

    /** The vocabulary while it is being assembled. */
    private static final class Draft {
        final Path src;
        final List<String> tokens = new ArrayList<>();
        final List<Float> scores = new ArrayList<>();
        final List<Integer> types = new ArrayList<>();
        int bos = -1, eos = -1, unk = -1, pad = -1;
        boolean addSpace;
        boolean bosFromModel; // SentencePiece: the model file fixes bos/eos/unk/pad
        TokenizerJson.Parsed byteLevel;

        Draft(Path src) {
            this.src = src;
        }

        void add(String piece, float score, int type) {
            tokens.add(piece);
            scores.add(score);
            types.add(type);
        }
    }

    /**
     * Loads and sizes the vocabulary to vocabSize: a smaller tokenizer is padded with "[PAD{id}]"
     * UNUSED pieces (warning); a larger one is an error.
     */
    public static Vocabulary load(Path dir, HfConfig cfg, ProgressListener pl) throws ConversionException {
        Path spm = dir.resolve("tokenizer.model");
        Path tj = dir.resolve("tokenizer.json");
        TokenizerConfig tc = TokenizerConfig.read(dir);
        Draft d;
        if (Files.isRegularFile(spm)) {
            d = fromSentencePiece(spm, cfg, pl);
        } else if (Files.isRegularFile(tj)) {
            JsonNode root = TokenizerConfig.json(tj);
            d = TokenizerJson.isByteLevel(root) ? fromByteLevel(tj, root, pl) : fromSentencePieceJson(tj, root);
        } else {
            throw new ConversionException(dir, "no tokenizer found (need tokenizer.model or tokenizer.json)");
        }
        addTokens(d, tc, dir, pl);
        int vocab = cfg.vocabSize();
        if (d.tokens.size() > vocab) {
            throw new ConversionException(d.src, "tokenizer has " + d.tokens.size() + " tokens but config.json vocab_size is " + vocab);
        }
        if (d.tokens.size() < vocab) {
            pl.warn(d.src + ": tokenizer has " + d.tokens.size() + " tokens, fewer than vocab_size " + vocab + "; padding with [PAD{id}] unused tokens");
            padTo(d, vocab);
        }
        if (!d.bosFromModel) {
            TokenizerJson.Parsed b = d.byteLevel;
            d.bos = idOf(d, tc.specialToken("bos_token"), b != null ? idOf(d, b.bosToken(), -1) : cfg.bosTokenId());
            d.eos = idOf(d, tc.specialToken("eos_token"), b != null ? idOf(d, b.eosToken(), -1) : cfg.eosTokenId());
        }
        if (d.pad < 0) d.pad = idOf(d, tc.specialToken("pad_token"), -1);
        int[] eotEom = endTokens(d, tc, pl);
        for (int id : new int[] {d.bos, d.eos, d.unk, d.pad}) {
            if (id >= vocab) throw new ConversionException(d.src, "special token id " + id + " is outside the vocabulary of " + vocab);
        }
        boolean addBos, addEos;
        Vocabulary.ByteLevel bl = null;
        if (d.byteLevel != null) {
            TokenizerJson.Parsed b = d.byteLevel;
            // llama.cpp's defaults when neither file says: BOS for Llama 3's pre-tokenizer only
            addBos = orElse(tc.addToken("add_bos_token"), b.addBos() != null ? b.addBos() : b.pre().equals("llama-bpe"));
            addEos = orElse(tc.addToken("add_eos_token"), b.addEos() != null && b.addEos());
            boolean llamaCppIgnores = b.pre().equals("llama-bpe");
            bl = new Vocabulary.ByteLevel(b.pre(), List.copyOf(b.merges()), b.ignoreMerges() == llamaCppIgnores ? null : b.ignoreMerges());
        } else {
            addBos = orElse(tc.addToken("add_bos_token"), true);
            addEos = orElse(tc.addToken("add_eos_token"), false);
        }
        float[] s = new float[d.scores.size()];
        int[] t = new int[d.types.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = d.scores.get(i);
            t[i] = d.types.get(i);
        }
        return new Vocabulary(List.copyOf(d.tokens), bl != null ? null : s, t, d.bos, d.eos, d.unk, d.pad, eotEom[0], eotEom[1],
                addBos, addEos, d.addSpace, bl, tc.chatTemplate());
    }

    private static boolean orElse(Boolean v, boolean def) {
        return v != null ? v : def;
    }

    private static Draft fromSentencePiece(Path spm, HfConfig cfg, ProgressListener pl) throws ConversionException {
        Draft d = new Draft(spm);
        SentencePieceModel sp = SentencePieceModel.read(spm);
        if (sp.modelType != SentencePieceModel.BPE) {
            pl.warn(spm + ": SentencePiece model type " + sp.modelType + " is not BPE; the engine tokenizes as BPE");
        }
        for (SentencePieceModel.Piece p : sp.pieces) d.add(p.piece(), p.score(), p.type());
        d.bos = sp.bosId;
        d.eos = sp.eosId;
        d.unk = sp.unkId;
        d.pad = sp.padId;
        d.bosFromModel = true;
        d.addSpace = sp.addDummyPrefix;
        if (cfg.bosTokenId() != d.bos || cfg.eosTokenId() != d.eos) {
            pl.warn(cfg.file() + ": bos/eos ids " + cfg.bosTokenId() + "/" + cfg.eosTokenId() + " differ from tokenizer.model's " + d.bos + "/" + d.eos + "; using tokenizer.model's");
        }
        return d;
    }

    private static Draft fromByteLevel(Path tj, JsonNode root, ProgressListener pl) throws ConversionException {
        Draft d = new Draft(tj);
        TokenizerJson.Parsed b = TokenizerJson.parse(tj, root, pl);
        for (int i = 0; i < b.tokens().size(); i++) d.add(b.tokens().get(i), 0f, b.types()[i]);
        d.unk = b.unkToken() != null ? b.tokens().indexOf(b.unkToken()) : -1;
        d.byteLevel = b;
        return d;
    }

    private static Draft fromSentencePieceJson(Path tj, JsonNode root) throws ConversionException {
        Draft d = new Draft(tj);
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
        for (int i = 0; i < n; i++) {
            String piece = byId.get(i);
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
            if (type == SentencePieceModel.UNKNOWN) d.unk = i;
            d.add(piece, score, type);
        }
        d.addSpace = addsPrefixSpace(root);
        return d;
    }

    /** Tokens of added_tokens.json / added_tokens_decoder become entries of the vocabulary. */
    private static void addTokens(Draft d, TokenizerConfig tc, Path dir, ProgressListener pl) throws ConversionException {
        for (TokenizerConfig.AddedToken t : tc.addedTokens().values()) {
            int type = t.special() ? Vocabulary.CONTROL : Vocabulary.USER_DEFINED;
            Vocabulary.warnUncarriedOptions(dir.resolve("tokenizer_config.json"), t, pl);
            if (t.id() < d.tokens.size()) {
                if (!d.tokens.get(t.id()).equals(t.content())) {
                    pl.warn(d.src + ": token " + t.id() + " '" + d.tokens.get(t.id()) + "' is replaced by the added token '" + t.content() + "'");
                    d.tokens.set(t.id(), t.content());
                    d.types.set(t.id(), type);
                    d.scores.set(t.id(), 0f);
                } else if (d.types.get(t.id()) == Vocabulary.NORMAL) {
                    d.types.set(t.id(), type); // matched literally, as the added token it is
                }
                continue;
            }
            if (t.id() > d.tokens.size()) {
                pl.warn(d.src + ": added token '" + t.content() + "' has id " + t.id() + " beyond the " + d.tokens.size()
                        + " tokens; padding the gap with [PAD{id}] unused tokens");
                padTo(d, t.id());
            }
            d.add(t.content(), 0f, type);
        }
    }

    private static void padTo(Draft d, int n) {
        for (int i = d.tokens.size(); i < n; i++) d.add("[PAD" + i + "]", 0f, Vocabulary.UNUSED);
    }

    /**
     * End-of-turn and end-of-message tokens: generation_config.json's eos_token_id list beyond EOS
     * (by name: "<|eom_id|>"-like ones are end of message, the first other one end of turn), else
     * a control token with a well-known end-of-turn / end-of-message name.
     */
    private static int[] endTokens(Draft d, TokenizerConfig tc, ProgressListener pl) {
        int eot = -1, eom = -1;
        List<Integer> gen = tc.generationEosIds();
        if (d.eos < 0 && !gen.isEmpty() && gen.get(0) < d.tokens.size()) d.eos = gen.get(0);
        for (int id : gen) {
            if (id == d.eos) continue;
            if (id >= d.tokens.size()) {
                pl.warn(d.src + ": generation_config.json's eos_token_id " + id + " is outside the vocabulary; ignored");
            } else if (EOM_NAMES.contains(d.tokens.get(id)) && eom < 0) {
                eom = id;
            } else if (eot < 0) {
                eot = id;
            } else if (id != eom && id != eot) {
                pl.warn(d.src + ": generation_config.json lists more end tokens than GGUF carries (EOS, end of turn, end of message); "
                        + "token " + id + " '" + d.tokens.get(id) + "' will not end generation");
            }
        }
        for (int i = 0; i < d.tokens.size(); i++) {
            if (d.types.get(i) != Vocabulary.CONTROL || i == d.eos) continue;
            if (eot < 0 && EOT_NAMES.contains(d.tokens.get(i))) eot = i;
            if (eom < 0 && EOM_NAMES.contains(d.tokens.get(i))) eom = i;
        }
        return new int[] {eot, eom};
    }

    private static int idOf(Draft d, String token, int def) {
        if (token != null) {
            int i = d.tokens.indexOf(token);
            if (i >= 0) return i;
        }
        return def;
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
