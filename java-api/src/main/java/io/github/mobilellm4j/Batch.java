package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * One forward pass over tokens of several sessions of one model: the weights are read once per pass however
 * many sequences advance, so decoding N sequences together costs far less than N separate evals (decode is
 * memory-bound). Add each session's tokens, then {@link #decode()}; afterwards every session is as after its
 * own {@link Session#eval} of those tokens.
 *
 * <pre>{@code
 * try (Batch batch = Batch.create(model, 64, sessions.size())) {
 *     for (Session s : sessions) batch.add(s, new int[] {next(s)}, true);
 *     batch.decode();
 * }
 * }</pre>
 *
 * <p>A batch belongs to one thread at a time; the sessions added to it must not be used until it is decoded or
 * cleared.
 */
public final class Batch implements AutoCloseable {
    private final Model model;
    private final MemorySegment handle;
    private final Arena arena = Arena.ofConfined();
    private final List<Session> sessions = new ArrayList<>();
    private MemorySegment tokenBuf;
    private boolean closed;

    private Batch(Model model, MemorySegment handle) {
        this.model = model;
        this.handle = handle;
        this.tokenBuf = arena.allocate(ValueLayout.JAVA_INT, 256);
    }

    /**
     * A batch for up to {@code maxTokens} tokens (1..65536) of up to {@code maxSequences} sessions (1..256) of
     * {@code model}.
     */
    public static Batch create(Model model, int maxTokens, int maxSequences) {
        Objects.requireNonNull(model, "model");
        return model.withHandle(h -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                Native.check(mllm_batch_create(h, maxTokens, maxSequences, out), "Batch.create");
                return new Batch(model, out.get(ValueLayout.ADDRESS, 0));
            }
        });
    }

    /**
     * Adds tokens to append to a session's sequence; {@code logits}: whether the session wants its last token's
     * logits afterwards. Each session at most once per batch. Refused (the batch unchanged) when the tokens do
     * not fit the batch or the session's context.
     */
    public Batch add(Session session, int[] tokens, boolean logits) {
        return add(session, tokens, logits ? MLLM_LOGITS_LAST() : MLLM_LOGITS_NONE());
    }

    /**
     * Adds tokens to append to a session's sequence, wanting the logits of every one of them afterwards (as
     * {@link Session#evalAll}: {@code session.logits()} then has one row per token). For scoring several texts in
     * one pass.
     */
    public Batch addAll(Session session, int[] tokens) {
        return add(session, tokens, MLLM_LOGITS_ALL());
    }

    /**
     * Adds a text to embed: {@link #decode()} evaluates its tokens from an empty sequence and pools their final
     * hidden states (after the output norm) as {@link Session#embed} does, computing no logits for them;
     * {@link Session#embedding()} then reads the vector. The session is reset by the decode and left empty
     * (also when the decode fails). The vector equals {@code session.embed(tokens, pooling, normalize)} up to
     * float rounding (a pass over more rows may sum in another order).
     *
     * <p>One pass yields either logits or embeddings: adding an embedding to a batch holding a session that asked
     * for logits, or the reverse, throws {@link MobileLlmException} (sessions added without logits mix with
     * both). The tokens must fit the batch and the session's context.
     */
    public Batch addEmbedding(Session session, int[] tokens, Pooling pooling, boolean normalize) {
        Objects.requireNonNull(pooling, "pooling");
        return add(session, tokens, "no tokens to embed", n -> mllm_batch_add_embed(handle, session.handle(), tokenBuf, n,
                pooling.code, normalize ? 1 : 0));
    }

    private Batch add(Session session, int[] tokens, int mode) {
        return add(session, tokens, "no tokens to add", n -> mllm_batch_add(handle, session.handle(), tokenBuf, n, mode));
    }

    /** Copies the tokens into the native buffer, then hands the session to the engine with nativeAdd. */
    private Batch add(Session session, int[] tokens, String ifEmpty, java.util.function.IntUnaryOperator nativeAdd) {
        Objects.requireNonNull(session, "session");
        ensureOpen();
        if (session.model() != model) throw new IllegalArgumentException("the session belongs to another model");
        session.checkTokens(tokens, ifEmpty);
        if (tokens.length > tokenBuf.byteSize() / 4) tokenBuf = arena.allocate(ValueLayout.JAVA_INT, tokens.length);
        MemorySegment.copy(tokens, 0, tokenBuf, ValueLayout.JAVA_INT, 0, tokens.length);
        session.call(() -> {
            Native.check(nativeAdd.applyAsInt(tokens.length), "Batch.add");
            return null;
        });
        sessions.add(session);
        return this;
    }

    /** Runs the one forward pass over everything added, then empties the batch (also when it fails). */
    public void decode() {
        ensureOpen();
        try {
            model.withHandle(h -> holdingAll(0, () -> {
                for (Session s : sessions) s.newEpoch();
                Native.check(mllm_batch_decode(handle), "Batch.decode");
                return null;
            }));
        } finally {
            sessions.clear();
        }
    }

    /** Empties the batch without running it. */
    public void clear() {
        ensureOpen();
        mllm_batch_clear(handle);
        sessions.clear();
    }

    /** Every added session held by this thread (open, not used elsewhere) for the duration of action. */
    private <T> T holdingAll(int i, Supplier<T> action) {
        return i == sessions.size() ? action.get() : sessions.get(i).call(() -> holdingAll(i + 1, action));
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("batch is closed");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        mllm_batch_free(handle);
        arena.close();
        sessions.clear();
    }
}
