package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.MLLM_LOGITS_ALL;
import static io.github.mobilellm4j.bindings.mobilellm_h.MLLM_LOGITS_LAST;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Speculative decoding for one {@link Generator}: a draft model proposes tokens, the target evaluates them in one
 * batched pass and keeps those it agrees with. The generator sees the same thing as without a draft, one token
 * at a time: {@link #next} is called with each token the generation evaluates and returns the token that follows
 * it; a round of drafting and verification runs only when the verified tokens of the last round are used up.
 *
 * <p>Greedy: a proposal is kept while it is the target's own pick (the target's sampler picks from each row, so
 * the tokens are those of the target alone). Random sampling: proposal x, drawn from the draft's distribution
 * q, is kept with probability min(1, p(x)/q(x)), p being the target's; the first rejected one is replaced by a
 * token drawn from max(0, p - q) (normalised), and when all are kept one more is sampled from p. Each token then
 * follows p exactly (Leviathan et al., "Fast Inference from Transformers via Speculative Decoding", 2023). p and q
 * are the distributions the native samplers draw from (after penalty, top-k, temperature, top-p, min-p), and
 * every random number comes from the target sampler's seeded generator, so a seed repeats a run.
 */
final class SpeculativeDecoder implements AutoCloseable {
    private final Session target;
    private final Sampler targetSampler;
    private final Session draft;
    private final Sampler draftSampler;
    private final boolean greedy;
    private final int maxDraft;
    private final long deadline;
    private final DraftHistory history;
    /** Native buffers: the draft's distribution at each proposal, the target's at one position, the residual. */
    private final Arena arena = Arena.ofShared();
    private final MemorySegment proposalProbs;
    private final MemorySegment targetProbs;
    private final MemorySegment residual;
    private final long rowBytes;

    /** Accepted tokens the draft session has not evaluated yet (at first the prompt). */
    private int[] pending;
    private int pendingCount;
    private boolean draftUsable = true;
    private boolean started;
    /** The current round's proposals. */
    private final int[] proposals;
    /** The target's input of a round (its input token, then the proposals) and the draft's single token: kept, not made per round. */
    private final int[] verifyInput;
    private final int[] oneToken = new int[1];

    /** The verified run of the last round: the accepted proposals, then the target's own next token. */
    private final int[] run;
    private int runLength;
    private int runPos;
    /** The target's position before the last round, and how many of that round's tokens the generation used as input. */
    private int roundBase;
    private int consumed;

    /** Proposals per round, adapted within [1, maxDraft]. */
    private int length;
    /**
     * Rounds left in which the target goes on alone, after the draft missed even with one proposal (a draft that
     * is nearly always wrong would otherwise cost a draft pass per token), and the length of the next such pause:
     * it doubles while the draft keeps missing, up to MAX_PAUSE, and is back at MIN_PAUSE once a proposal is kept.
     */
    private int pausedRounds;
    private int pauseLength = MIN_PAUSE;
    private static final int MIN_PAUSE = 8;
    private static final int MAX_PAUSE = 256;
    private int drafted;
    private int accepted;

    SpeculativeDecoder(Session target, int[] prompt, GenerateOptions options, Sampler targetSampler, long deadline) {
        Model draftModel = options.draft();
        DraftVocabulary.requireSame(target.model(), draftModel);
        this.target = target;
        this.targetSampler = targetSampler;
        this.greedy = options.sampler().isGreedy() || options.sampler().temperature() <= 0;
        this.maxDraft = options.maxDraftTokens();
        this.deadline = deadline;
        this.length = Math.min(maxDraft, 4);
        this.proposals = new int[maxDraft];
        this.verifyInput = new int[maxDraft + 1];
        this.run = new int[maxDraft + 1];
        this.pending = prompt.clone();
        this.pendingCount = prompt.length;
        int vocab = targetSampler.vocab();
        this.rowBytes = 4L * vocab;
        this.proposalProbs = greedy ? MemorySegment.NULL : arena.allocate(rowBytes * maxDraft, 4);
        this.targetProbs = greedy ? MemorySegment.NULL : arena.allocate(rowBytes, 4);
        this.residual = greedy ? MemorySegment.NULL : arena.allocate(rowBytes, 4);
        Sampler ds = null;
        Session dsession = null;
        try {
            ds = new Sampler(options.sampler(), vocab);
            dsession = draftModel.newSession(SessionOptions.builder().contextLength(target.contextLength()).build());
        } catch (RuntimeException e) {
            if (ds != null) ds.close();
            arena.close();
            throw e;
        }
        this.draftSampler = ds;
        this.draft = dsession;
        if (deadline != 0) draft.armDeadline(deadline);
        boolean penalised = !greedy && options.sampler().repeatPenalty() != 1.0f && options.sampler().repeatLastN() > 0;
        this.history = penalised ? new DraftHistory(options.sampler().repeatLastN()) : null;
    }

