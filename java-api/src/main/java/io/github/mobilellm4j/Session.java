package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.*;

import io.github.mobilellm4j.bindings.mllm_abort_callback;
import io.github.mobilellm4j.bindings.mllm_session_params;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
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
 *
 * <p><b>Cancelling.</b> Interrupting the thread inside a model call (eval, prefill, score, embed, a
 * generation), or {@link #cancel()} from any thread, stops it within about one layer's time: the call throws
 * {@link MobileLlmException} with status {@link MobileLlmException.Status#CANCELLED} and the session is as
 * before the call (an interrupted thread keeps its interrupt status). A generation stopped this way keeps
 * the tokens evaluated before the stop in the sequence ({@link #position()} tells how many).
 */
public final class Session implements AutoCloseable {
    private final Model model;
    private final MemorySegment handle;
    private final int vocab;
    private final AtomicReference<Thread> user = new AtomicReference<>();
    private int depth;
    /** Counts evals and resets: a Logits object belongs to one epoch. Volatile: Logits check it on any thread. */
    private volatile long epoch;
    private volatile boolean closed;
    /** The native session and the memory handed to it, freed once (by close, the model's close or the Cleaner). */
    private final NativeSession ns;
    private final Cleaner.Cleanable cleanable;
    /** Scratch for passing token ids to the engine without allocating per token. */
    private MemorySegment tokenBuf;
    private final MemorySegment rowsOut;
    /** Most tokens one pass may append (SessionOptions.batchSize): the longest prompt chunk a scheduler adds. */
    private final int batchSize;
    /** SessionOptions.callTimeout in nanoseconds; 0: none. */
    private final long callTimeoutNanos;
    /** A generation's deadline armed for its prompt (System.nanoTime(); 0: none), see {@link #armDeadline}. */
    private long generationDeadline;
    /**
     * A generation whose sequence in the engine's loop holds this session (the engine refuses other model calls
     * on it meanwhile), and the one stepping now. Another call first ends such a generation: a stream left
     * unfinished does not block the session.
     */
    private Generator engineHolder;
    private Generator stepping;

    private Session(Model model, MemorySegment handle, SessionOptions o) {
        this.model = model;
        this.handle = handle;
        this.batchSize = o.batchSize();
        this.callTimeoutNanos = o.callTimeout() == null ? 0 : Math.max(1, o.callTimeout().toNanos());
        this.ns = new NativeSession(model, handle);
        this.cleanable = Leaks.CLEANER.register(this, ns);
        this.vocab = model.info().vocabulary().size();
        this.tokenBuf = ns.arena.allocate(ValueLayout.JAVA_INT, 512);
        this.rowsOut = ns.arena.allocate(ValueLayout.JAVA_INT);
    }

    /**
     * A session's native side: the engine's session, the memory handed to it and the scope of the logits views,
     * freed exactly once. It references the model but never the {@link Session}, so a session dropped without
     * close() becomes unreachable and the Cleaner frees it (the model stays reachable until then, so it is
     * always freed after its sessions).
     */
    static final class NativeSession implements Runnable {
        private final Model model;
        private final MemorySegment handle;
        private final Arena arena = Arena.ofShared();
        /** Scope of the logits segments handed out in the current epoch (made on first use). */
        private Arena logitsScope;
        /** System.nanoTime() after which calls stop (0: none); read by the abort check on the calling thread. */
        private volatile long deadline;
        private boolean freed;
        private volatile boolean closedByOwner;

        NativeSession(Model model, MemorySegment handle) {
            this.model = model;
            this.handle = handle;
            // asked by the engine once per layer on the calling thread: an interrupt or a passed deadline stops it
            MemorySegment check = mllm_abort_callback.allocate(userData -> abortRequested() ? 1 : 0, arena);
            Native.check(mllm_session_set_abort_callback(handle, check, MemorySegment.NULL), "session");
        }

        private boolean abortRequested() {
            long d = deadline;
            return Thread.currentThread().isInterrupted() || (d != 0 && System.nanoTime() - d > 0);
        }

        /** Ends the logits views of the current epoch: the JVM refuses access through them from now on. */
        synchronized void closeLogitsScope() {
            if (logitsScope != null) {
                logitsScope.close(); // throws (and nothing changes) if a native call elsewhere still holds a segment
                logitsScope = null;
            }
        }

        synchronized MemorySegment scope(MemorySegment buffer) {
            if (logitsScope == null) logitsScope = Arena.ofShared(); // shared: the session may change threads
            return buffer.reinterpret(logitsScope, null);
        }

        /** Sends a cancellation to a call running in the session, unless it is freed. */
        synchronized void cancel() {
            if (!freed) Native.check(mllm_session_cancel(handle), "cancel");
        }

        synchronized boolean isFreed() {
            return freed;
        }

        /** Frees everything; no call may be running in the session (the caller guarantees it). */
        synchronized void free() {
            if (freed) return;
            freed = true;
            if (logitsScope != null) logitsScope.close();
            logitsScope = null;
            mllm_session_free(handle);
            arena.close();
        }

        /** The cleanup: after close() (closedByOwner) or when the session became unreachable unclosed. */
        @Override
        public void run() {
            if (!closedByOwner && !isFreed()) Leaks.sessionNotClosed();
            model.readLock().lock(); // not during the model's close, which frees its sessions itself
            try {
                free();
            } finally {
                model.readLock().unlock();
            }
            model.forget(this);
        }
    }

    static Session create(Model model, MemorySegment modelHandle, SessionOptions o) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            Native.check(mllm_session_create(modelHandle, params(o, a), out), "cannot create session");
            return new Session(model, out.get(ValueLayout.ADDRESS, 0), o);
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

    /**
     * Keeps the first n tokens of the sequence and forgets the rest. A model with sliding-window layers
     * (MobileLLM-Pro) holds only the latest positions of those layers: where they no longer hold what the
     * first n tokens need, nothing is kept. {@link #position()} tells how many tokens were kept.
     */
    public void truncate(int n) {
        call(() -> {
            newEpoch();
            Native.check(mllm_session_truncate(handle, n), "truncate");
            return null;
        });
    }

    /**
     * Asks the model call running in this session to stop; callable from any thread. The call throws
     * {@link MobileLlmException} with status CANCELLED and leaves the session as before it. Made while no call
     * runs, the request stops the session's next call. Does nothing on a closed session.
     */
    public void cancel() {
        model.readLock().lock();
        try {
            ns.cancel();
        } finally {
            model.readLock().unlock();
            Reference.reachabilityFence(this);
        }
    }

    /**
     * The session's state (its sequence's KV cache and last logits) in a versioned, checksummed format that
     * {@link #restoreState(byte[])} reads back into a session of the same model and KV cache type.
     */
    public byte[] saveState() {
        return call(() -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment size = a.allocate(ValueLayout.JAVA_LONG);
                Native.check(mllm_session_state_size(handle, size), "saveState");
                long n = size.get(ValueLayout.JAVA_LONG, 0);
                if (n > Integer.MAX_VALUE - 8) {
                    throw new IllegalStateException("the state (" + n + " bytes) is too large for a byte array; use saveState(Path)");
                }
                MemorySegment buf = a.allocate(n);
                Native.check(mllm_session_state_save(handle, buf, n, size), "saveState");
                return buf.toArray(ValueLayout.JAVA_BYTE);
            }
        });
    }

    /** Writes the state to a file: the file is either the whole state or left untouched. */
    public void saveState(java.nio.file.Path file) {
        java.util.Objects.requireNonNull(file, "file");
        call(() -> {
            try (Arena a = Arena.ofConfined()) {
                Native.check(mllm_session_state_save_file(handle, a.allocateFrom(file.toString())), "saveState");
            }
            return null;
        });
    }

    /**
     * Replaces this session's sequence with a saved state; afterwards the session continues exactly as the saved
     * one would. A state of another model, KV cache type or format version, a damaged one, or one longer than
     * this session's context is refused with {@link MobileLlmException} naming the problem, the session unchanged.
     */
    public void restoreState(byte[] state) {
        java.util.Objects.requireNonNull(state, "state");
        call(() -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment buf = a.allocateFrom(ValueLayout.JAVA_BYTE, state);
                newEpoch();
                Native.check(mllm_session_state_load(handle, buf, state.length), "restoreState");
            }
            return null;
        });
    }

    /** {@link #restoreState(byte[])} from a file written by {@link #saveState(java.nio.file.Path)}. */
    public void restoreState(java.nio.file.Path file) {
        java.util.Objects.requireNonNull(file, "file");
        call(() -> {
            try (Arena a = Arena.ofConfined()) {
                newEpoch();
                Native.check(mllm_session_state_load_file(handle, a.allocateFrom(file.toString())), "restoreState");
            }
            return null;
        });
    }

    /**
     * Prefix sharing: makes this session's sequence the first {@code tokens} tokens of {@code source}'s without
     * evaluating them, by copying those KV-cache rows (both sessions of one model and KV cache type). A copy:
     * later changes to either session never affect the other.
     */
    public void copyPrefixFrom(Session source, int tokens) {
        java.util.Objects.requireNonNull(source, "source");
        if (source.model != model) throw new IllegalArgumentException("the sessions belong to different models");
        call(() -> source.call(() -> {
            newEpoch();
            Native.check(mllm_session_copy_prefix(handle, source.handle, tokens), "copyPrefixFrom");
            return null;
        }));
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
                long callDeadline = armCall();
                try {
                    Native.check(mllm_session_score(handle, ids, tokens.length, nll), "score");
                } catch (MobileLlmException e) {
                    throw stopped(e, callDeadline);
                } finally {
                    ns.deadline = 0;
                }
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
                MemorySegment out = a.allocate(ValueLayout.JAVA_FLOAT, model.info().shape().embeddingLength());
                newEpoch();
                long callDeadline = armCall();
                try {
                    Native.check(mllm_session_embed(handle, ids, tokens.length, pooling.code, normalize ? 1 : 0, out),
                            "embed");
                } catch (MobileLlmException e) {
                    throw stopped(e, callDeadline);
                } finally {
                    ns.deadline = 0;
                }
                return out.toArray(ValueLayout.JAVA_FLOAT);
            }
        });
    }

    /**
     * The embedding that the last {@link Batch#decode()} computed for this session, added with
     * {@link Batch#addEmbedding}. Throws {@link MobileLlmException} (status STATE) when the session holds none:
     * it was not added so, the decode failed, or a later call in the session dropped it.
     */
    public float[] embedding() {
        return call(() -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.JAVA_FLOAT, model.info().shape().embeddingLength());
                Native.check(mllm_session_embedding(handle, out), "embedding");
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
     *
     * <p><b>Where the session stands afterwards.</b> The prompt is appended to the sequence, then each sampled
     * token is evaluated before the next one is sampled. A token that ends the generation is never evaluated,
     * since nothing would read its logits: the end-of-sequence token (not returned), and, with
     * {@link StopReason#MAX_TOKENS} or {@link StopReason#STOP_STRING}, the last token of
     * {@link Generation#tokens()}. So after MAX_TOKENS or STOP_STRING {@link #position()} has grown by the prompt
     * and every returned token but the last, and {@link #logits()} holds the logits that last token was sampled
     * from; after any other end (EOS, TIMEOUT, CANCELLED) it has grown by the prompt and every returned token (a
     * token sampled but not yet evaluated is not returned). To continue after MAX_TOKENS or STOP_STRING, pass
     * that last token first, e.g. as the first token of the next prompt, as a llama.cpp loop passes its sampled
     * token to the next decode ({@link io.github.mobilellm4j.chat.ChatSession} does this itself). The generation
     * runs in the engine's decode loop, the one {@code mllm_generate} (mobilellm.h) and {@link Scheduler} run, so
     * a C program and this method generate the same tokens.
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
     * Runs {@link #generate(int[], GenerateOptions, Consumer)} on {@code executor}. Cancelling the future stops
     * the native work within about one layer's time (the running thread is interrupted, and its interrupt status
     * cleared again when the generation has ended); the session stays usable, holding the tokens evaluated
     * before the cancellation. The future fails with the generation's exception, if any.
     */
    public CompletableFuture<Generation> generateAsync(int[] promptTokens, GenerateOptions options, Executor executor) {
        java.util.Objects.requireNonNull(executor, "executor");
        checkTokens(promptTokens, "the prompt has no tokens");
        java.util.Objects.requireNonNull(options, "options");
        AsyncGeneration f = new AsyncGeneration();
        executor.execute(() -> f.run(() -> generate(promptTokens, options, null)));
        return f;
    }

    /** A future whose cancellation interrupts the thread running it, and only while it runs. */
    private static final class AsyncGeneration extends CompletableFuture<Generation> {
        private Thread runner;
        private boolean finished;
        private boolean interrupted;

        void run(java.util.function.Supplier<Generation> work) {
            synchronized (this) {
                if (isDone()) return; // cancelled before it started
                runner = Thread.currentThread();
            }
            try {
                complete(work.get());
            } catch (Throwable t) {
                completeExceptionally(t);
            } finally {
                synchronized (this) {
                    finished = true;
                    if (interrupted) Thread.interrupted(); // ours: not left to the executor's next task
                }
            }
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            synchronized (this) {
                if (cancelled && runner != null && !finished) {
                    interrupted = true;
                    runner.interrupt();
                }
            }
            return cancelled;
        }
    }

    /**
     * Generates through {@code mllm_generate} called directly, no Java code between tokens: what
     * {@link #generate(int[], GenerateOptions, Consumer)} is tested against (same tokens and text, the session
     * left at the same position with the same logits), to show that driving the engine's loop from Java changes
     * nothing; stop strings are not supported here. Not API: the benchmarks call mllm_generate through the
     * bindings themselves.
     */
    Generation generateNative(int[] promptTokens, GenerateOptions options) {
        checkTokens(promptTokens, "the prompt has no tokens");
        java.util.Objects.requireNonNull(options, "options");
        if (!options.stopStrings().isEmpty()) {
            throw new IllegalArgumentException("generateNative does not support stop strings; use generate()");
        }
        if (options.draft() != null) {
            throw new IllegalArgumentException("generateNative does not support a draft model; use generate()");
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
                return new Generation(text.toString(), promptTokens, tokens, reason, t);
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
        return closed || ns.isFreed();
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
                if (!closed) abandonEngineHolder(); // a generation still in the engine's loop ends first
                freeNative();
            } finally {
                exit();
            }
        } finally {
            model.readLock().unlock();
        }
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
                if (engineHolder != stepping) abandonEngineHolder();
                return action.get();
            } finally {
                exit();
            }
        } finally {
            model.readLock().unlock();
            Reference.reachabilityFence(this); // no Cleaner frees the session during a native call
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
        evaluate(tokens, tokens.length, mode);
    }

    /** {@link #evaluate(int[], int)} of the first n tokens, so that callers can keep one buffer for inputs of any length. */
    void evaluate(int[] tokens, int n, int mode) {
        if (tokenBuf.byteSize() < 4L * n) tokenBuf = ns.arena.allocate(ValueLayout.JAVA_INT, n);
        MemorySegment.copy(tokens, 0, tokenBuf, ValueLayout.JAVA_INT, 0, n);
        newEpoch();
        long callDeadline = armCall();
        try {
            Native.check(mllm_session_eval(handle, tokenBuf, n, mode), "eval");
        } catch (MobileLlmException e) {
            throw stopped(e, callDeadline);
        } finally {
            ns.deadline = 0;
        }
    }

    /** Segment of the last logits row, for the sampler only (valid until the next eval). Caller is in call(). */
    MemorySegment lastRow() {
        MemorySegment p = mllm_session_logits(handle, rowsOut);
        int rows = rowsOut.get(ValueLayout.JAVA_INT, 0);
        if (p.equals(MemorySegment.NULL) || rows <= 0) throw new IllegalStateException("no logits: evaluate first");
        return p.reinterpret(4L * rows * vocab).asSlice(4L * (rows - 1) * vocab, 4L * vocab);
    }

    /** Segment of logits row i of the last eval, for the sampler only (valid until the next eval). Caller is in call(). */
    MemorySegment logitsRow(int i) {
        MemorySegment p = mllm_session_logits(handle, rowsOut);
        int rows = rowsOut.get(ValueLayout.JAVA_INT, 0);
        if (p.equals(MemorySegment.NULL) || i < 0 || i >= rows) {
            throw new IllegalStateException("no logits row " + i + " (the last eval has " + rows + ")");
        }
        return p.reinterpret(4L * rows * vocab).asSlice(4L * i * vocab, 4L * vocab);
    }

    MemorySegment handle() {
        return handle;
    }

    boolean isLogitsEpoch(long e) {
        return !isClosed() && e == epoch;
    }

    /**
     * The logits buffer of epoch e as a segment scoped to that epoch: when the epoch ends, its scope closes and
     * the JVM refuses access through it (and through every slice of it) with IllegalStateException.
     */
    MemorySegment scopeLogits(long e, MemorySegment buffer) {
        return readLogits(e, () -> ns.scope(buffer));
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
    void newEpoch() {
        ns.closeLogitsScope();
        epoch++;
    }

    NativeSession nativeSession() {
        return ns;
    }

    int batchSize() {
        return batchSize;
    }

    /** Makes the session's evaluations stop once System.nanoTime() passes deadline (0: never). */
    void armDeadline(long deadline) {
        generationDeadline = deadline;
    }

    /** Runs a step of g's sequence in the engine's loop, as {@link #call}; g holds the session until it ends. */
    <T> T engineStep(Generator g, java.util.function.Supplier<T> step) {
        Generator before = stepping;
        stepping = g;
        engineHolder = g;
        try {
            return call(step);
        } finally {
            stepping = before;
        }
    }

    /** Ends the generation whose sequence holds this session in the engine's loop, if any (caller inside). */
    private void abandonEngineHolder() {
        Generator left = engineHolder;
        engineHolder = null;
        if (left != null) left.abandon();
    }

    /**
     * After a generation that started at position start was stopped: takes a prompt of promptLength tokens that
     * was read only part-way back out of the sequence, as a stopped eval leaves it.
     */
    void rewindPartialPrompt(int start, int promptLength) {
        if (!isClosed() && position() - start < promptLength) truncate(start);
    }

    /** g's sequence no longer holds the session (it ended or was freed). */
    void engineReleased(Generator g) {
        if (engineHolder == g) engineHolder = null;
    }

    /**
     * Arms the engine's abort check for one step of a generation (caller in {@link #call}): it stops at the
     * generation's deadline or, with callTimeout, the session's call timeout, whichever comes first. Returns the
     * call's own deadline (0: none), for {@link #generationStopped}.
     */
    long armGenerationStep(long deadline, boolean callTimeout) {
        newEpoch();
        generationDeadline = deadline;
        if (callTimeout) return armCall();
        ns.deadline = deadline;
        return 0;
    }

    void disarmGenerationStep() {
        ns.deadline = 0;
        generationDeadline = 0;
    }

    /**
     * What a generation the engine stopped or failed throws: its error, or CANCELLED (an interrupt,
     * {@link #cancel()}, or the session's call timeout, which the message then names).
     */
    MobileLlmException generationStopped(NativeScheduler.Result r, long callDeadline) {
        if (r.status() != MLLM_OK() && r.stopReason() != MLLM_STOP_CANCELLED()) {
            return Native.error(r.status(), "generate", r.message());
        }
        return stopped(new MobileLlmException(MobileLlmException.Status.CANCELLED, "generate: cancelled"), callDeadline);
    }

    /**
     * Arms the engine's abort check for one model call: it stops the call once the earlier of the session's call
     * timeout and an armed generation deadline passes. Returns the call's own deadline (0: none); the caller
     * disarms with {@code ns.deadline = 0} when the call returns.
     */
    private long armCall() {
        long callDeadline = callTimeoutNanos == 0 ? 0 : System.nanoTime() + callTimeoutNanos;
        long d = generationDeadline;
        ns.deadline = d == 0 ? callDeadline : callDeadline == 0 || d - callDeadline < 0 ? d : callDeadline;
        return callDeadline;
    }

    /**
     * What a stopped call throws: a stop by the call timeout alone names the timeout; any other (an interrupt,
     * cancel(), a generation deadline the generation handles) stays as the engine reported it.
     */
    private MobileLlmException stopped(MobileLlmException e, long callDeadline) {
        long now = System.nanoTime();
        long d = generationDeadline;
        if (e.status() == MobileLlmException.Status.CANCELLED && callDeadline != 0 && now - callDeadline > 0
                && !Thread.currentThread().isInterrupted() && (d == 0 || now - d < 0)) {
            return new MobileLlmException(MobileLlmException.Status.CANCELLED, "the call took longer than the "
                    + "session's call timeout (" + callTimeoutNanos / 1_000_000 + " ms); the session is as before it");
        }
        return e;
    }

    /**
     * Takes the session for the calling thread until {@link #release()}: calls from other threads are refused
     * meanwhile. A {@link Scheduler} holds its sequences' sessions this way while they run.
     */
    void acquire() {
        enter();
    }

    void release() {
        exit();
    }

    private void freeNative() {
        if (closed) return;
        ns.closeLogitsScope(); // throws (the session stays open) while another thread reads a logits view
        closed = true;
        ns.closedByOwner = true;
        cleanable.clean(); // frees the native session now, once
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
