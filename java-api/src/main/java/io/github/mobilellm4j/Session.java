package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.*;

import io.github.mobilellm4j.bindings.mllm_session_params;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * One sequence's state (KV cache) over a shared {@link Model}.
 *
 * <p><b>Threads.</b> A session belongs to one thread at a time, not to the thread that made it: it, and a
 * stream made from it, may move to another thread between calls. A call while another thread is inside the
 * session (including a generation whose token callback is running) throws IllegalStateException.
 *
 * <p><b>Lifetimes.</b> {@link Logits} and the segments they hand out are valid until the session's next eval,
 * prefill, reset, truncate, score, embed, generation or close (or the model's close); reading them afterwards
 * throws IllegalStateException.
 *
 * <p><b>Closing.</b> Closing the session or its model from a token callback or a stream's consumer ends the
 * generation once the callback returns (the stream ends; a blocking generation returns with
 * {@link StopReason#CANCELLED}). No user callback runs while the session holds the model's lock, so such a
 * close never waits for its own thread. Use after close throws IllegalStateException.
 */
public final class Session implements AutoCloseable {
    private final Model model;
    private final MemorySegment handle;
    private final int vocab;
    private final AtomicReference<Thread> user = new AtomicReference<>();
    private int depth;
    /** Counts evals and resets: a Logits object belongs to one epoch. Volatile: Logits check it on any thread. */
    private volatile long epoch;
    /** Scope of the logits segments handed out in this epoch (made on first use), closed when the epoch ends. */
    private Arena logitsScope;
    private volatile boolean closed;
    /** Scratch for passing token ids to the engine without allocating per token. */
    private final Arena arena = Arena.ofShared();
    private MemorySegment tokenBuf;
    private final MemorySegment rowsOut;

    private Session(Model model, MemorySegment handle) {
        this.model = model;
        this.handle = handle;
        this.vocab = model.info().vocabSize();
        this.tokenBuf = arena.allocate(ValueLayout.JAVA_INT, 512);
        this.rowsOut = arena.allocate(ValueLayout.JAVA_INT);
    }

    static Session create(Model model, MemorySegment modelHandle, SessionOptions o) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            Native.check(mllm_session_create(modelHandle, params(o, a), out), "cannot create session");
            return new Session(model, out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /**
     * The engine's session parameters for these options. The context length passes through unchanged: 0 asks
     * for the engine's default, {@link SessionOptions#MODEL_MAXIMUM} (-1) for the model's training context.
     */
    static MemorySegment params(SessionOptions o, Arena a) {
        MemorySegment p = mllm_session_params.allocate(a);
        mllm_session_params_init(p);
        mllm_session_params.n_ctx(p, o.contextLength());
        mllm_session_params.n_batch(p, o.batchSize());
        mllm_session_params.kv_type(p, o.kvCacheType().code);
        mllm_session_params.n_threads(p, o.threads());
        mllm_session_params.context_shift(p, o.contextShift() ? 1 : 0);
        mllm_session_params.n_keep(p, o.keep());
        return p;
    }

    public Model model() {
        return model;
    }

    /** Tokens in the sequence so far. */
    public int position() {
        return call(() -> mllm_session_n_past(handle));
    }

    /** Tokens the session can hold. */
    public int contextLength() {
        return call(() -> mllm_session_n_ctx(handle));
    }

    /** Appends tokens and runs the model; afterwards {@link #logits()} holds the last token's logits. */
    public Logits eval(int... tokens) {
        return evalMode(tokens, MLLM_LOGITS_LAST());
    }

    /** Appends tokens and returns the logits of every one of them (rows = tokens.length). */
    public Logits evalAll(int... tokens) {
        return evalMode(tokens, MLLM_LOGITS_ALL());
    }

    /** Appends tokens without computing logits (prompt prefill). */
    public void prefill(int... tokens) {
        evalMode(tokens, MLLM_LOGITS_NONE());
    }

    /** The logits of the last eval (a view, valid until the next eval, reset or close). */
    public Logits logits() {
        return call(this::currentLogits);
    }

    /** Keeps the first n tokens of the sequence and forgets the rest. */
    public void truncate(int n) {
        call(() -> {
            newEpoch();
            Native.check(mllm_session_truncate(handle, n), "truncate");
            return null;
        });
    }

    /** Forgets the whole sequence. */
    public void reset() {
        call(() -> {
            newEpoch();
            Native.check(mllm_session_reset(handle), "reset");
            return null;
        });
    }

    /**
     * Appends tokens and returns nll[i] = -ln p(tokens[i+1] | everything before it), for i &lt; tokens.length - 1.
     */
    public float[] score(int[] tokens) {
        java.util.Objects.requireNonNull(tokens, "tokens");
        if (tokens.length < 2) throw new IllegalArgumentException("score needs at least 2 tokens");
        return call(() -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment ids = a.allocateFrom(ValueLayout.JAVA_INT, tokens);
                MemorySegment nll = a.allocate(ValueLayout.JAVA_FLOAT, tokens.length - 1L);
                newEpoch();
                Native.check(mllm_session_score(handle, ids, tokens.length, nll), "score");
                return nll.toArray(ValueLayout.JAVA_FLOAT);
            }
        });
    }

    /** Embedding of a token sequence (the session is reset before and after). */
    public float[] embed(int[] tokens, Pooling pooling, boolean normalize) {
        java.util.Objects.requireNonNull(tokens, "tokens");
        java.util.Objects.requireNonNull(pooling, "pooling");
        if (tokens.length == 0) throw new IllegalArgumentException("embed needs at least one token");
        return call(() -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment ids = a.allocateFrom(ValueLayout.JAVA_INT, tokens);
                MemorySegment out = a.allocate(ValueLayout.JAVA_FLOAT, model.info().embeddingLength());
                newEpoch();
                Native.check(mllm_session_embed(handle, ids, tokens.length, pooling.code, normalize ? 1 : 0, out),
                        "embed");
                return out.toArray(ValueLayout.JAVA_FLOAT);
            }
        });
    }

    /** Generates a continuation of a text prompt (appended to this session's sequence) and blocks. */
    public Generation generate(String prompt, GenerateOptions options) {
        return generate(encodePrompt(prompt, options), options, null);
    }

    /**
     * Generates from prompt tokens, calling onToken for each generated token as it is produced. The callback
     * may close this session or its model: the generation then ends with {@link StopReason#CANCELLED}.
     */
    public Generation generate(int[] promptTokens, GenerateOptions options, Consumer<GeneratedToken> onToken) {
        // the whole generation, callbacks included, holds the session (no other thread can interleave), but
        // only the steps between callbacks hold the model's lock: a callback may close the model
        return holding(() -> {
            ensureOpen();
            try (Generator g = new Generator(this, promptTokens, options)) {
                for (GeneratedToken t = g.next(); t != null; t = g.next()) {
                    if (onToken != null) onToken.accept(t);
                }
                return g.result();
            }
        });
    }

    /**
     * Generates with the engine's own decode loop (mllm_generate): no Java code runs between tokens. The
     * reference the Java loop of {@link #generate(int[], GenerateOptions, Consumer)} is tested against (same
     * tokens and text); stop strings are not supported here. Not API: the benchmarks call mllm_generate
     * through the bindings themselves.
     */
    Generation generateNative(int[] promptTokens, GenerateOptions options) {
        checkTokens(promptTokens, "the prompt has no tokens");
        java.util.Objects.requireNonNull(options, "options");
        if (!options.stopStrings().isEmpty()) {
            throw new IllegalArgumentException("generateNative does not support stop strings; use generate()");
        }
        return call(() -> {
            try (Arena a = Arena.ofConfined(); Sampler sampler = new Sampler(options.sampler(), vocab);
                    StreamingDetokenizer detok = new StreamingDetokenizer(model, false)) {
                int max = options.maxTokens();
                MemorySegment prompt = a.allocateFrom(ValueLayout.JAVA_INT, promptTokens);
                MemorySegment out = a.allocate(ValueLayout.JAVA_INT, Math.max(1, max));
                MemorySegment nOut = a.allocate(ValueLayout.JAVA_INT);
                MemorySegment timings = io.github.mobilellm4j.bindings.mllm_timings.allocate(a);
                newEpoch();
                int status = mllm_generate(handle, sampler.handle(), prompt, promptTokens.length, max,
                        options.ignoreEos() ? 1 : 0, out, nOut, MemorySegment.NULL, MemorySegment.NULL, timings);
                Native.check(status, "generate");
                int n = nOut.get(ValueLayout.JAVA_INT, 0);
                int[] tokens = out.asSlice(0, 4L * n).toArray(ValueLayout.JAVA_INT);
                StringBuilder text = new StringBuilder();
                for (int t : tokens) text.append(detok.push(t));
                text.append(detok.flush());
                StopReason reason = n < max ? StopReason.EOS : StopReason.MAX_TOKENS;
                Timings t = new Timings(promptTokens.length, n,
                        io.github.mobilellm4j.bindings.mllm_timings.prompt_seconds(timings),
                        io.github.mobilellm4j.bindings.mllm_timings.generate_seconds(timings));
                return new Generation(text.toString(), promptTokens.clone(), tokens, reason, t);
            }
        });
    }

    /**
     * Streams generated tokens lazily; close the stream (try-with-resources) if you stop early. The stream may
     * be consumed on any one thread at a time; its consumer may close this session or its model, which ends
     * the stream.
     */
    public Stream<GeneratedToken> stream(String prompt, GenerateOptions options) {
        return stream(encodePrompt(prompt, options), options);
    }

    public Stream<GeneratedToken> stream(int[] promptTokens, GenerateOptions options) {
        Generator g = new Generator(this, promptTokens, options);
        Iterator<GeneratedToken> it = new Iterator<>() {
            private GeneratedToken next;
            private boolean done;

            @Override
            public boolean hasNext() {
                if (next == null && !done) {
                    next = g.next();
                    if (next == null) {
                        done = true;
                        g.close();
                    }
                }
                return next != null;
            }

            @Override
            public GeneratedToken next() {
                if (!hasNext()) throw new NoSuchElementException();
                GeneratedToken t = next;
                next = null;
                return t;
            }
        };
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(it, Spliterator.ORDERED | Spliterator.NONNULL),
                false).onClose(g::close);
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * Frees the session. Idempotent. May be called from a token callback or a stream's consumer on the
     * generating thread (the generation ends); from another thread while a call is in progress it throws
     * IllegalStateException.
     */
    @Override
    public void close() {
        model.readLock().lock();
        try {
            enter();
            try {
                freeNative();
            } finally {
                exit();
            }
        } finally {
            model.readLock().unlock();
        }
        model.forget(this);
    }

    // ---- used by Generator, Logits and Model -------------------------------------------------------

    int[] encodePrompt(String prompt, GenerateOptions options) {
        java.util.Objects.requireNonNull(prompt, "prompt");
        Boolean bos = options.addBos();
        if (bos == null && position() > 0) bos = false; // BOS only starts a sequence
        return model.tokenizer().encode(prompt, bos, options.parseSpecial());
    }

    /** Runs action inside the session's guards (open model, open session, one thread, the model's lock). */
    <T> T call(java.util.function.Supplier<T> action) {
        model.readLock().lock();
        try {
            model.ensureOpen();
            enter();
            try {
                if (closed) throw new IllegalStateException("session is closed");
                return action.get();
            } finally {
                exit();
            }
        } finally {
            model.readLock().unlock();
        }
    }

    /**
     * Runs action as the session's only thread but without the model's lock, so that user code inside it
     * (token callbacks) may close the model. Native calls inside still go through {@link #call}.
     */
    <T> T holding(java.util.function.Supplier<T> action) {
        enter();
        try {
            return action.get();
        } finally {
            exit();
        }
    }

    void ensureOpen() {
        model.ensureOpen();
        if (closed) throw new IllegalStateException("session is closed");
    }

    /** Rejects null, empty and out-of-vocabulary token arrays before they reach the engine. */
    void checkTokens(int[] tokens, String ifEmpty) {
        java.util.Objects.requireNonNull(tokens, "tokens");
        if (tokens.length == 0) throw new IllegalArgumentException(ifEmpty);
        for (int t : tokens) {
            if (t < 0 || t >= vocab) throw new IllegalArgumentException("token id " + t + " out of range [0, " + vocab + ")");
        }
    }

    /** Appends tokens and runs the model, reusing the scratch buffer; the hot path of generation. Caller is in call(). */
    void evaluate(int[] tokens, int mode) {
        if (tokenBuf.byteSize() < 4L * tokens.length) tokenBuf = arena.allocate(ValueLayout.JAVA_INT, tokens.length);
        MemorySegment.copy(tokens, 0, tokenBuf, ValueLayout.JAVA_INT, 0, tokens.length);
        newEpoch();
        Native.check(mllm_session_eval(handle, tokenBuf, tokens.length, mode), "eval");
    }

    /** Segment of the last logits row, for the sampler only (valid until the next eval). Caller is in call(). */
    MemorySegment lastRow() {
        MemorySegment p = mllm_session_logits(handle, rowsOut);
        int rows = rowsOut.get(ValueLayout.JAVA_INT, 0);
        if (p.equals(MemorySegment.NULL) || rows <= 0) throw new IllegalStateException("no logits: evaluate first");
        return p.reinterpret(4L * rows * vocab).asSlice(4L * (rows - 1) * vocab, 4L * vocab);
    }

    MemorySegment handle() {
        return handle;
    }

    boolean isLogitsEpoch(long e) {
        return !closed && e == epoch;
    }

    /**
     * The logits buffer of epoch e as a segment scoped to that epoch: when the epoch ends, its scope closes and
     * the JVM refuses access through it (and through every slice of it) with IllegalStateException.
     */
    MemorySegment scopeLogits(long e, MemorySegment buffer) {
        return readLogits(e, () -> {
            if (logitsScope == null) logitsScope = Arena.ofShared(); // shared: the session may change threads
            return buffer.reinterpret(logitsScope, null);
        });
    }

    /**
     * Runs read on the logits of epoch e under the session's guards: no eval or close can change the buffer
     * meanwhile, so reads that hand nothing out need no scope.
     */
    <T> T readLogits(long e, java.util.function.Supplier<T> read) {
        return call(() -> {
            if (e != epoch) throw Logits.stale();
            return read.get();
        });
    }

    void closeFromModel() {
        // called with the model's write lock held: no session call is in flight
        freeNative();
    }

    private Logits evalMode(int[] tokens, int mode) {
        checkTokens(tokens, "no tokens to evaluate");
        return call(() -> {
            evaluate(tokens, mode);
            return mode == MLLM_LOGITS_NONE() ? null : currentLogits();
        });
    }

    private Logits currentLogits() {
        MemorySegment p = mllm_session_logits(handle, rowsOut);
        int rows = rowsOut.get(ValueLayout.JAVA_INT, 0);
        if (p.equals(MemorySegment.NULL) || rows <= 0) throw new IllegalStateException("no logits: evaluate first");
        return new Logits(this, epoch, p.reinterpret(4L * rows * vocab), rows, vocab);
    }

    /** Ends the logits epoch before the engine reuses the buffer: segments handed out for it stop working. */
    private void newEpoch() {
        closeLogitsScope();
        epoch++;
    }

    private void closeLogitsScope() {
        if (logitsScope != null) {
            logitsScope.close(); // throws (and nothing changes) if a native call elsewhere still holds a segment
            logitsScope = null;
        }
    }

    private void freeNative() {
        if (closed) return;
        closeLogitsScope();
        closed = true;
        mllm_session_free(handle);
        arena.close();
    }

    private void enter() {
        Thread me = Thread.currentThread();
        if (user.get() == me) {
            depth++;
            return;
        }
        if (!user.compareAndSet(null, me)) {
            Thread other = user.get();
            throw new IllegalStateException("session is in use by thread '" + (other == null ? "?" : other.getName())
                    + "'; a session belongs to one thread at a time");
        }
        depth = 1;
    }

    private void exit() {
        if (--depth == 0) user.set(null);
    }
}
