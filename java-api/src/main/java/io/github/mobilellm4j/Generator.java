package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.*;

import java.util.function.Supplier;

/**
 * One generation in one session, handed out token by token ({@link #next()}); {@link Session#generate} and
 * {@link Session#stream} drive it. The engine's own decode loop runs it ({@link NativeScheduler} with this one
 * sequence: the loop of {@code mllm_generate} and of {@link Scheduler}); with a draft model
 * ({@link GenerateOptions#draft()}) a {@link SpeculativeDecoder} supplies each next token instead. A token is
 * handed out once the next one was sampled, so the last one carries all remaining text. Closing the session or
 * the model between tokens ends it (CANCELLED); a passed {@link GenerateOptions#timeout()} ends it (TIMEOUT),
 * also within a long prompt.
 */
final class Generator implements AutoCloseable {
    private final Session session;
    private final int[] prompt;
    private final GenerateOptions options;
    private final Sampler sampler;
    private final GenerationText text;
    /** System.nanoTime() after which the generation ends (0: no timeout). */
    private final long deadline;
    /** The single-session step, made once so that the per-token path does not allocate lambdas. */
    private final Supplier<GeneratedToken> advance = this::advance;
    private final Supplier<Boolean> step;
    private boolean closed;
    private Timings timings;

    // ---- the engine's loop (no draft model) ---------------------------------------------------------
    private final NativeScheduler engine;
    /** The sequence's id in the engine (0: not submitted yet), and the session's position before it. */
    private int sequence;
    private int startPosition;

    // ---- speculative decoding (a draft model) -------------------------------------------------------
    private final SpeculativeDecoder speculative;
    private final StreamingDetokenizer detok;
    private final int[] endOfGeneration;
    /** The token sampled last, evaluated by the next step. */
    private int candidate = -1;
    private boolean primed;
    private long start;
    private long promptEnd;

    Generator(Session session, int[] prompt, GenerateOptions options) {
        session.checkTokens(prompt, "the prompt has no tokens");
        java.util.Objects.requireNonNull(options, "options");
        this.session = session;
        this.prompt = prompt.clone();
        this.options = options;
        Model model = session.model();
        this.endOfGeneration = model.tokenizer().endOfGeneration();
        this.text = new GenerationText(options.stopStrings());
        long now = System.nanoTime();
        this.deadline = options.timeout() == null ? 0 : now + Math.max(1, options.timeout().toNanos());
        Sampler s = new Sampler(options.sampler(), model.info().vocabulary().size());
        NativeScheduler e = null;
        StreamingDetokenizer d = null;
        SpeculativeDecoder sd = null;
        try {
            if (options.draft() == null) {
                e = NativeScheduler.create(model, 1, session.batchSize());
            } else {
                d = new StreamingDetokenizer(model, false);
                sd = new SpeculativeDecoder(session, this.prompt, options, s, deadline);
            }
        } catch (RuntimeException x) { // e.g. a draft of another vocabulary: free what was made
            if (d != null) d.close();
            if (e != null) e.close();
            s.close();
            throw x;
        }
        this.sampler = s;
        this.engine = e;
        this.detok = d;
        this.speculative = sd;
        this.step = engine != null ? this::engineStep : this::speculativeStep;
    }

    /** The next generated token, or null when generation has ended. */
    GeneratedToken next() {
        return session.holding(advance);
    }

    private GeneratedToken advance() {
        while (true) {
            GeneratedToken t = text.poll();
            if (t != null) return t;
            if (text.isEnded()) return null;
            if (engine != null) {
                // closed between tokens, e.g. by a token callback or the stream's consumer
                if (session.isClosed()) {
                    endEngine(StopReason.CANCELLED);
                    continue;
                }
                if (sequence != 0 && pastDeadline()) engine.cancel(sequence); // the step ends it (TIMEOUT)
                session.engineStep(this, step);
            } else {
                if (session.isClosed()) finish(StopReason.CANCELLED);
                else if (pastDeadline()) finish(StopReason.TIMEOUT);
                else session.call(step);
            }
        }
    }

    Generation result() {
        if (!text.isEnded()) throw new IllegalStateException("generation has not finished");
        return text.generation(prompt, timings);
    }

    /** Frees the sequence, sampler and detokenizer; refused (IllegalStateException) while another thread is inside. */
    @Override
    public void close() {
        session.holding(() -> {
            release();
            return null;
        });
    }

    /**
     * Ends the generation where it is (the sequence's last sampled token, never evaluated, is not kept) and frees
     * it; {@link Session} calls this when a stream was left unfinished and the session is used for something else.
     */
    void abandon() {
        if (!text.isEnded()) endEngine(StopReason.CANCELLED);
        release();
    }

    private void release() {
        if (closed) return;
        closed = true;
        session.engineReleased(this);
        try {
            if (speculative != null) speculative.close();
            if (engine != null) engine.close();
        } finally {
            sampler.close();
            if (detok != null) detok.close();
        }
    }

    private boolean pastDeadline() {
        return deadline != 0 && System.nanoTime() - deadline > 0;
    }

