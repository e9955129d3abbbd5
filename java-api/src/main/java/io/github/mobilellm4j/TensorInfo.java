package io.github.mobilellm4j;

/** A tensor stored in the model file; shape in GGUF order (innermost first). */
public record TensorInfo(String name, String type, long[] shape, long offset, long bytes) {
}
