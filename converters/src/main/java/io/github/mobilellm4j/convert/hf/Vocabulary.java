package io.github.mobilellm4j.convert.hf;

import io.github.mobilellm4j.convert.ProgressListener;

import java.nio.file.Path;
import java.util.List;

/**
 * A tokenizer vocabulary as written to GGUF (tokenizer.ggml.*): pieces, scores (SentencePiece
 * only) and token types (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte); ids
 * of -1 mean "none". {@code byteLevel} is null for SentencePiece vocabularies (tokenizer.ggml.model
 * "llama") and holds the merges and pre-tokenizer of byte-level BPE ones ("gpt2"). eot/eom are the
 * end-of-turn and end-of-message tokens that also end generation; chatTemplate may be null.
 */
public record Vocabulary(List<String> tokens, float[] scores, int[] types,
                         int bosId, int eosId, int unkId, int padId, int eotId, int eomId,
                         boolean addBos, boolean addEos, boolean addSpacePrefix,
                         ByteLevel byteLevel, String chatTemplate) {
    public static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    /**
     * Byte-level BPE: pre-tokenizer by llama.cpp's name, merges "left right" in rank order, and
     * ignoreMerges when it differs from what llama.cpp assumes for that pre-tokenizer (else null).
     */
    public record ByteLevel(String pre, List<String> merges, Boolean ignoreMerges) {}

    public int size() {
        return tokens.size();
    }

    /** GGUF has no place for HF's lstrip/rstrip/single_word: say so when a token uses them. */
    static void warnUncarriedOptions(Path file, TokenizerConfig.AddedToken t, ProgressListener pl) {
        if (t.lstrip() || t.rstrip() || t.singleWord()) {
            pl.warn(file + ": added token '" + t.content() + "' has lstrip/rstrip/single_word set; GGUF does not carry these, "
                    + "so the engine matches it without stripping spaces around it");
        }
    }
}
