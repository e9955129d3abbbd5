package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.MLLM_STOP_CANCELLED;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Continuous batching: generates for many sessions of one model together, one forward pass per step, in the
 * engine's own decode loop ({@code mllm_scheduler}, the loop {@link Session#generate} runs too). Each step
 * carries the next token of every sequence that is decoding and then chunks of the prompts still being read
 * (oldest first, up to {@code stepTokens} tokens in all), so new requests join while others decode and a long
 * prompt never stalls them for more than one step. Decoding is memory-bound: a step over N sequences costs little
 * more than a step over one, so N users are served at close to N times the single-sequence rate.
 *
 * <pre>{@code
 * try (Scheduler scheduler = Scheduler.create(model)) {
 *     List<CompletableFuture<Generation>> answers = new ArrayList<>();
 *     for (String question : questions) {
 *         Session session = model.newSession();
 *         answers.add(scheduler.submit(session, question, options)
 *                 .whenComplete((g, e) -> session.close()));
 *     }
 *     answers.forEach(f -> System.out.println(f.join().text()));
 * }
 * }</pre>
 *
 * <p>Each sequence behaves exactly as {@link Session#generate(int[], GenerateOptions, java.util.function.Consumer)}
 * on its session (with greedy sampling, the same tokens), with its own sampler, stop strings, token limit and
 * {@link GenerateOptions#timeout() timeout}. A submitted session belongs to the scheduler until its future
 * completes: calls on it from other threads are refused meanwhile. Token callbacks run on the scheduler's thread,
 * between steps; a callback may close its session, which ends that sequence with {@link StopReason#CANCELLED}.
 * Cancelling a future ends its sequence at the next step (the session keeps the tokens evaluated so far);
 * {@link Session#cancel()} ends it with {@link StopReason#CANCELLED}.
 * Requests beyond {@code maxSequences} wait, in submission order, for a place. The scheduler's thread sleeps
 * while there is nothing to do.
 */
public final class Scheduler implements AutoCloseable {
    /** Sequences advanced together by default. */
    public static final int DEFAULT_MAX_SEQUENCES = 16;
    /** Tokens per step by default. */
    public static final int DEFAULT_STEP_TOKENS = 256;

    private static final AtomicInteger THREAD_NUMBER = new AtomicInteger();

    private final Model model;
    private final int maxSequences;
    private final int stepTokens;
    private final Thread driver;
    /** Completed once the driver has made its batch (or failed to). */
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    private final ArrayDeque<Request> waiting = new ArrayDeque<>(); // guarded by this
    private boolean closing; // guarded by this
    /** The driver's own state: the sequences in the engine, and a copy to iterate while sequences end. */
    private final List<Request> running = new ArrayList<>();
    private final List<Request> snapshot = new ArrayList<>();
    /** The open sessions of the current step. */
    private final List<Session> stepSessions = new ArrayList<>();
    private NativeScheduler engine;
    /** One step with the model held open (made once: a step allocates nothing per sequence). */
    private final Model.HandleFunction<Integer> stepAll = h -> holdingAll(0);
    private boolean engineClosed;

    private Scheduler(Model model, int maxSequences, int stepTokens) {
        this.model = model;
        this.maxSequences = maxSequences;
        this.stepTokens = stepTokens;
        this.driver = new Thread(this::drive, "mobilellm-scheduler-" + THREAD_NUMBER.incrementAndGet());
        driver.setDaemon(true);
    }

    /** A scheduler of {@value #DEFAULT_MAX_SEQUENCES} sequences and {@value #DEFAULT_STEP_TOKENS} tokens per step. */
    public static Scheduler create(Model model) {
        return create(model, DEFAULT_MAX_SEQUENCES, DEFAULT_STEP_TOKENS);
    }

    /**
     * A scheduler advancing up to {@code maxSequences} sequences (1..256) of {@code model} together, each step
     * evaluating up to {@code stepTokens} tokens (at least maxSequences, at most 65536; larger steps read prompts
     * faster, smaller ones keep decoding sequences waiting less while a prompt is read).
     */
    public static Scheduler create(Model model, int maxSequences, int stepTokens) {
        Objects.requireNonNull(model, "model");
        if (maxSequences < 1 || maxSequences > 256) {
            throw new IllegalArgumentException("maxSequences must be in 1..256, got " + maxSequences);
        }
        if (stepTokens < maxSequences || stepTokens > 65536) {
            throw new IllegalArgumentException(
                    "stepTokens must be in " + maxSequences + "..65536 (at least maxSequences), got " + stepTokens);
        }
        model.ensureOpen();
        Scheduler s = new Scheduler(model, maxSequences, stepTokens);
        s.driver.start();
        try {
            s.started.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw e;
        }
        return s;
    }

    public int maxSequences() {
        return maxSequences;
    }

    public int stepTokens() {
        return stepTokens;
    }

    /**
     * Queues a generation of a text prompt (encoded as {@link Session#generate(String, GenerateOptions)} does).
     */
    public CompletableFuture<Generation> submit(Session session, String prompt, GenerateOptions options) {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(options, "options");
        return submit(session, session.encodePrompt(prompt, options), options, null);
    }

    /**
     * Queues a generation from prompt tokens appended to the session's sequence; onToken (may be null) receives
     * each generated token on the scheduler's thread. The future completes with the generation, or fails with what
     * ended it ({@link MobileLlmException}, for example CONTEXT_FULL; an exception thrown by onToken; a
     * {@link CancellationException} when the scheduler is closed first).
     *
     * @throws IllegalArgumentException when the session belongs to another model or the prompt is empty or
     *     holds a token outside the vocabulary
     * @throws IllegalStateException when the scheduler is closed
     */
    public CompletableFuture<Generation> submit(Session session, int[] promptTokens, GenerateOptions options,
            Consumer<GeneratedToken> onToken) {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(options, "options");
        if (session.model() != model) throw new IllegalArgumentException("the session belongs to another model");
        if (options.draft() != null) {
            throw new IllegalArgumentException("a Scheduler does not run speculative decoding (GenerateOptions.draft); "
                    + "generate with a draft through Session.generate, stream or generateAsync");
        }
        session.checkTokens(promptTokens, "the prompt has no tokens");
        session.ensureOpen();
        Request r = new Request(session, promptTokens.clone(), options, onToken);
        synchronized (this) {
            if (closing) throw new IllegalStateException("scheduler is closed");
            waiting.add(r);
            notifyAll();
        }
        return r;
    }

    /**
     * Generates as {@link Session#generate(int[], GenerateOptions, Consumer)} does, blocking, with onToken (may be
     * null) called on the calling thread, but stepping together with the scheduler's other sequences. An exception
     * thrown by onToken ends the sequence and comes out of this call; an interrupt of the calling thread ends it
     * with {@link MobileLlmException} (status CANCELLED), the interrupt status kept. Either way the session is
     * handed back, holding the tokens evaluated so far, before this method returns.
     */
    public Generation generate(Session session, int[] promptTokens, GenerateOptions options,
            Consumer<GeneratedToken> onToken) {
        java.util.concurrent.LinkedBlockingQueue<Object> handoff = new java.util.concurrent.LinkedBlockingQueue<>();
        Object end = new Object();
        Request r = (Request) submit(session, promptTokens, options, onToken == null ? null : handoff::add);
        r.whenComplete((g, e) -> handoff.add(end));
        try {
            for (Object item = handoff.take(); item != end; item = handoff.take()) {
                onToken.accept((GeneratedToken) item);
            }
        } catch (InterruptedException e) {
            r.cancel(true);
            r.awaitRelease();
            Thread.currentThread().interrupt();
            throw new MobileLlmException(MobileLlmException.Status.CANCELLED, "generation interrupted");
        } catch (RuntimeException | Error e) {
            r.cancel(true);
            r.awaitRelease();
            throw e;
        }
        r.awaitRelease();
        try {
            return r.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException x) throw x;
            if (e.getCause() instanceof Error x) throw x;
            throw e;
        }
    }

    /**
     * Ends every sequence, running or waiting (their futures fail with {@link CancellationException}), and stops
     * the scheduler's thread. Idempotent. The sessions stay open and usable, holding the tokens evaluated so far.
     */
    @Override
    public void close() {
        synchronized (this) {
            closing = true;
            notifyAll();
        }
        if (Thread.currentThread() != driver) {
            boolean interrupted = false;
            while (driver.isAlive()) {
                try {
                    driver.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    // ---- the scheduler's thread -------------------------------------------------------------------

    private void drive() {
        try {
            engine = NativeScheduler.create(model, maxSequences, stepTokens);
        } catch (Throwable e) {
            started.completeExceptionally(e); // create() rethrows it: never leave it waiting
            return;
        }
        started.complete(null);
        try {
            while (admit()) {
                step();
            }
        } finally {
            List<Request> left = new ArrayList<>(running);
            List<Request> queued;
            synchronized (this) {
                closing = true;
                queued = new ArrayList<>(waiting);
                waiting.clear();
            }
            engine.close(); // ends every sequence still in the engine, which lets go of their sessions
            engineClosed = true;
            CancellationException closed = new CancellationException("the scheduler was closed");
            for (Request r : left) {
                r.failure = closed;
                end(r, true);
            }
            for (Request r : queued) {
                r.failure = closed;
                end(r, false); // never started: it only fails
            }
            running.clear();
        }
    }

    /** Waits for work, then moves waiting requests into free places; false once the scheduler is closing. */
    private boolean admit() {
        List<Request> admitted = new ArrayList<>();
        synchronized (this) {
            while (!closing && running.isEmpty() && waiting.isEmpty()) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    closing = true; // only close() stops this thread; an interrupt from elsewhere is treated alike
                }
            }
            if (closing) return false;
            while (running.size() + admitted.size() < maxSequences && !waiting.isEmpty()) admitted.add(waiting.poll());
        }
        for (Request r : admitted) {
            if (r.isDone()) { // cancelled while waiting
                r.released.countDown();
                continue;
            }
            try {
                r.session.acquire();
            } catch (RuntimeException e) {
                r.completeExceptionally(e);
                r.released.countDown();
                continue;
            }
            try {
                r.session.ensureOpen();
                r.startPosition = r.session.position();
                r.sampler = new Sampler(r.options.sampler(), model.info().vocabulary().size());
                r.id = r.session.call(r.submit);
                java.time.Duration timeout = r.options.timeout();
                if (timeout != null) r.deadline = System.nanoTime() + Math.max(1, timeout.toNanos());
            } catch (RuntimeException e) {
                if (r.sampler != null) r.sampler.close();
                r.session.release();
                r.completeExceptionally(e);
                r.released.countDown();
                continue;
            }
            running.add(r);
        }
        return true;
    }

    /**
     * Asks the engine to end what should stop (a cancelled future, a closed session, a passed deadline, a failed
     * callback), runs one step of the engine's loop, then hands out the tokens and completes what has ended.
     */
    private void step() {
        snapshot.clear();
        snapshot.addAll(running);
        for (Request r : snapshot) {
            if (r.session.isClosed()) {
                r.closedSession = true;
            } else if (!r.timedOut && r.deadline != 0 && System.nanoTime() - r.deadline > 0) {
                r.timedOut = true;
            }
            if (r.isDone() || r.failure != null || r.closedSession || r.timedOut) engine.cancel(r.id);
        }
        if (model.isClosed()) { // closed by a callback: every session went with it, and the engine cannot step
            for (Request r : snapshot) {
                r.closedSession = true;
                end(r, true);
            }
            return;
        }
        try {
            model.withHandle(stepAll);
        } catch (RuntimeException e) { // the model was closed meanwhile
            for (Request r : snapshot) {
                if (r.failure == null) r.failure = e;
                end(r, true);
            }
            return;
        }
        for (Request r : snapshot) {
            deliver(r);
            if (!engine.isRunning(r.id)) {
                r.result = engine.result(r.id);
                end(r, true);
            }
        }
    }

    /** The engine's step, with every open session of the running sequences held and their deadlines armed. */
    private Integer engineStep() {
        try {
            return engine.step();
        } finally {
            for (Session s : stepSessions) s.disarmGenerationStep();
        }
    }

    /**
     * Holds the open sessions of the running sequences from the i-th on (each for this thread, none used
     * elsewhere, its deadline armed), then steps: each request's {@link Request#holdRest} goes on with the next.
     */
    private Integer holdingAll(int i) {
        if (i == 0) stepSessions.clear();
        while (i < snapshot.size() && snapshot.get(i).session.isClosed()) i++;
        if (i == snapshot.size()) return engineStep();
        Request r = snapshot.get(i);
        r.stepIndex = i;
        return r.session.call(r.holdRest);
    }

    /** Hands out the sequence's ready tokens; a callback that throws ends the sequence with what it threw. */
    private void deliver(Request r) {
        for (GeneratedToken t = r.text.poll(); t != null; t = r.text.poll()) {
            if (r.onToken == null || r.isDone() || r.failure != null) continue;
            try {
                r.onToken.accept(t);
            } catch (RuntimeException | Error e) {
                r.failure = e;
                engine.cancel(r.id);
            }
        }
    }

    /**
     * Removes a request whose sequence has ended (inEngine: it was submitted there), hands its session back, and
     * then completes it: with its generation, or what ended it. A prompt ended part-way is taken back out of the
     * session, as a stopped {@link Session#eval} leaves it.
     */
    private void end(Request r, boolean inEngine) {
        running.remove(r);
        Throwable failure = r.failure;
        Generation generation = null;
        if (inEngine) {
            try {
                NativeScheduler.Result res = r.result;
                if (res != null && !engineClosed && !model.isClosed()) engine.release(r.id);
                r.session.rewindPartialPrompt(r.startPosition, r.prompt.length);
                if (failure == null) {
                    generation = outcome(r, res);
                    if (r.failure != null) { // the last token's callback threw
                        failure = r.failure;
                        generation = null;
                    }
                }
            } catch (RuntimeException e) {
                if (failure == null) failure = e;
            } finally {
                try {
                    r.sampler.close();
                } finally {
                    r.session.release();
                }
            }
        }
        if (generation != null) r.complete(generation);
        else if (failure != null) r.completeExceptionally(failure);
        r.released.countDown();
    }

    /** The request's generation, after handing out its last token; throws what the engine reported instead. */
    private Generation outcome(Request r, NativeScheduler.Result res) {
        StopReason reason = res == null ? null : Generator.naturalEnd(res);
        if (reason == null) {
            if (r.closedSession || r.session.isClosed() || r.isDone()) reason = StopReason.CANCELLED;
            else if (res.stopReason() == MLLM_STOP_CANCELLED()
                    && (r.timedOut || r.deadline != 0 && System.nanoTime() - r.deadline > 0)) reason = StopReason.TIMEOUT;
            else if (res.stopReason() == MLLM_STOP_CANCELLED()) reason = StopReason.CANCELLED; // Session.cancel()
            else throw Native.error(res.status(), "generate", res.message());
        }
        r.text.end(reason);
        deliver(r);
        Timings t = res == null ? new Timings(r.prompt.length, r.text.count(), 0, 0)
                : new Timings(r.prompt.length, r.text.count(), res.promptSeconds(), res.generateSeconds());
        return r.text.generation(r.prompt, t);
    }

    /** One submitted generation: its future, and the driver's view of it. */
    private final class Request extends CompletableFuture<Generation> {
        final Session session;
        final int[] prompt;
        final GenerateOptions options;
        final Consumer<GeneratedToken> onToken;
        final GenerationText text;
        /** System.nanoTime() after which the sequence ends with TIMEOUT (0: never); its timeout counts from admission. */
        long deadline;
        Sampler sampler;
        /** The sequence's id in the engine. */
        int id;
        /** The session's position when the sequence started. */
        int startPosition;
        /** Why the driver asked the engine to end it, and what ended it. */
        boolean timedOut;
        boolean closedSession;
        Throwable failure;
        NativeScheduler.Result result;
        /** Counted down once the scheduler is done with the session (or never took it). */
        final java.util.concurrent.CountDownLatch released = new java.util.concurrent.CountDownLatch(1);
        /** Queues the sequence in the engine (inside the session's call). */
        final Supplier<Integer> submit = this::submit;
        /** Its place in the current step's snapshot, and the step's rest once its session is held: made once. */
        int stepIndex;
        final Supplier<Integer> holdRest = this::holdRest;

        Request(Session session, int[] prompt, GenerateOptions options, Consumer<GeneratedToken> onToken) {
            this.session = session;
            this.prompt = prompt;
            this.options = options;
            this.onToken = onToken;
            this.text = new GenerationText(options.stopStrings());
        }

        private Integer submit() {
            return engine.submit(session, prompt, sampler, options.maxTokens(), options.ignoreEos(), text);
        }

        private Integer holdRest() {
            session.armGenerationStep(deadline, false);
            stepSessions.add(session);
            return holdingAll(stepIndex + 1);
        }

        void awaitRelease() {
            boolean interrupted = false;
            while (true) {
                try {
                    released.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            if (cancelled) {
                synchronized (Scheduler.this) {
                    Scheduler.this.notifyAll();
                }
            }
            return cancelled;
        }
    }
}