    /**
     * The token that follows input, which the generation evaluates now: from the last round's verified run while
     * it lasts (input was evaluated in that round), else from a new round. room: how many proposals may follow
     * input (the generation's token limit; its last token is never evaluated).
     */
    int next(int input, int room) {
        if (runPos < runLength) {
            if (input != run[runPos - 1]) throw new IllegalStateException("input " + input + " is not the verified token");
            consumed++;
            return run[runPos++];
        }
        return round(input, room);
    }

    /**
     * When the generation ends: drops from the target the tokens of the last round that the generation did not
     * use as input, so that the session ends where it would without a draft.
     */
    void settle() {
        if (runLength == 0 || target.isClosed() || target.model().isClosed()) return;
        int keep = roundBase + consumed;
        if (target.position() > keep) target.truncate(keep);
        runLength = 0;
    }

    int drafted() {
        return drafted;
    }

    int accepted() {
        return accepted;
    }

    @Override
    public void close() {
        try {
            draft.close();
        } finally {
            draftSampler.close();
            arena.close();
        }
    }

    // ---- one round --------------------------------------------------------------------------------

    private int round(int input, int room) {
        if (!started) {
            started = true;
            if (history != null) { // input was sampled from the prompt by the generation's sampler
                history.add(input);
                draftSampler.accept(input);
            }
        }
        int base = target.position();
        int k = pausedRounds > 0 ? 0 : Math.min(Math.min(length, room), target.contextLength() - base - 1);
        if (pausedRounds > 0) pausedRounds--;
        int draftEvaluated = k > 0 ? propose(input, k) : -1;
        if (draftEvaluated < 0) {
            k = 0;
            queuePending(input);
        } else {
            k = Math.min(k, draftEvaluated + 1);
        }
        verifyInput[0] = input;
        System.arraycopy(proposals, 0, verifyInput, 1, k);
        target.evaluate(verifyInput, k + 1, k == 0 ? MLLM_LOGITS_LAST() : MLLM_LOGITS_ALL());
        int kept = verify(k);
        int following = run[kept];
        if (kept < k) target.truncate(base + 1 + kept);
        if (k > 0) {
            syncDraft(kept, k, draftEvaluated);
            adapt(kept, k);
        }
        if (history != null) recordHistory(kept, k, following);
        runLength = kept + 1;
        runPos = 1;
        roundBase = base;
        consumed = 1;
        return run[0];
    }

    /**
     * The draft evaluates the tokens it lacks and input, then proposes k tokens into proposals (with their
     * distributions when sampling). Returns how many proposals it evaluated (k - 1, or fewer when the deadline
     * stopped it; the proposals are then cut to that number + 1), or -1 if it could not propose.
     */
    private int propose(int input, int k) {
        if (!draftUsable || draft.model().isClosed()) {
            draftUsable = false;
            return -1;
        }
        return draft.call(() -> proposeInDraft(input, k));
    }

    private int proposeInDraft(int input, int k) {
        int fits = draft.contextLength() - draft.position() - pendingCount;
        if (fits <= 0) {
            draftUsable = false; // the draft's context is full: the target goes on alone
            return -1;
        }
        int n = Math.min(k, fits);
        if (pendingCount == pending.length) pending = Arrays.copyOf(pending, Math.max(16, pendingCount * 2));
        pending[pendingCount] = input; // evaluated with the pending tokens, not queued
        if (!evaluateDraft(pending, pendingCount + 1)) return -1;
        pendingCount = 0;
        for (int i = 0; i < n; i++) {
            proposals[i] = proposeFrom(draft.lastRow(), i);
            if (i == n - 1) break;
            oneToken[0] = proposals[i];
            if (!evaluateDraft(oneToken, 1)) return i;
        }
        return n - 1;
    }

    /** The i-th proposal from the draft's logits row: its pick when greedy, else a draw from its distribution. */
    private int proposeFrom(MemorySegment row, int i) {
        if (greedy) return draftSampler.sample(row);
        MemorySegment q = proposalProbs.asSlice(i * rowBytes, rowBytes);
        draftSampler.distribution(row, q);
        int token = targetSampler.draw(q);
        draftSampler.accept(token);
        return token;
    }

