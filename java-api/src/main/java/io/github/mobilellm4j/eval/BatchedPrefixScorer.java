package io.github.mobilellm4j.eval;

import io.github.mobilellm4j.Batch;
import io.github.mobilellm4j.KvCacheType;
import io.github.mobilellm4j.Logits;
import io.github.mobilellm4j.MobileLlmException;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.SessionOptions;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;

/**
 * Scores the choices of several items in one forward pass: each item's shared context is evaluated once in the
 * session of its first choice (kept there for the next item as far as it matches), copied into a session per
 * further choice without recomputing it ({@link Session#copyPrefixFrom}), and then the continuations of every
 * request of up to {@code maxSequences} requests run through one {@link Batch}, so the weights are read once for
 * all of them rather than once per choice. The inputs and rows scored are those of {@link HarnessScoring}.
 *
 * <p>Called from one thread: the batch belongs to the thread that made the scorer. The rows of a pass are scored
 * (a log-softmax each) on a pool of as many threads as the engine has, which wait for the next pass meanwhile.
 */
final class BatchedPrefixScorer implements LoglikelihoodScorer {
    /** A request waiting for its continuation's pass. */
    private record Pending(int item, int request, Session session, int[] rest, int[] continuation, int shared) {
    }

    private final Model model;
    private final int maxLength;
    private final SessionOptions sessionOptions;
    private final List<Session> sessions = new ArrayList<>();
    /** What each session's KV cache holds (the prefix it was left with). */
    private final List<int[]> cached = new ArrayList<>();
    private final int maxSequences;
    private final int batchTokens;
    private final Batch batch;
    /** Scores a pass's requests in parallel; null with one engine thread. */
    private final ForkJoinPool scoringPool;

    /**
     * @param maxLength the model's maximum length (the harness's max_length: the training context)
     * @param contextLength tokens each session holds: at least the longest input
     * @param maxSequences requests scored in one pass
     */
    BatchedPrefixScorer(Model model, int maxLength, int contextLength, KvCacheType kvType, int maxSequences) {
        this.model = model;
        this.maxLength = maxLength;
        this.maxSequences = maxSequences;
        this.sessionOptions = SessionOptions.builder().contextLength(contextLength)
                .batchSize(Math.min(contextLength, 512)).kvCacheType(kvType).build();
        this.batchTokens = Math.max(512, contextLength);
        this.batch = Batch.create(model, batchTokens, maxSequences);
        int threads = model.info().threads();
        this.scoringPool = threads > 1 ? new ForkJoinPool(threads) : null;
    }

    @Override
    public int batchSize() {
        return maxSequences;
    }

    @Override
    public Loglikelihood[][] score(List<TokenizedItem> items) {
        Loglikelihood[][] out = new Loglikelihood[items.size()][];
        int from = 0;
        while (from < items.size()) {
            int to = from, requests = 0;
            while (to < items.size() && (to == from || requests + items.get(to).requests().size() <= maxSequences)) {
                requests += items.get(to++).requests().size();
            }
            scoreGroup(items, from, to, out);
            from = to;
        }
        return out;
    }

    /** Items [from, to): contexts first, each in its own place, then all continuations in as few passes as fit. */
    private void scoreGroup(List<TokenizedItem> items, int from, int to, Loglikelihood[][] out) {
        List<Pending> pending = new ArrayList<>();
        int place = 0;
        for (int i = from; i < to; i++) {
            List<TokenizedItem.Request> requests = items.get(i).requests();
            int n = requests.size();
            int[][] inputs = new int[n][];
            for (int r = 0; r < n; r++) inputs[r] = HarnessScoring.input(requests.get(r), maxLength);
            int shared = HarnessScoring.sharedPrefix(inputs, requests);
            int[] prefix = Arrays.copyOf(inputs[0], shared);
            Session lead = session(place);
            int keep = HarnessScoring.commonPrefix(cached.get(place), prefix, shared);
            lead.truncate(keep);
            if (lead.position() < shared) lead.prefill(Arrays.copyOfRange(prefix, lead.position(), shared));
            cached.set(place, prefix);
            out[i] = new Loglikelihood[n];
            for (int r = 0; r < n; r++) {
                Session s = session(place + r);
                if (r > 0) startFrom(s, lead, prefix);
                cached.set(place + r, prefix);
                pending.add(new Pending(i, r, s, Arrays.copyOfRange(inputs[r], shared, inputs[r].length),
                        requests.get(r).continuationTokens(), shared));
            }
            place += n;
        }
        List<Pending> pass = new ArrayList<>();
        int tokens = 0;
        for (Pending p : pending) {
            if (!pass.isEmpty() && (tokens + p.rest().length > batchTokens || pass.size() == maxSequences)) {
                decode(pass, out);
                tokens = 0;
            }
            batch.addAll(p.session(), p.rest());
            pass.add(p);
            tokens += p.rest().length;
        }
        decode(pass, out);
    }

    /** Runs the pass, scores its requests (in parallel), and takes their continuations back out of the sessions. */
    private void decode(List<Pending> pass, Loglikelihood[][] out) {
        if (pass.isEmpty()) return;
        batch.decode();
        List<Callable<Void>> scoring = new ArrayList<>(pass.size());
        for (Pending p : pass) {
            Logits logits = p.session().logits(); // taken here: sessions belong to this thread
            MemorySegment rows = logits.segment();
            int vocab = logits.vocabSize();
            scoring.add(() -> {
                out[p.item()][p.request()] = HarnessScoring.continuationScore(rows, vocab, p.continuation());
                return null;
            });
        }
        runAll(scoring);
        for (Pending p : pass) p.session().truncate(p.shared());
        pass.clear();
    }

    /** Runs the tasks, on the scoring pool where there is one, and rethrows the first failure. */
    private void runAll(List<Callable<Void>> tasks) {
        try {
            if (scoringPool == null) {
                for (Callable<Void> t : tasks) t.call();
                return;
            }
            for (Future<Void> f : scoringPool.invokeAll(tasks)) f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted while scoring");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException(e.getCause());
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) { // Callable.call's checked exceptions: the tasks throw none
            throw new IllegalStateException(e);
        }
    }

    /** Makes s hold the prefix lead holds: copied where the engine can copy it, else evaluated again. */
    private static void startFrom(Session s, Session lead, int[] prefix) {
        if (prefix.length == 0) {
            s.reset();
            return;
        }
        try {
            s.copyPrefixFrom(lead, prefix.length);
        } catch (MobileLlmException e) {
            if (e.status() != MobileLlmException.Status.UNSUPPORTED) throw e;
            // sliding-window layers no longer hold the whole prefix: evaluate it here too
            s.reset();
            s.prefill(prefix);
        }
    }

    /** The session of a place, made on first use. */
    private Session session(int place) {
        while (sessions.size() <= place) {
            sessions.add(model.newSession(sessionOptions));
            cached.add(new int[0]);
        }
        return sessions.get(place);
    }

    @Override
    public void close() {
        if (scoringPool != null) scoringPool.close();
        batch.close();
        sessions.forEach(Session::close);
    }
}
