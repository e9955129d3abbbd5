package io.github.mobilellm4j;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Continuous batching: generates for many sessions of one model together, one forward pass per step. Each step
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
 * Cancelling a future ends its sequence at the next step (the session keeps the tokens evaluated so far).
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
    /** The driver's own state: the sequences running and those taking part in the current step. */
    private final List<Request> running = new ArrayList<>();
    private final List<Request> stepping = new ArrayList<>();
    /** A copy of running to iterate while sequences end. */
    private final List<Request> snapshot = new ArrayList<>();

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
        Batch batch;
        try {
            batch = Batch.create(model, stepTokens + maxSequences, maxSequences);
        } catch (Throwable e) {
            started.completeExceptionally(e); // create() rethrows it: never leave it waiting
            return;
        }
        started.complete(null);
        try (batch) {
            while (admit()) {
                step(batch);
            }
        } finally {
            List<Request> left = new ArrayList<>(running);
            synchronized (this) {
                closing = true;
                left.addAll(waiting);
                waiting.clear();
            }
            CancellationException closed = new CancellationException("the scheduler was closed");
            for (Request r : left) end(r, closed); // never started ones have no generator: end() only fails them
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
                r.generator = new Generator(r.session, r.prompt, r.options);
            } catch (RuntimeException e) {
                r.session.release();
                r.completeExceptionally(e);
                r.released.countDown();
                continue;
            }
            running.add(r);
        }
        return true;
    }

    /** One forward pass: every decoding sequence's next token, then prompt chunks, oldest first. */
    private void step(Batch batch) {
        stepping.clear();
        int budget = stepTokens;
        snapshot.clear();
        snapshot.addAll(running);
        for (Request r : snapshot) {
            Generator g = r.generator;
            if (r.isCancelled() || r.session.isClosed()) g.stop(StopReason.CANCELLED);
            else g.expire();
            if (g.isDone() || !g.isPrimed()) continue;
            r.input = g.nextInput();
            if (r.input == null) continue; // ended by a stop string or the token limit: no evaluation needed
            if (add(batch, r, r.input, true)) budget--;
        }
        for (Request r : snapshot) {
            if (budget <= 0) break;
            Generator g = r.generator;
            if (g.isDone() || g.isPrimed() || r.isDone()) continue;
            if (r.input == null) r.input = g.nextInput(); // the prompt
            int n = Math.min(Math.min(budget, r.input.length - r.fed), r.session.batchSize());
            boolean last = r.fed + n == r.input.length;
            int[] chunk = r.fed == 0 && last ? r.input : Arrays.copyOfRange(r.input, r.fed, r.fed + n);
            if (add(batch, r, chunk, last)) {
                r.chunk = n;
                budget -= n;
            }
        }
        if (!stepping.isEmpty()) {
            try {
                batch.decode();
            } catch (RuntimeException e) {
                for (Request r : stepping) end(r, e); // the pass failed as a whole: every session is as before it
                stepping.clear();
            }
        }
        for (Request r : stepping) {
            if (r.chunk > 0) { // a prompt chunk
                r.fed += r.chunk;
                r.chunk = 0;
                if (r.fed < r.input.length) continue;
                r.input = null;
            }
            try {
                r.session.call(r.sampleRow);
            } catch (RuntimeException e) {
                end(r, e);
            }
        }
        snapshot.clear();
        snapshot.addAll(running);
        for (Request r : snapshot) deliver(r);
    }

    /** Adds a sequence's tokens to the step; a refusal (e.g. its context is full) ends that sequence only. */
    private boolean add(Batch batch, Request r, int[] tokens, boolean logits) {
        try {
            batch.add(r.session, tokens, logits);
            stepping.add(r);
            return true;
        } catch (RuntimeException e) {
            end(r, e);
            return false;
        }
    }

    /** Hands out the sequence's ready token, and completes the request once its generation has ended. */
    private void deliver(Request r) {
        if (!running.contains(r)) return;
        GeneratedToken t = r.generator.poll();
        if (t != null && r.onToken != null && !r.isDone()) {
            try {
                r.onToken.accept(t);
            } catch (RuntimeException | Error e) {
                end(r, e);
                return;
            }
        }
        if (r.generator.isDone()) end(r, null);
    }

    /**
     * Removes a request: completes it with its generation (failure == null) or fails it, and frees its place. A
     * prompt ended part-way is taken back out of the session, as a stopped {@link Session#eval} leaves it.
     */
    private void end(Request r, Throwable failure) {
        running.remove(r);
        if (r.generator != null) {
            try {
                if (r.fed > 0 && !r.generator.isPrimed() && !r.session.isClosed()) r.session.truncate(r.startPosition);
            } catch (RuntimeException e) {
                if (failure == null) failure = e;
            } finally {
                r.generator.stop(StopReason.CANCELLED);
                try {
                    r.generator.close();
                } finally {
                    r.session.release();
                }
            }
        }
        if (failure != null) r.completeExceptionally(failure);
        else r.complete(r.generator.result());
        r.released.countDown();
    }

    /** One submitted generation: its future, and the driver's progress through it. */
    private final class Request extends CompletableFuture<Generation> {
        final Session session;
        final int[] prompt;
        final GenerateOptions options;
        final Consumer<GeneratedToken> onToken;
        Generator generator;
        /** Tokens to evaluate for the generator (the prompt while it is read in chunks, then each token). */
        int[] input;
        /** Prompt tokens evaluated so far, and those in the current step. */
        int fed;
        int chunk;
        /** The session's position when the sequence started. */
        int startPosition;
        /** Counted down once the scheduler is done with the session (or never took it). */
        final java.util.concurrent.CountDownLatch released = new java.util.concurrent.CountDownLatch(1);
        /** Hands the step's logits row to the generator; made once so that a step allocates nothing per sequence. */
        final Supplier<Void> sampleRow = this::sampleRow;

        Request(Session session, int[] prompt, GenerateOptions options, Consumer<GeneratedToken> onToken) {
            this.session = session;
            this.prompt = prompt;
            this.options = options;
            this.onToken = onToken;
        }

        private Void sampleRow() {
            generator.evaluated(session.lastRow());
            return null;
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