    /** Ends an engine-loop generation from the Java side. */
    private void endEngine(StopReason reason) {
        text.end(reason);
        NativeScheduler.Result r = sequence != 0 && !closed ? engine.result(sequence) : null;
        timings = new Timings(prompt.length, text.count(), r == null ? 0 : r.promptSeconds(),
                r == null ? 0 : r.generateSeconds());
    }

    // ---- the engine's loop --------------------------------------------------------------------------

    /**
     * One step of the engine's loop, inside the session's call (the first one submits the sequence). The session's
     * abort check stops a step within a layer's time at the deadline, the session's call timeout, an interrupt or
     * {@link Session#cancel()}.
     */
    private Boolean engineStep() {
        if (sequence == 0) {
            startPosition = session.position();
            sequence = engine.submit(session, prompt, sampler, options.maxTokens(), options.ignoreEos(), text);
        }
        long callDeadline = session.armGenerationStep(deadline, true);
        try {
            engine.step();
        } finally {
            session.disarmGenerationStep();
        }
        if (!engine.isRunning(sequence)) ended(engine.result(sequence), callDeadline);
        return Boolean.TRUE;
    }

    /** The engine ended the sequence: its stop reason, or what stopped it. */
    private void ended(NativeScheduler.Result r, long callDeadline) {
        session.engineReleased(this); // the engine let go of the session
        timings = new Timings(prompt.length, r.tokens().length, r.promptSeconds(), r.generateSeconds());
        StopReason reason = naturalEnd(r); // the engine's tokens are the ones the text keeps, either way
        if (reason != null) {
            text.end(reason);
            return;
        }
        if (session.isClosed()) {
            text.end(StopReason.CANCELLED);
            return;
        }
        session.rewindPartialPrompt(startPosition, prompt.length);
        boolean interrupted = Thread.currentThread().isInterrupted();
        if (r.stopReason() == MLLM_STOP_CANCELLED() && !interrupted && pastDeadline()) {
            text.end(StopReason.TIMEOUT);
            return;
        }
        text.end(StopReason.CANCELLED);
        throw session.generationStopped(r, callDeadline);
    }

    /** EOS, the token limit or a stop string; null when the sequence was cancelled or failed. */
    static StopReason naturalEnd(NativeScheduler.Result r) {
        int s = r.stopReason();
        if (s == MLLM_STOP_EOS()) return StopReason.EOS;
        if (s == MLLM_STOP_MAX_TOKENS()) return StopReason.MAX_TOKENS;
        if (s == MLLM_STOP_CALLBACK()) return StopReason.STOP_STRING; // the only reason the Java side stops one
        return null;
    }

    // ---- speculative decoding -----------------------------------------------------------------------

    /**
     * Evaluates the prompt and samples the first token, then on each call evaluates the last token through the
     * speculative decoder, which gives the one after it (inside the session's call). As in the engine's loop, the
     * token handed out last has been evaluated and the one after it sampled.
     */
    private Boolean speculativeStep() {
        if (!primed) {
            start = System.nanoTime();
            session.armDeadline(deadline);
            try {
                session.evaluate(prompt, MLLM_LOGITS_LAST());
            } catch (MobileLlmException e) {
                if (e.status() == MobileLlmException.Status.CANCELLED && !Thread.currentThread().isInterrupted()
                        && pastDeadline()) {
                    finish(StopReason.TIMEOUT); // the deadline stopped the prompt: the session is as before it
                    return Boolean.FALSE;
                }
                throw e;
            } finally {
                session.armDeadline(0);
            }
            primed = true;
            promptEnd = System.nanoTime();
            if (options.maxTokens() == 0) {
                finish(StopReason.MAX_TOKENS);
                return Boolean.FALSE;
            }
            return sampled(sampler.sample(session.lastRow()));
        }
        int room = options.maxTokens() - 1 - text.count(); // tokens that may follow this one and still be evaluated
        return sampled(speculative.next(candidate, room));
    }

    /** A token was sampled: it ends the generation (EOS), or becomes the next token (maybe the last). */
    private Boolean sampled(int token) {
        if (isEos(token)) {
            finish(StopReason.EOS);
            return Boolean.FALSE;
        }
        candidate = token;
        if (text.onToken(token, detok.push(token))) finish(StopReason.STOP_STRING);
        else if (text.count() == options.maxTokens()) finish(StopReason.MAX_TOKENS);
        return Boolean.TRUE;
    }

    private void finish(StopReason reason) {
        long end = System.nanoTime();
        long promptStop = primed ? promptEnd : end;
        speculative.settle(); // the session ends where it would without a draft
        // what the detokenizer holds (an unfinished character) ends the text of a generation that ended by itself
        if (reason == StopReason.EOS || reason == StopReason.MAX_TOKENS) text.onToken(-1, detok.flush());
        text.end(reason);
        timings = new Timings(prompt.length, text.count(), (promptStop - start) / 1e9, (end - promptStop) / 1e9,
                speculative.drafted(), speculative.accepted());
    }

    /** EOS, or an end-of-turn / end-of-message token (Tokenizer.endOfGeneration()). */
    private boolean isEos(int token) {
        if (options.ignoreEos()) return false;
        for (int t : endOfGeneration) {
            if (t == token) return true;
        }
        return false;
    }
}
