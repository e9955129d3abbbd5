package io.github.mobilellm4j.convert.hf;

import io.github.mobilellm4j.convert.GgmlType;

/** Element types of source checkpoints that the converter accepts. */
public enum DType {
    F32(4, GgmlType.F32),
    F16(2, GgmlType.F16),
    BF16(2, GgmlType.BF16);

    public final int size;
    /** The ggml type with the same element layout (for reading rows). */
    public final GgmlType ggml;

    DType(int size, GgmlType ggml) {
        this.size = size;
        this.ggml = ggml;
    }
}
