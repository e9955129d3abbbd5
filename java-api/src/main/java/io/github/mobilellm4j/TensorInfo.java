package io.github.mobilellm4j;

import java.util.Arrays;

/**
 * A tensor stored in the model file; shape in GGUF order (innermost first). Immutable: the shape is copied
 * in and {@link #shape()} returns a copy, so no caller can change what another one sees.
 */
public record TensorInfo(String name, String type, long[] shape, long offset, long bytes) {
    public TensorInfo {
        shape = shape.clone();
    }

    /** A copy of the dimensions, innermost first. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    // a record's generated equals/hashCode/toString would compare and print the array's identity
    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && type.equals(t.type) && Arrays.equals(shape, t.shape)
                && offset == t.offset && bytes == t.bytes;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * name.hashCode() + type.hashCode()) + Arrays.hashCode(shape) + Long.hashCode(offset ^ bytes);
    }

    @Override
    public String toString() {
        return "TensorInfo[name=" + name + ", type=" + type + ", shape=" + Arrays.toString(shape) + ", offset=" + offset
                + ", bytes=" + bytes + "]";
    }
}
