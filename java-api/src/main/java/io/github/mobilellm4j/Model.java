package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.*;

import io.github.mobilellm4j.bindings.mllm_model_info;
import io.github.mobilellm4j.bindings.mllm_model_params;
import io.github.mobilellm4j.bindings.mllm_tensor_info;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A loaded model: immutable weights, shared safely between threads. Text is generated in a {@link Session},
 * which holds one sequence's state. Closing the model closes its sessions; using it afterwards throws
 * IllegalStateException.
 *
 * <p>Sessions made without an explicit context length hold min(the model's training context, 4096) tokens,
 * whatever the file declares; ask for {@link SessionOptions#MODEL_MAXIMUM} to get the training context.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("model.gguf"));
 *      Session session = model.newSession()) {
 *     System.out.println(session.generate("Once upon a time", GenerateOptions.builder().maxTokens(32).build()).text());
 * }
 * }</pre>
 */
public final class Model implements AutoCloseable {
    private final MemorySegment handle;
    private final Path path;
    private final ModelOptions options;
    private final ModelInfo info;
    private final Tokenizer tokenizer;
    /** Native calls hold the read lock; close() takes the write lock so it never frees memory in use. */
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    /** The native memory of this model's open sessions (not the sessions: those stay collectable). */
    private final Set<Session.NativeSession> sessions = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    private final NativeModel freer;
    private final Cleaner.Cleanable cleanable;

    private Model(MemorySegment handle, Path path, ModelOptions options) {
        this.handle = handle;
        this.path = path;
        this.options = options;
        this.freer = new NativeModel(handle, path.toString());
        this.cleanable = Leaks.CLEANER.register(this, freer);
        try {
            this.info = readInfo(handle);
            this.tokenizer = new Tokenizer(this);
        } catch (RuntimeException e) {
            freer.closedByOwner = true;
            cleanable.clean();
            throw e;
        }
    }

    /**
     * Frees the native model exactly once: from close(), or from the Cleaner when the model became unreachable
     * unclosed. Its sessions are gone by then: each one's own cleanup references the model, keeping it reachable
     * until that session is freed.
     */
    private static final class NativeModel implements Runnable {
        private final MemorySegment handle;
        private final String path;
        private volatile boolean closedByOwner;

        NativeModel(MemorySegment handle, String path) {
            this.handle = handle;
            this.path = path;
        }

        @Override
        public void run() {
            if (!closedByOwner) Leaks.modelNotClosed(path);
            mllm_model_free(handle);
        }
    }

    /** Loads a GGUF model with default options (all cores, memory-mapped, CPU). */
    public static Model load(Path path) {
        return load(path, ModelOptions.defaults());
    }

    /**
     * Loads a GGUF model.
     *
     * @throws MobileLlmException naming the problem when the file is missing or malformed
     */
    public static Model load(Path path, ModelOptions options) {
        java.util.Objects.requireNonNull(path, "path");
        java.util.Objects.requireNonNull(options, "options");
        Native.ensureLoaded();
        if (!Files.isRegularFile(path)) {
            throw new MobileLlmException(MobileLlmException.Status.IO, "model file not found: " + path);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = mllm_model_params.allocate(arena);
            mllm_model_params_init(params);
            mllm_model_params.n_threads(params, options.threads());
            mllm_model_params.use_mmap(params, options.memoryMap() ? 1 : 0);
            mllm_model_params.backend(params, options.backend().code);
            mllm_model_params.gpu_device(params, options.gpuDevice());
            mllm_model_params.pool(params, options.sharedThreadPool() ? MLLM_POOL_PROCESS() : MLLM_POOL_MODEL());
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            int status = mllm_model_load(arena.allocateFrom(path.toString()), params, out);
            Native.check(status, "cannot load model " + path);
            return new Model(out.get(ValueLayout.ADDRESS, 0), path, options);
        }
    }

    /**
     * Loads the small demonstration model of the artifact {@value DemoModel#ARTIFACT} (see {@link DemoModel}).
     *
     * @throws IllegalStateException naming that artifact when it is not on the class path or module path
     */
    public static Model loadDemo() {
        return load(DemoModel.path());
    }

