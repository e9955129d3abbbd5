package io.github.mobilellm4j.convert.gguf;

import io.github.mobilellm4j.convert.GgmlType;

/**
 * A tensor descriptor of a GGUF file. ne is in GGUF order (ne[0] innermost); offset is relative to
 * the start of the data section.
 */
public record GgufTensorInfo(String name, GgmlType type, long[] ne, long offset) {

    public long elementCount() {
        long n = 1;
        for (long d : ne) n = Math.multiplyExact(n, d);
        return n;
    }

    /** Rows = product of ne[1..]. */
    public long rows() {
        return elementCount() / ne[0];
    }

    public long byteSize() {
        return type.rowBytes(ne[0]) * rows();
    }

    public String shapeString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < ne.length; i++) {
            if (i > 0) sb.append(", ");
            sb.append(ne[i]);
        }
        return sb.append(']').toString();
    }
}
