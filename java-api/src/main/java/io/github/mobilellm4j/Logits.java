package io.github.mobilellm4j;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A view of the engine's logits buffer, without copying: rows x vocabSize floats. Valid until the session's
 * next eval, reset or close; any access after that throws IllegalStateException.
 */
public final class Logits {
    private final Session session;
    private final long epoch;
    private final MemorySegment segment;
    private final int rows;
    private final int vocab;

    Logits(Session session, long epoch, MemorySegment segment, int rows, int vocab) {
        this.session = session;
        this.epoch = epoch;
        this.segment = segment;
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
        checkValid();
        java.util.Objects.checkIndex(row, rows);
        java.util.Objects.checkIndex(id, vocab);
        return segment.getAtIndex(ValueLayout.JAVA_FLOAT, (long) row * vocab + id);
    }

    /** Row r as a read-only segment of vocabSize floats (no copy). */
    public MemorySegment row(int row) {
        checkValid();
        java.util.Objects.checkIndex(row, rows);
        return segment.asSlice(4L * row * vocab, 4L * vocab).asReadOnly();
    }

    /** The whole buffer as a read-only segment (no copy). */
    public MemorySegment segment() {
        checkValid();
        return segment.asReadOnly();
    }

    /** A copy of row r. */
    public float[] toArray(int row) {
        return row(row).toArray(ValueLayout.JAVA_FLOAT);
    }

    /** The id with the largest logit in row r (lowest id on ties). */
    public int argmax(int row) {
        MemorySegment r = row(row);
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
    }

    private void checkValid() {
        if (!session.isLogitsEpoch(epoch)) {
            throw new IllegalStateException("these logits are stale: the session evaluated, reset or closed since");
        }
    }
}
