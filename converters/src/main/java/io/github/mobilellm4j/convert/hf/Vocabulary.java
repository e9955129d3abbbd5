package io.github.mobilellm4j.convert.hf;

import java.util.List;

/**
 * A tokenizer vocabulary as written to GGUF (tokenizer.ggml.*): pieces, scores and token types
 * (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte); ids of -1 mean "none".
 */
public record Vocabulary(List<String> tokens, float[] scores, int[] types,
                         int bosId, int eosId, int unkId, int padId,
                         boolean addBos, boolean addEos, boolean addSpacePrefix) {
    public int size() {
        return tokens.size();
    }
}
