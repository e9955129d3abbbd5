package io.github.mobilellm4j;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Checks that a draft model can propose tokens to a target model: a token id must mean the same thing to both.
 * Compares the vocabulary size, the tokenizer type, the special token ids and the text of every token (which
 * tokens end a generation is the target's setting alone); a pair found
 * compatible is remembered (while both models are reachable), so the full comparison runs once per pair.
 */
final class DraftVocabulary {
    /** target -> drafts already found compatible with it; weak on both sides. */
    private static final Map<Model, Set<Model>> CHECKED = new WeakHashMap<>();

    private DraftVocabulary() {
    }

    /** Throws IllegalArgumentException naming the first difference between the two vocabularies. */
    static void requireSame(Model target, Model draft) {
        synchronized (CHECKED) {
            Set<Model> drafts = CHECKED.get(target);
            if (drafts != null && drafts.contains(draft)) return;
        }
        String difference = firstDifference(target, draft);
        if (difference != null) {
            throw new IllegalArgumentException("the draft model " + draft.path().getFileName()
                    + " cannot propose tokens to " + target.path().getFileName() + ": " + difference);
        }
        synchronized (CHECKED) {
            CHECKED.computeIfAbsent(target, t -> Collections.newSetFromMap(new WeakHashMap<>())).add(draft);
        }
    }

    /** A description of the first difference, or null if the vocabularies are the same. */
    private static String firstDifference(Model target, Model draft) {
        ModelInfo.Vocabulary t = target.info().vocabulary();
        ModelInfo.Vocabulary d = draft.info().vocabulary();
        if (t.size() != d.size()) return "vocabulary sizes differ (" + t.size() + " vs " + d.size() + ")";
        String tType = target.metadata().get("tokenizer.ggml.model");
        String dType = draft.metadata().get("tokenizer.ggml.model");
        if (!java.util.Objects.equals(tType, dType)) return "tokenizer types differ (" + tType + " vs " + dType + ")";
        if (t.bosToken() != d.bosToken()) return "BOS tokens differ (" + t.bosToken() + " vs " + d.bosToken() + ")";
        if (t.eosToken() != d.eosToken()) return "EOS tokens differ (" + t.eosToken() + " vs " + d.eosToken() + ")";
        if (t.unkToken() != d.unkToken()) return "unknown tokens differ (" + t.unkToken() + " vs " + d.unkToken() + ")";
        if (t.padToken() != d.padToken()) return "padding tokens differ (" + t.padToken() + " vs " + d.padToken() + ")";
        Tokenizer tTok = target.tokenizer();
        Tokenizer dTok = draft.tokenizer();
        for (int id = 0; id < t.size(); id++) {
            String a = tTok.piece(id);
            String b = dTok.piece(id);
            if (!a.equals(b)) return "token " + id + " is \"" + a + "\" in one and \"" + b + "\" in the other";
        }
        return null;
    }
}
