package io.github.mobilellm4j.service;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.GeneratedToken;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Pooling;
import io.github.mobilellm4j.Scheduler;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.SessionOptions;
import io.github.mobilellm4j.chat.ChatMessage;
import io.github.mobilellm4j.chat.ChatReply;
import io.github.mobilellm4j.chat.ChatSession;
import io.github.mobilellm4j.chat.ChatTemplate;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A {@link GenerationService} that serves each request in a session of its own, from a pool of at most
 * {@link Builder#maxSessions maxSessions} sessions made as needed and reused: as many requests run at once, the rest
 * wait in arrival order for up to {@link Builder#acquireTimeout acquireTimeout}, then are refused. A session keeps
 * its KV cache between requests, so a chat that continues a conversation the session last served evaluates only the
 * new messages. With {@link Builder#batched batched(true)} the generations running at once share one forward pass per
 * token (a {@link Scheduler}, continuous batching): N users cost far less than N times one. A request's
 * {@link GenerateOptions#timeout() timeout} counts from the call: its wait for a session is part of it (a request
 * still waiting when it passes is refused, as one past acquireTimeout is), and the generation gets the time left.
 * Thread-safe.
 */
public final class SessionPool implements GenerationService {
    /** A pooled session; chat (over the same session) is null when there is no chat template. */
    private record Slot(Session session, ChatSession chat) {
    }

    private final Model model;
    private final SessionOptions sessionOptions;
    private final Optional<ChatTemplate> template;
    private final Duration acquireTimeout;
    private final int maxSessions;
    private final Semaphore permits;
    private final Deque<Slot> idle = new ArrayDeque<>();
    /** Steps the pool's generations together; null when the pool is not batched. */
    private final Scheduler scheduler;
    private boolean closed;

    private SessionPool(Builder b) {
        this.model = b.model;
        this.maxSessions = b.maxSessions;
        this.sessionOptions = b.sessionOptions;
        this.acquireTimeout = b.acquireTimeout;
        this.template = b.template != null ? Optional.of(b.template) : ChatTemplate.find(model);
        this.permits = new Semaphore(maxSessions, true);
        this.scheduler = b.batched ? Scheduler.create(model, maxSessions, Math.max(maxSessions, Scheduler.DEFAULT_STEP_TOKENS)) : null;
    }

    /** One session at a time, sessions as {@link Model#newSession()} makes them, the model's chat template. */
    public static SessionPool of(Model model) {
        return builder(model).build();
    }

    public static Builder builder(Model model) {
        return new Builder(model);
    }

    @Override
    public Model model() {
        return model;
    }

    @Override
    public Optional<ChatTemplate> chatTemplate() {
        return template;
    }

    public int maxSessions() {
        return maxSessions;
    }

    @Override
    public Generation complete(String prompt, GenerateOptions options, Consumer<GeneratedToken> onToken) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(options, "options");
        return generating(options, (slot, left) -> {
            // a new sequence: nothing of the last request stays in the cache
            if (slot.chat() != null) slot.chat().reset(); else slot.session().reset();
            int[] ids = model.tokenizer().encode(prompt, options.addBos(), options.parseSpecial());
            return scheduler == null ? slot.session().generate(ids, left, onToken)
                    : scheduler.generate(slot.session(), ids, left, onToken);
        });
    }

    @Override
    public ChatReply chat(List<ChatMessage> messages, GenerateOptions options, Consumer<ChatSession.Chunk> onChunk) {
        Objects.requireNonNull(messages, "messages");
        Objects.requireNonNull(options, "options");
        if (template.isEmpty()) {
            throw new IllegalStateException("the model " + model.path().getFileName()
                    + " has no chat template (metadata key tokenizer.chat_template): give one to the service, or complete text");
        }
        return generating(options, (slot, left) -> slot.chat().reply(messages, left, onChunk));
    }

    @Override
    public float[] embed(String text, Pooling pooling, boolean normalize) {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(pooling, "pooling");
        int[] ids = model.tokenizer().encode(text);
        return withSlot(acquireTimeout, slot -> slot.session().embed(ids, pooling, normalize));
    }

    /**
     * Embeds the texts in batched passes ({@link Model#embedAll}) as one request: it takes one place of the pool
     * while it runs, like any other request, and its passes use sessions of their own.
     */
    @Override
    public List<float[]> embedAll(List<String> texts, Pooling pooling, boolean normalize) {
        Objects.requireNonNull(texts, "texts");
        Objects.requireNonNull(pooling, "pooling");
        if (texts.isEmpty()) return List.of();
        return withSlot(acquireTimeout, slot -> model.embedAll(texts, pooling, normalize));
    }

    /** Closes the idle sessions now and the busy ones as their requests end; later requests throw. */
    @Override
    public void close() {
        synchronized (idle) {
            closed = true;
            for (Slot s : idle) s.session().close();
            idle.clear();
        }
        if (scheduler != null) scheduler.close(); // ends generations still running: their requests fail
    }

    /** Runs a generation in a slot with the options' timeout counted from now: the wait for the slot takes its share. */
    private <T> T generating(GenerateOptions options, BiFunction<Slot, GenerateOptions, T> request) {
        Duration limit = options.timeout();
        if (limit == null) return withSlot(acquireTimeout, slot -> request.apply(slot, options));
        long start = System.nanoTime();
        return withSlot(limit.compareTo(acquireTimeout) < 0 ? limit : acquireTimeout, slot -> {
            long left = Math.max(1, limit.toNanos() - (System.nanoTime() - start));
            return request.apply(slot, options.toBuilder().timeout(Duration.ofNanos(left)).build());
        });
    }

    /** Runs a request in a slot, waiting up to wait for one. */
    private <T> T withSlot(Duration wait, Function<Slot, T> request) {
        try {
            if (!permits.tryAcquire(wait.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new RejectedExecutionException("all " + maxSessions + " sessions are busy (waited " + wait + ")");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RejectedExecutionException("interrupted while waiting for a session", e);
        }
        Slot slot = null;
        try {
            slot = take();
            return request.apply(slot);
        } finally {
            if (slot != null) give(slot);
            permits.release();
        }
    }

    private Slot take() {
        synchronized (idle) {
            if (closed) throw new IllegalStateException("the session pool is closed");
            Slot s = idle.pollFirst();
            if (s != null) return s;
        }
        Session session = sessionOptions == null ? model.newSession() : model.newSession(sessionOptions);
        return new Slot(session, template.map(t -> new ChatSession(session, t, scheduler)).orElse(null));
    }

    private void give(Slot s) {
        synchronized (idle) {
            if (closed || s.session().isClosed()) {
                s.session().close();
            } else {
                idle.addFirst(s); // the most recent first: its cache most likely holds the next turn's prefix
            }
        }
    }

    public static final class Builder {
        private final Model model;
        private int maxSessions = 1;
        private SessionOptions sessionOptions;
        private Duration acquireTimeout = Duration.ofMinutes(5);
        private ChatTemplate template;
        private boolean batched;

        private Builder(Model model) {
            this.model = Objects.requireNonNull(model, "model");
        }

        /** Requests served at once, each in its own session (its own KV cache); default 1, at most 256. */
        public Builder maxSessions(int n) {
            if (n < 1 || n > 256) throw new IllegalArgumentException("maxSessions must be in 1..256, got " + n);
            this.maxSessions = n;
            return this;
        }

        /** How the sessions are made (default: as {@link Model#newSession()} makes them). */
        public Builder sessionOptions(SessionOptions options) {
            this.sessionOptions = Objects.requireNonNull(options, "options");
            return this;
        }

        /** How long a request waits for a free session before it is refused (default 5 minutes). */
        public Builder acquireTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.isNegative()) throw new IllegalArgumentException("acquireTimeout must be >= 0, got " + timeout);
            this.acquireTimeout = timeout;
            return this;
        }

        /** The template for chat (default: the model's own, GGUF tokenizer.chat_template). */
        public Builder chatTemplate(ChatTemplate template) {
            this.template = Objects.requireNonNull(template, "template");
            return this;
        }

        /**
         * Whether the generations running at once step together, one forward pass per token for all of them
         * (a {@link Scheduler} of maxSessions sequences; default false: each session generates alone, and
         * generations of several sessions take turns on the model). Each request's output is what it would be
         * alone; decoding being memory-bound, the pool then serves several users for little more than one.
         */
        public Builder batched(boolean batched) {
            this.batched = batched;
            return this;
        }

        public SessionPool build() {
            return new SessionPool(this);
        }
    }
}
