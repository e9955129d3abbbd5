package io.github.mobilellm4j.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * A partition's results in order, computed a chunk of rows at a time: the next {@code size} rows are handed
 * together to a function that returns one result per row (such as {@code Model.embedAll}, which runs them in
 * batched passes).
 */
final class Chunks<T, R> implements Iterator<R> {
    /** Results of a chunk of rows, one per row, in order. */
    interface Compute<T, R> extends Serializable {
        List<R> apply(List<T> rows);
    }

    private final Iterator<T> rows;
    private final int size;
    private final Compute<T, R> compute;
    private List<R> ready = List.of();
    private int next;

    Chunks(Iterator<T> rows, int size, Compute<T, R> compute) {
        this.rows = rows;
        this.size = size;
        this.compute = compute;
    }

    @Override
    public boolean hasNext() {
        if (next == ready.size()) fill();
        return next < ready.size();
    }

    @Override
    public R next() {
        if (!hasNext()) throw new NoSuchElementException();
        return ready.get(next++);
    }

    private void fill() {
        next = 0;
        List<T> chunk = new ArrayList<>(size);
        while (chunk.size() < size && rows.hasNext()) chunk.add(rows.next());
        ready = chunk.isEmpty() ? List.of() : compute.apply(chunk);
        if (ready.size() != chunk.size()) throw new IllegalStateException(ready.size() + " results for " + chunk.size() + " rows");
    }
}
