package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.*;

import io.github.mobilellm4j.bindings.mllm_scheduler_params;
import io.github.mobilellm4j.bindings.mllm_seq_params;
import io.github.mobilellm4j.bindings.mllm_seq_result;
import io.github.mobilellm4j.bindings.mllm_timings;
import io.github.mobilellm4j.bindings.mllm_token_callback;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The engine's generation loop ({@code mllm_scheduler}, mobilellm.h): sampling, end-of-generation and token
 * limits, streaming detokenization and continuous batching all run there, for {@link Session#generate} (one
 * sequence) and {@link Scheduler} (many) alike, so Java and C programs decode the same way. This class only
 * carries the calls over: each generated token comes back through {@link TokenListener}, on the thread running
 * {@link #step()}, while the engine is inside that step, so a listener must not call into the engine or run
 * user code; it decides only whether its sequence stops (a stop string).
 *
 * <p>One thread at a time, except {@link #cancel}. Freed by {@link #close()}; after the model was closed only
 * close() may be called (the engine's sequences forget freed sessions, and freeing reads no model memory).
 */
final class NativeScheduler implements AutoCloseable {
    /** Receives a sequence's generated tokens inside {@link #step()}. */
    interface TokenListener {
        /**
         * A token the sequence generated with the text it completed, or token -1 with the text still held at
         * the end. Returns true to stop the sequence after this token. Must not throw.
         */
        boolean onToken(int token, String text);
    }

    /** What ended a sequence, and its tokens. */
    record Result(int status, int stopReason, int[] tokens, double promptSeconds, double generateSeconds,
            String message) {
        boolean isRunning() {
            return stopReason == MLLM_STOP_NONE();
        }
    }

    /** Listeners by the key passed to the engine as user data; one upcall stub serves every scheduler. */
    private static final ConcurrentHashMap<Long, TokenListener> LISTENERS = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT_KEY = new AtomicLong(1);
    private static final MemorySegment CALLBACK =
            mllm_token_callback.allocate(NativeScheduler::dispatch, Arena.global());

    private final Model model;
    private final MemorySegment handle;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment params = mllm_seq_params.allocate(arena);
    private final MemorySegment result = mllm_seq_result.allocate(arena);
    private final MemorySegment activeOut = arena.allocate(ValueLayout.JAVA_INT);
    private final MemorySegment idOut = arena.allocate(ValueLayout.JAVA_INT);
    /** The listener keys of the sequences submitted here and not yet released, by sequence id. */
    private final java.util.HashMap<Integer, Long> keys = new java.util.HashMap<>();
    private MemorySegment promptBuf = arena.allocate(ValueLayout.JAVA_INT, 256);
    private MemorySegment tokenBuf = arena.allocate(ValueLayout.JAVA_INT, 256);
    private boolean closed;

    private NativeScheduler(Model model, MemorySegment handle) {
        this.model = model;
        this.handle = handle;
    }

    /** A scheduler advancing up to maxSequences sequences, each step evaluating up to stepTokens tokens. */
    static NativeScheduler create(Model model, int maxSequences, int stepTokens) {
        return model.withHandle(h -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment p = mllm_scheduler_params.allocate(a);
                mllm_scheduler_params_init(p);
                mllm_scheduler_params.max_seqs(p, maxSequences);
                mllm_scheduler_params.step_tokens(p, stepTokens);
                MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                Native.check(mllm_scheduler_create(h, p, out), "scheduler");
                return new NativeScheduler(model, out.get(ValueLayout.ADDRESS, 0));
            }
        });
    }

    /**
     * Queues a generation of prompt (appended to the session's sequence) and returns its id. The session must be
     * held by the calling thread (it is inside the session's call); the sampler stays in use until the sequence
     * ends.
     */
    int submit(Session session, int[] prompt, Sampler sampler, int maxTokens, boolean ignoreEos, TokenListener listener) {
        if (prompt.length > promptBuf.byteSize() / 4) promptBuf = arena.allocate(ValueLayout.JAVA_INT, prompt.length);
        MemorySegment.copy(prompt, 0, promptBuf, ValueLayout.JAVA_INT, 0, prompt.length);
        long key = NEXT_KEY.getAndIncrement();
        mllm_seq_params.session(params, session.handle());
        mllm_seq_params.sampler(params, sampler.handle());
        mllm_seq_params.prompt(params, promptBuf);
        mllm_seq_params.n_prompt(params, prompt.length);
        mllm_seq_params.max_tokens(params, maxTokens);
        mllm_seq_params.ignore_eos(params, ignoreEos ? 1 : 0);
        mllm_seq_params.callback(params, CALLBACK);
        mllm_seq_params.user_data(params, MemorySegment.ofAddress(key));
        LISTENERS.put(key, listener);
        int status = mllm_scheduler_submit(handle, params, idOut);
        if (status != MLLM_OK()) {
            LISTENERS.remove(key);
            throw Native.error(status, "generate");
        }
        int id = idOut.get(ValueLayout.JAVA_INT, 0);
        keys.put(id, key);
        return id;
    }

    /**
     * One forward pass over every running sequence (the caller holds the model open and the sequences'
     * sessions). Returns how many sequences are still running or waiting.
     */
    int step() {
        Native.check(mllm_scheduler_step(handle, activeOut), "scheduler step");
        return activeOut.get(ValueLayout.JAVA_INT, 0);
    }

    /** Ends a sequence at the next step (as cancelled). Any thread. */
    void cancel(int id) {
        mllm_scheduler_cancel(handle, id);
    }

    /** Whether a sequence is still running or waiting (no allocation: asked after every step). */
    boolean isRunning(int id) {
        Native.check(mllm_scheduler_result(handle, id, result, MemorySegment.NULL, 0), "scheduler result");
        return mllm_seq_result.stop_reason(result) == MLLM_STOP_NONE();
    }

    /** A sequence's state and tokens: {@link Result#isRunning()} until it has ended. */
    Result result(int id) {
        Native.check(mllm_scheduler_result(handle, id, result, MemorySegment.NULL, 0), "scheduler result");
        int n = mllm_seq_result.n_tokens(result);
        if (n > tokenBuf.byteSize() / 4) tokenBuf = arena.allocate(ValueLayout.JAVA_INT, n);
        Native.check(mllm_scheduler_result(handle, id, result, tokenBuf, n), "scheduler result");
        MemorySegment t = mllm_seq_result.timings(result);
        return new Result(mllm_seq_result.status(result), mllm_seq_result.stop_reason(result),
                tokenBuf.asSlice(0, 4L * n).toArray(ValueLayout.JAVA_INT), mllm_timings.prompt_seconds(t),
                mllm_timings.generate_seconds(t), mllm_seq_result.message(result).getString(0));
    }

    /** Forgets an ended sequence and its listener. */
    void release(int id) {
        Long key = keys.remove(id);
        if (key != null) LISTENERS.remove(key);
        Native.check(mllm_scheduler_release(handle, id), "scheduler release");
    }

    /** Ends whatever still runs (the engine lets go of the sessions) and frees the scheduler. Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (Long key : keys.values()) LISTENERS.remove(key);
        keys.clear();
        mllm_scheduler_free(handle);
        arena.close();
    }

    Model model() {
        return model;
    }

    /** The engine's token callback: finds the sequence's listener; a stop, and nothing thrown, on any failure. */
    private static int dispatch(int token, MemorySegment text, int length, MemorySegment userData) {
        try {
            TokenListener l = LISTENERS.get(userData.address());
            if (l == null) return 1;
            String piece = length <= 0 ? ""
                    : new String(text.reinterpret(length).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            return l.onToken(token, piece) ? 1 : 0;
        } catch (Throwable t) { // an exception must not unwind into the engine
            return 1;
        }
    }
}