    /**
     * Loads the demonstration model of the artifact {@value DemoModel#ARTIFACT} with the given options.
     *
     * @throws IllegalStateException naming that artifact when it is not on the class path or module path
     */
    public static Model loadDemo(ModelOptions options) {
        return load(DemoModel.path(), options);
    }

    public Path path() {
        return path;
    }

    public ModelInfo info() {
        return info;
    }

    public Tokenizer tokenizer() {
        ensureOpen();
        return tokenizer;
    }

    /**
     * A new session with this model's default session options: the context length of
     * {@link ModelOptions#contextLength()} (by default min(the model's training context, 4096)).
     */
    public Session newSession() {
        return newSession(SessionOptions.builder().contextLength(options.contextLength()).build());
    }

    /** A new session: one sequence with its own KV cache. Many sessions may share one model. */
    public Session newSession(SessionOptions sessionOptions) {
        java.util.Objects.requireNonNull(sessionOptions, "sessionOptions");
        return withHandle(h -> {
            Session s = Session.create(this, h, sessionOptions);
            sessions.add(s.nativeSession());
            return s;
        });
    }

    /** Convenience: generates in a temporary session made by {@link #newSession()}. */
    public Generation generate(String prompt, GenerateOptions generateOptions) {
        try (Session s = newSession()) {
            return s.generate(prompt, generateOptions);
        }
    }

    /** Convenience: embeds text (BOS added per the model's setting) in a temporary session made by {@link #newSession()}. */
    public float[] embed(String text, Pooling pooling, boolean normalize) {
        try (Session s = newSession()) {
            return s.embed(tokenizer().encode(text), pooling, normalize);
        }
    }

    /**
     * Embeds many texts (each tokenized as {@link #embed} does) in batched passes within
     * {@link BatchLimits#DEFAULT}: one forward pass embeds several texts, so the weights are read once for all
     * of them. Each vector equals {@code embed(text, pooling, normalize)} up to float rounding.
     *
     * @return one vector per text, in order
     */
    public List<float[]> embedAll(List<String> texts, Pooling pooling, boolean normalize) {
        return embedAll(texts, pooling, normalize, BatchLimits.DEFAULT);
    }

    /** {@link #embedAll(List, Pooling, boolean)} with passes of the given size. */
    public List<float[]> embedAll(List<String> texts, Pooling pooling, boolean normalize, BatchLimits limits) {
        return embedAllTokens(encodeAll(texts), pooling, normalize, limits);
    }

    /**
     * Embeds many token sequences in batched passes (see {@link Batch#addEmbedding}); each vector equals
     * {@link Session#embed} of its tokens up to float rounding (a pass over more rows may sum in another order).
     * Texts longer than a pass run alone. Throws IllegalArgumentException naming the first empty or invalid
     * sequence before anything runs.
     */
    public List<float[]> embedAllTokens(List<int[]> texts, Pooling pooling, boolean normalize, BatchLimits limits) {
        java.util.Objects.requireNonNull(pooling, "pooling");
        checkAll(texts, 1, limits);
        return TextBatches.run(this, texts, limits, (batch, s, tokens) -> batch.addEmbedding(s, tokens, pooling, normalize),
                (s, tokens) -> s.embedding(), (s, tokens) -> s.embed(tokens, pooling, normalize));
    }

    /**
     * Scores many texts (each tokenized as {@link #embed} does, BOS per the model's setting) in batched passes
     * within {@link BatchLimits#DEFAULT}: for each text what {@link Session#score} gives in a fresh session,
     * {@code nll[i] = -ln p(token[i+1] | tokens before it)}, up to float rounding.
     *
     * @return one array of tokens - 1 values per text, in order
     */
    public List<float[]> scoreAll(List<String> texts) {
        return scoreAll(texts, BatchLimits.DEFAULT);
    }

    /** {@link #scoreAll(List)} with passes of the given size. */
    public List<float[]> scoreAll(List<String> texts, BatchLimits limits) {
        return scoreAllTokens(encodeAll(texts), limits);
    }

