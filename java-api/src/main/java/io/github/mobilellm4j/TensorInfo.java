package io.github.mobilellm4j;

import java.util.List;
import java.util.Objects;

/**
 * A tensor stored in the model file. Immutable: the shape is an unmodifiable copy of the list it was made from.
 *
 * @param name the tensor's name, e.g. {@code blk.0.attn_q.weight}
 * @param type its type's name, e.g. "f32" or "q4_0"
 * @param shape elements per dimension in GGUF order (innermost first)
 * @param offset the byte offset of its data inside the file's data section
 * @param bytes the size of its data
 */
public record TensorInfo(String name, String type, List<Long> shape, long offset, long bytes) {
    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        shape = List.copyOf(shape);
    }
}
