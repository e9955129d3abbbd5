package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.MLLM_LOGITS_LAST;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * One generation's decode loop, as a state machine that does not evaluate anything itself: {@link #nextInput()}
 * says which tokens to evaluate next (the prompt, then each generated token), {@link #evaluated} samples from the
 * logits that evaluation produced, and {@link #poll()} hands out the generated tokens. {@link #next()} drives it
 * with the session's own evals (generate() and stream()); {@link Scheduler} drives many of them with one batched
 * pass per step. It looks one token ahead (a token is handed out after it was evaluated and the next one
 * sampled), so the last token handed out already carries all remaining text. Closing the session or the model
 * between tokens ends it (CANCELLED); a passed {@link GenerateOptions#timeout()} ends it (TIMEOUT). With a draft
 * model ({@link GenerateOptions#draft()}) the single-session driver gets each next token from a
 * {@link SpeculativeDecoder} instead of evaluating token by token.
 */
final class Generator implements AutoCloseable {
    private final Session session;
    private final int[] prompt;
    private final GenerateOptions options;
    private final Sampler sampler;
    private final StreamingDetokenizer detok;
    /** Speculative decoding with the options' draft model; null without one. */
    private final SpeculativeDecoder speculative;
    private final int[] endOfGeneration;
    private final StringBuilder text = new StringBuilder();
    /** System.nanoTime() after which the generation ends (0: no timeout). */
    private final long deadline;
    /** The token evaluated next, passed without allocating per token. */
    private final int[] next = new int[1];
    /** The single-session step, made once so that the per-token path does not allocate lambdas. */
    private final Supplier<GeneratedToken> advance = this::advance;
    private final Supplier<Boolean> evalStep = this::evalStep;
    private int emitted;
    private int[] tokens = new int[16];
    private int count;
    private int candidate = -1;
    private boolean started;
    private boolean primed;
    private boolean done;
    private boolean closed;
    /** A token ready to hand out (at most one at a time). */
    private GeneratedToken ready;
    private StopReason stopReason;
    private long start;
    private long promptEnd;
    private long end;

    Generator(Session session, int[] prompt, GenerateOptions options) {
        session.checkTokens(prompt, "the prompt has no tokens");
        java.util.Objects.requireNonNull(options, "options");
        this.session = session;
        this.prompt = prompt.clone();
        this.options = options;
        Model model = session.model();
        this.endOfGeneration = model.tokenizer().endOfGeneration();
        this.sampler = new Sampler(options.sampler(), model.info().vocabulary().size());
        this.detok = new StreamingDetokenizer(model, false);
        long now = System.nanoTime();
        this.deadline = options.timeout() == null ? 0 : now + Math.max(1, options.timeout().toNanos());
        this.speculative = options.draft() == null ? null : speculativeDecoder();
    }

    /** The draft's decoder; on failure (e.g. a draft of another vocabulary) frees what this constructor made. */
    private SpeculativeDecoder speculativeDecoder() {
        try {
            return new SpeculativeDecoder(session, prompt, options, sampler, deadline);
        } catch (RuntimeException e) {
            sampler.close();
            detok.close();
            throw e;
        }
    }

    // ---- the state machine ------------------------------------------------------------------------

    /**
     * The tokens to evaluate next (with the last one's logits), or null when the generation has ended (a last
     * token may then wait in {@link #poll()}). Each array returned must be evaluated before the next call.
     */
    int[] nextInput() {
        if (done) return null;
        if (!started) {
            started = true;
            start = System.nanoTime();
            return prompt;
        }
        int token = candidate;
        if (count == tokens.length) tokens = Arrays.copyOf(tokens, count * 2);
        tokens[count++] = token;
        text.append(detok.push(token));
        int stopAt = findStop();
        if (stopAt >= 0) {
            text.setLength(stopAt);
            release(token, StopReason.STOP_STRING);
            return null;
        }
        if (count == options.maxTokens()) {
            release(token, StopReason.MAX_TOKENS);
            return null;
        }
        next[0] = token;
        return next;
    }

    /** With a draft: the token after the next input comes from the speculative decoder, which evaluates it. */
    private Boolean speculativeStep() {
        int[] in = nextInput();
        if (in == null) return Boolean.FALSE;
        int room = options.maxTokens() - 1 - count; // tokens that may follow in[0] and still be evaluated
        int following = speculative.next(in[0], room);
        candidate = following;
        release(in[0], isEos(following) ? StopReason.EOS : null);
        return Boolean.TRUE;
    }

    /** After the tokens of {@link #nextInput()} were evaluated: samples the next token from their logits row. */
    void evaluated(MemorySegment lastLogitsRow) {
        if (!primed) {
            primed = true;
            promptEnd = System.nanoTime();
            if (options.maxTokens() == 0) {
                finish(StopReason.MAX_TOKENS);
                return;
            }
            candidate = sampler.sample(lastLogitsRow);
            if (isEos(candidate)) finish(StopReason.EOS);
            return;
        }
        int token = next[0];
        candidate = sampler.sample(lastLogitsRow);
        release(token, isEos(candidate) ? StopReason.EOS : null);
    }

    /** The token ready to hand out, or null. */
    GeneratedToken poll() {
        GeneratedToken t = ready;
        ready = null;
        return t;
    }

    boolean isDone() {
        return done;
    }

    /** Whether the prompt has been evaluated (the generation is decoding). */
    boolean isPrimed() {
        return primed;
    }

    /** Ends the generation now (a closed session, a cancelled request) unless it has ended. */
    void stop(StopReason reason) {
        if (!done) finish(reason);
    }

    /** Ends the generation with TIMEOUT if its deadline has passed; true if it has ended. */
    boolean expire() {
        if (!done && deadline != 0 && System.nanoTime() - deadline > 0) finish(StopReason.TIMEOUT);
        return done;
    }

    long deadline() {
        return deadline;
    }

    Generation result() {
        if (!done) throw new IllegalStateException("generation has not finished");
        long promptStop = primed ? promptEnd : end;
        double promptSeconds = (promptStop - start) / 1e9;
        double genSeconds = (end - promptStop) / 1e9;
        int drafted = speculative == null ? 0 : speculative.drafted();
        int accepted = speculative == null ? 0 : speculative.accepted();
        return new Generation(text.toString(), prompt, Arrays.copyOf(tokens, count), stopReason,
                new Timings(prompt.length, count, promptSeconds, genSeconds, drafted, accepted));
    }

    // ---- the single-session driver ----------------------------------------------------------------

    /** The next generated token, or null when generation has ended. */
    GeneratedToken next() {
        return session.holding(advance);
    }

    private GeneratedToken advance() {
        while (true) {
            GeneratedToken t = poll();
            if (t != null) return t;
            if (done) return null;
            // closed between tokens, e.g. by a token callback or the stream's consumer
            if (session.isClosed()) {
                finish(StopReason.CANCELLED);
                return null;
            }
            if (expire()) return null;
            session.call(evalStep);
        }
    }

    /** Evaluates the next input in the session; a prompt stops within a layer's time when the deadline passes. */
    private Boolean evalStep() {
        if (speculative != null && primed) return speculativeStep();
        int[] in = nextInput();
        if (in == null) return Boolean.FALSE;
        boolean isPrompt = !primed;
        try {
            if (isPrompt) session.armDeadline(deadline);
            session.evaluate(in, MLLM_LOGITS_LAST());
        } catch (MobileLlmException e) {
            if (isPrompt && e.status() == MobileLlmException.Status.CANCELLED
                    && !Thread.currentThread().isInterrupted() && expire()) {
                return Boolean.FALSE; // the deadline stopped the prompt: the session is as before it
            }
            throw e;
        } finally {
            if (isPrompt) session.armDeadline(0);
        }
        evaluated(session.lastRow());
        return Boolean.TRUE;
    }

    /** Frees the sampler and detokenizer; refused (IllegalStateException) while another thread is inside. */
    @Override
    public void close() {
        session.holding(() -> {
            if (!closed) {
                closed = true;
                try {
                    if (speculative != null) speculative.close();
                } finally {
                    sampler.close();
                    detok.close();
                }
            }
            return null;
        });
    }

    // ---- text -------------------------------------------------------------------------------------

    /** Hands out token with the text it completed; a non-null reason ends the generation. */
    private void release(int token, StopReason reason) {
        String out;
        if (reason != null) {
            finish(reason);
            out = text.substring(Math.min(emitted, text.length()));
            emitted = text.length();
        } else {
            int safe = Math.max(emitted, text.length() - stopPrefixHeld());
            out = text.substring(emitted, safe);
            emitted = safe;
        }
        ready = new GeneratedToken(token, out, count - 1);
    }

    private void finish(StopReason reason) {
        stopReason = reason;
        done = true;
        end = System.nanoTime();
        if (speculative != null) speculative.settle(); // the session ends where it would without a draft
        if (reason != StopReason.STOP_STRING) text.append(detok.flush());
    }

    /** EOS, or an end-of-turn / end-of-message token (Tokenizer.endOfGeneration()). */
    private boolean isEos(int token) {
        if (options.ignoreEos()) return false;
        for (int t : endOfGeneration) {
            if (t == token) return true;
        }
        return false;
    }

    /** Earliest index where a stop string starts in the text, or -1. */
    private int findStop() {
        int best = -1;
        for (String s : options.stopStrings()) {
            int from = Math.max(0, emitted - s.length());
            int i = text.indexOf(s, from);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }

    /** Length of the longest text suffix that could still grow into a stop string: held back from streaming. */
    private int stopPrefixHeld() {
        int held = 0;
        for (String s : options.stopStrings()) {
            for (int k = Math.min(s.length() - 1, text.length()); k > held; k--) {
                if (text.substring(text.length() - k).equals(s.substring(0, k))) {
                    held = k;
                    break;
                }
            }
        }
        return held;
    }
}
