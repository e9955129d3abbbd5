package io.github.mobilellm4j.convert.hf;

import io.github.mobilellm4j.convert.ConversionException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * A tensor of a source checkpoint: row-major, contiguous, shape in PyTorch order (outermost
 * first). Its bytes are obtained with {@link #open(Arena)}: a slice of a memory mapping, or (for
 * compressed zip entries) a buffer allocated in the given arena.
 */
public record SourceTensor(String name, DType dtype, long[] shape, Path file, Opener opener) {

    /** Supplies the tensor bytes (exactly numel * dtype.size). */
    @FunctionalInterface
    public interface Opener {
        MemorySegment open(Arena arena) throws ConversionException;
    }

    public long numel() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public long byteSize() {
        return numel() * dtype.size;
    }

    public MemorySegment open(Arena arena) throws ConversionException {
        return opener.open(arena);
    }

    public String shapeString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) sb.append(i == 0 ? "" : ", ").append(shape[i]);
        return sb.append(']').toString();
    }
}
