package io.github.mobilellm4j;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A view of the engine's logits buffer, without copying: rows x vocabSize floats. Valid until the session's
 * next eval, prefill, reset, truncate, score, embed, generation or close; any access after that throws
 * IllegalStateException. The same holds for the segments {@link #row} and {@link #segment} return, even when
 * kept: they are scoped to this view's lifetime, so the JVM refuses to read them once the engine may have
 * reused or freed the memory. (Ending that scope costs some tens of microseconds per eval whose logits were
 * read through {@link #get}, {@link #row} or {@link #segment}; {@link #toArray} and {@link #argmax} do not
 * need it.)
 */
public final class Logits {
    private final Session session;
    private final long epoch;
    /** The engine's buffer, unscoped: only ever read through {@link #view()}. */
    private final MemorySegment buffer;
    private final int rows;
    private final int vocab;
    /** The buffer scoped to the epoch, made on first access (evals that nobody reads cost nothing). */
    private MemorySegment view;

    Logits(Session session, long epoch, MemorySegment buffer, int rows, int vocab) {
        this.session = session;
        this.epoch = epoch;
        this.buffer = buffer;
        this.rows = rows;
        this.vocab = vocab;
    }

    public int rows() {
        return rows;
    }

    public int vocabSize() {
        return vocab;
    }

    /** The logit of token id in row r. */
    public float get(int row, int id) {
        java.util.Objects.checkIndex(row, rows);
        java.util.Objects.checkIndex(id, vocab);
        return view().getAtIndex(ValueLayout.JAVA_FLOAT, (long) row * vocab + id);
    }

    /** Row r as a read-only segment of vocabSize floats (no copy), valid as long as these logits. */
    public MemorySegment row(int row) {
        java.util.Objects.checkIndex(row, rows);
        return view().asSlice(4L * row * vocab, 4L * vocab).asReadOnly();
    }

    /** The whole buffer as a read-only segment (no copy), valid as long as these logits. */
    public MemorySegment segment() {
        return view().asReadOnly();
    }

    /** A copy of row r. */
    public float[] toArray(int row) {
        java.util.Objects.checkIndex(row, rows);
        return session.readLogits(epoch, () -> unscopedRow(row).toArray(ValueLayout.JAVA_FLOAT));
    }

    /** The id with the largest logit in row r (lowest id on ties). */
    public int argmax(int row) {
        java.util.Objects.checkIndex(row, rows);
        return session.readLogits(epoch, () -> {
            MemorySegment r = unscopedRow(row);
            int best = 0;
            float bestValue = r.getAtIndex(ValueLayout.JAVA_FLOAT, 0);
            for (int i = 1; i < vocab; i++) {
                float v = r.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                if (v > bestValue) {
                    bestValue = v;
                    best = i;
                }
            }
            return best;
        });
    }

    static IllegalStateException stale() {
        return new IllegalStateException("these logits are stale: the session evaluated, reset or closed since");
    }

    /** Row r of the engine's buffer: only for reads inside {@link Session#readLogits}, never handed out. */
    private MemorySegment unscopedRow(int row) {
        return buffer.asSlice(4L * row * vocab, 4L * vocab);
    }

    private MemorySegment view() {
        // the epoch check gives the clear message; the scope makes a race with another thread safe as well
        if (!session.isLogitsEpoch(epoch)) throw stale();
        MemorySegment v = view;
        if (v == null) view = v = session.scopeLogits(epoch, buffer);
        return v;
    }
}