    /**
     * Evaluates tokens in the draft session (the caller is in its call()); false if the generation's deadline
     * stopped it (the session is then unchanged).
     */
    private boolean evaluateDraft(int[] tokens, int n) {
        try {
            draft.evaluate(tokens, n, MLLM_LOGITS_LAST());
            return true;
        } catch (MobileLlmException e) {
            boolean pastDeadline = deadline != 0 && System.nanoTime() - deadline > 0;
            if (e.status() == MobileLlmException.Status.CANCELLED && pastDeadline
                    && !Thread.currentThread().isInterrupted()) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Checks the k proposals against the target's rows 0..k (row i follows the i-th token evaluated) and fills
     * run with the accepted ones and the target's next token; returns how many were accepted.
     */
    private int verify(int k) {
        for (int i = 0; i < k; i++) {
            MemorySegment row = target.logitsRow(i);
            int x = proposals[i];
            if (greedy) {
                int pick = targetSampler.sample(row);
                run[i] = pick;
                if (pick != x) return i;
                continue;
            }
            targetSampler.distribution(row, targetProbs);
            MemorySegment q = proposalProbs.asSlice(i * rowBytes, rowBytes);
            float px = targetProbs.getAtIndex(ValueLayout.JAVA_FLOAT, x);
            float qx = q.getAtIndex(ValueLayout.JAVA_FLOAT, x);
            if (targetSampler.uniform() * qx < px) { // accepted with probability min(1, p(x) / q(x))
                targetSampler.accept(x);
                run[i] = x;
                continue;
            }
            int replacement = drawResidual(q);
            targetSampler.accept(replacement);
            run[i] = replacement;
            return i;
        }
        run[k] = targetSampler.sample(target.logitsRow(k)); // all accepted: one more token from the target
        return k;
    }

    /**
     * A draw from normalize(max(0, p - q)). Where rounding left no mass (p and q equal to float precision, so a
     * rejection had probability ~0), a draw from p.
     */
    private int drawResidual(MemorySegment q) {
        long n = rowBytes / 4;
        for (long t = 0; t < n; t++) {
            float d = targetProbs.getAtIndex(ValueLayout.JAVA_FLOAT, t) - q.getAtIndex(ValueLayout.JAVA_FLOAT, t);
            residual.setAtIndex(ValueLayout.JAVA_FLOAT, t, d > 0 ? d : 0f);
        }
        int token = targetSampler.draw(residual);
        return token >= 0 ? token : targetSampler.draw(targetProbs);
    }

    // ---- bookkeeping ------------------------------------------------------------------------------

    /**
     * Brings the draft session to the accepted tokens: it evaluated input and draftEvaluated proposals; it keeps
     * those among the accepted ones and queues an accepted proposal it has not evaluated (the last one).
     */
    private void syncDraft(int kept, int k, int draftEvaluated) {
        int draftPos = draft.position(); // after input and draftEvaluated proposals
        int keep = draftPos - draftEvaluated + Math.min(kept, draftEvaluated);
        if (keep < draftPos) draft.truncate(keep);
        for (int i = draftEvaluated; i < kept; i++) queuePending(proposals[i]);
    }

    private void queuePending(int token) {
        if (!draftUsable) return;
        if (pendingCount == pending.length) pending = Arrays.copyOf(pending, Math.max(16, pendingCount * 2));
        pending[pendingCount++] = token;
    }

    /**
     * Grows the proposal length after a fully accepted round and shrinks it after a rejection in its first half;
     * a miss with a single proposal pauses the draft.
     */
    private void adapt(int kept, int k) {
        drafted += k;
        accepted += kept;
        if (kept > 0) pauseLength = MIN_PAUSE;
        if (kept == k) {
            if (k == length) length = Math.min(maxDraft, length + 1);
        } else if (kept == 0 && length == 1) {
            pausedRounds = pauseLength;
            pauseLength = Math.min(MAX_PAUSE, pauseLength * 2);
        } else if (kept < length / 2) {
            length = Math.max(1, length - 1);
        }
    }

    /**
     * With a repetition penalty the draft's distributions depend on the tokens sampled so far: the draft
     * sampler's history is kept equal to the target's (the accepted tokens), rebuilt after a rejection.
     */
    private void recordHistory(int kept, int k, int following) {
        for (int i = 0; i < kept; i++) history.add(proposals[i]);
        history.add(following);
        if (kept == k) {
            draftSampler.accept(following); // the draft recorded its accepted proposals when it drew them
        } else {
            draftSampler.reset(0); // no draws come from the draft's generator
            history.replay(draftSampler);
        }
    }

    /** The last tokens of the generation, as many as the repetition penalty looks at. */
    private static final class DraftHistory {
        private final int[] ring;
        private int size;
        private int pos;

        DraftHistory(int capacity) {
            ring = new int[capacity];
        }

        void add(int token) {
            ring[pos] = token;
            pos = (pos + 1) % ring.length;
            if (size < ring.length) size++;
        }

        void replay(Sampler s) {
            int start = (pos - size + ring.length) % ring.length;
            for (int i = 0; i < size; i++) s.accept(ring[(start + i) % ring.length]);
        }
    }
}