    /**
     * Scores many token sequences (at least 2 tokens each) in batched passes: every token's logits come out of
     * the pass ({@link Batch#addAll}) and are reduced to the next token's negative log-likelihood. Each result
     * equals {@link Session#score} of the tokens in a fresh session up to float rounding. A pass holds
     * {@code maxTokens} rows of logits, and each of its sessions keeps the rows of its longest text. Throws
     * IllegalArgumentException naming the first invalid sequence before anything runs.
     */
    public List<float[]> scoreAllTokens(List<int[]> texts, BatchLimits limits) {
        checkAll(texts, 2, limits);
        return TextBatches.run(this, texts, limits, (batch, s, tokens) -> {
            s.reset();
            batch.addAll(s, tokens);
        }, (s, tokens) -> LogLikelihood.nextTokenNll(s.logits(), tokens), (s, tokens) -> {
            s.reset();
            return s.score(tokens);
        });
    }

    private List<int[]> encodeAll(List<String> texts) {
        java.util.Objects.requireNonNull(texts, "texts");
        List<int[]> out = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            String text = texts.get(i);
            if (text == null) throw new IllegalArgumentException("text " + i + " is null");
            out.add(tokenizer().encode(text));
        }
        return out;
    }

    /** Every sequence non-null, at least minTokens long and within the vocabulary. */
    private void checkAll(List<int[]> texts, int minTokens, BatchLimits limits) {
        java.util.Objects.requireNonNull(texts, "texts");
        java.util.Objects.requireNonNull(limits, "limits");
        int vocab = info.vocabulary().size();
        for (int i = 0; i < texts.size(); i++) {
            int[] t = texts.get(i);
            if (t == null) throw new IllegalArgumentException("text " + i + " is null");
            if (t.length < minTokens) {
                throw new IllegalArgumentException("text " + i + " has " + t.length + " tokens; at least " + minTokens + " needed");
            }
            for (int id : t) {
                if (id < 0 || id >= vocab) throw new IllegalArgumentException("text " + i + ": token id " + id + " out of range [0, " + vocab + ")");
            }
        }
    }

    /** GGUF metadata, values rendered as text (long arrays abbreviated), in file order. */
    public Map<String, String> metadata() {
        return withHandle(h -> {
            int n = mllm_model_meta_count(h);
            Map<String, String> map = new LinkedHashMap<>();
            try (Arena arena = Arena.ofConfined()) {
                for (int i = 0; i < n; i++) {
                    int index = i;
                    map.put(readString(arena, buf -> mllm_model_meta_key(h, index, buf, (int) buf.byteSize())),
                            readString(arena, buf -> mllm_model_meta_value(h, index, buf, (int) buf.byteSize())));
                }
            }
            return Collections.unmodifiableMap(map);
        });
    }

    /** The tensors stored in the file. */
    public List<TensorInfo> tensors() {
        return withHandle(h -> {
            int n = mllm_model_tensor_count(h);
            List<TensorInfo> list = new ArrayList<>(n);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment ti = mllm_tensor_info.allocate(arena);
                for (int i = 0; i < n; i++) {
                    Native.check(mllm_model_tensor_info(h, i, ti), "tensor info " + i);
                    int dims = mllm_tensor_info.n_dims(ti);
                    Long[] shape = new Long[dims];
                    MemorySegment ne = mllm_tensor_info.ne(ti);
                    for (int d = 0; d < dims; d++) {
                        shape[d] = ne.getAtIndex(ValueLayout.JAVA_LONG, d);
                    }
                    int type = mllm_tensor_info.type(ti);
                    list.add(new TensorInfo(mllm_tensor_info.name(ti).getString(0), typeName(type), List.of(shape),
                            mllm_tensor_info.offset(ti), mllm_tensor_info.n_bytes(ti)));
                }
            }
            return Collections.unmodifiableList(list);
        });
    }

    /** Name of a tensor type code ("f32", "q4_0", ...). */
    static String typeName(int type) {
        Native.ensureLoaded();
        String name = Native.string(mllm_type_name(type));
        return name.isEmpty() ? "type" + type : name;
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * Closes every open session, then frees the model. Idempotent. Waits for engine calls in progress on other
     * threads, never for user code: it may be called from a token callback or a stream's consumer (that
     * generation ends after the callback returns, with {@link StopReason#CANCELLED}), and a generation on
     * another thread whose callback is running ends the same way.
     */
    @Override
    public void close() {
        if (lifecycle.getReadHoldCount() > 0) {
            // no user code runs under the read lock, so this is a bug in this library, not in the caller's code;
            // refusing beats waiting forever for a lock this thread holds
            throw new IllegalStateException("model " + path + " cannot be closed from inside one of its own calls");
        }
        lifecycle.writeLock().lock();
        try {
            if (closed) return;
            for (Session.NativeSession s : sessions) {
                s.free();
            }
            sessions.clear();
            closed = true;
            freer.closedByOwner = true;
            cleanable.clean(); // frees the native model now, once
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    // ---- internal --------------------------------------------------------------------------------

    interface HandleFunction<T> {
        T apply(MemorySegment handle);
    }

    /** Runs a native call with the model guaranteed open for its duration. */
    <T> T withHandle(HandleFunction<T> fn) {
        lifecycle.readLock().lock();
        try {
            ensureOpen();
            return fn.apply(handle);
        } finally {
            lifecycle.readLock().unlock();
            Reference.reachabilityFence(this); // no Cleaner frees the model during a native call
        }
    }

    ReentrantReadWriteLock.ReadLock readLock() {
        return lifecycle.readLock();
    }

    void ensureOpen() {
        if (closed) throw new IllegalStateException("model " + path + " is closed");
    }

    /** Sessions whose native memory is still held (closed ones and those the Cleaner freed are not counted). */
    int openSessionCount() {
        return sessions.size();
    }

    void forget(Session.NativeSession s) {
        sessions.remove(s);
    }

    MemorySegment handle() {
        return handle;
    }

    private interface StringReader {
        int read(MemorySegment buf);
    }

    private static String readString(Arena arena, StringReader reader) {
        MemorySegment buf = arena.allocate(256);
        int len = reader.read(buf);
        if (len >= buf.byteSize()) {
            buf = arena.allocate(len + 1L);
            len = reader.read(buf);
        }
        return len < 0 ? "" : buf.getString(0);
    }

    private ModelInfo readInfo(MemorySegment h) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = mllm_model_info.allocate(arena);
            Native.check(mllm_model_get_info(h, s), "model info");
            var shape = new ModelInfo.Shape(mllm_model_info.n_block(s), mllm_model_info.block_repeat(s),
                    mllm_model_info.n_layer(s), mllm_model_info.n_embd(s), mllm_model_info.n_ff(s),
                    mllm_model_info.n_ctx_train(s), mllm_model_info.rms_norm_eps(s));
            var attention = new ModelInfo.Attention(mllm_model_info.n_head(s), mllm_model_info.n_head_kv(s),
                    mllm_model_info.head_dim(s), mllm_model_info.rope_freq_base(s));
            var vocabulary = new ModelInfo.Vocabulary(mllm_model_info.n_vocab(s), mllm_model_info.bos_token(s),
                    mllm_model_info.eos_token(s), mllm_model_info.unk_token(s), mllm_model_info.pad_token(s),
                    mllm_model_info.add_bos(s) != 0, mllm_model_info.add_eos(s) != 0);
            var weights = new ModelInfo.Weights(mllm_model_info.file_type(s), mllm_model_info.n_params(s),
                    mllm_model_info.size_bytes(s), mllm_model_info.tied_embeddings(s) != 0);
            return new ModelInfo(mllm_model_info.architecture(s).getString(0), mllm_model_info.name(s).getString(0),
                    shape, attention, vocabulary, weights, Backend.of(mllm_model_info.backend(s)),
                    mllm_model_info.n_threads(s));
        }
    }
}
