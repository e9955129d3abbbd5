package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/** The model's tokenizer (SentencePiece or byte-level BPE). Thread-safe; valid while its model is open. */
public final class Tokenizer {
    private final Model model;

    Tokenizer(Model model) {
        this.model = model;
    }

    /** Encodes text, adding BOS when the model's add_bos setting says so; special-token text stays text. */
    public int[] encode(String text) {
        return encode(text, null, false);
    }

    /**
     * Encodes text.
     *
     * @param addBos true/false to force, null for the model's setting
     * @param parseSpecial true: control-token text such as "&lt;s&gt;" becomes that token; false: plain text
     */
    public int[] encode(String text, Boolean addBos, boolean parseSpecial) {
        java.util.Objects.requireNonNull(text, "text");
        return encode(text.getBytes(StandardCharsets.UTF_8), addBos, parseSpecial);
    }

    /**
     * Encodes UTF-8 bytes. Ill-formed bytes are tokenized as SentencePiece vocabularies do (each
     * byte on its own, through byte fallback) or, for byte-level vocabularies, as their lossy
     * decoding (each maximal ill-formed subpart becomes U+FFFD).
     *
     * @param addBos true/false to force, null for the model's setting
     * @param parseSpecial true: control-token text such as "&lt;s&gt;" becomes that token; false: plain text
     */
    public int[] encode(byte[] utf8, Boolean addBos, boolean parseSpecial) {
        java.util.Objects.requireNonNull(utf8, "utf8");
        int bos = addBos == null ? -1 : (addBos ? 1 : 0);
        return model.withHandle(h -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment src = arena.allocate(Math.max(1, utf8.length));
                MemorySegment.copy(utf8, 0, src, ValueLayout.JAVA_BYTE, 0, utf8.length);
                int cap = utf8.length + 8;
                MemorySegment out = arena.allocate(ValueLayout.JAVA_INT, cap);
                int n = mllm_tokenize(h, src, utf8.length, out, cap, bos, parseSpecial ? 1 : 0);
                if (n == Integer.MIN_VALUE) throw Native.error(MLLM_ERR_INVALID_ARGUMENT(), "tokenize");
                if (n < 0) {
                    cap = -n;
                    out = arena.allocate(ValueLayout.JAVA_INT, cap);
                    n = mllm_tokenize(h, src, utf8.length, out, cap, bos, parseSpecial ? 1 : 0);
                    if (n < 0) throw Native.error(MLLM_ERR_INVALID_ARGUMENT(), "tokenize");
                }
                return out.asSlice(0, 4L * n).toArray(ValueLayout.JAVA_INT);
            }
        });
    }

    /**
     * Decodes tokens to text as the vocabulary's tokenizer does: control tokens vanish, byte tokens
     * (SentencePiece) or byte-level characters join into UTF-8.
     */
    public String decode(int... tokens) {
        return new String(decodeBytes(tokens), StandardCharsets.UTF_8);
    }

    /** Decodes tokens to raw UTF-8 bytes (possibly ending inside a character). */
    public byte[] decodeBytes(int... tokens) {
        checkIds(tokens);
        return model.withHandle(h -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment ids = arena.allocateFrom(ValueLayout.JAVA_INT, tokens);
                int cap = 16 * tokens.length + 16;
                MemorySegment buf = arena.allocate(cap);
                int n = mllm_detokenize(h, ids, tokens.length, buf, cap);
                if (n == Integer.MIN_VALUE) throw Native.error(MLLM_ERR_INVALID_ARGUMENT(), "detokenize");
                if (n < 0) {
                    cap = -n;
                    buf = arena.allocate(cap);
                    n = mllm_detokenize(h, ids, tokens.length, buf, cap);
                    if (n < 0) throw Native.error(MLLM_ERR_INVALID_ARGUMENT(), "detokenize");
                }
                return buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
            }
        });
    }

    /** The vocabulary entry as stored, e.g. "▁the" or "&lt;0x0A&gt;". */
    public String piece(int token) {
        checkId(token);
        return model.withHandle(h -> Native.string(mllm_token_piece(h, token)));
    }

    public float score(int token) {
        checkId(token);
        return model.withHandle(h -> mllm_token_score(h, token));
    }

    public int vocabSize() {
        return model.info().vocabulary().size();
    }

    public int bos() {
        return model.info().vocabulary().bosToken();
    }

    public int eos() {
        return model.info().vocabulary().eosToken();
    }

    /**
     * The tokens that end generation: EOS and, where the file names them, the end-of-turn and
     * end-of-message tokens (tokenizer.ggml.eot_token_id / eom_token_id; e.g. Llama 3's
     * &lt;|eot_id|&gt;, which ends an assistant reply in chat).
     */
    public int[] endOfGeneration() {
        java.util.Map<String, String> md = model.metadata();
        return java.util.stream.Stream.of(Integer.toString(eos()), md.get("tokenizer.ggml.eot_token_id"), md.get("tokenizer.ggml.eom_token_id"))
                .filter(v -> v != null && !v.equals("-1"))
                .mapToInt(Integer::parseInt).distinct().toArray();
    }

    private void checkIds(int[] tokens) {
        java.util.Objects.requireNonNull(tokens, "tokens");
        for (int t : tokens) checkId(t);
    }

    private void checkId(int token) {
        if (token < 0 || token >= vocabSize()) {
            throw new IllegalArgumentException("token id " + token + " out of range [0, " + vocabSize() + ")");
        }
    }
}
