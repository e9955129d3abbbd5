package io.github.mobilellm4j.convert;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.function.LongUnaryOperator;

/** Streams a 2-D tensor row by row from a source segment into a sink, converting types. */
final class RowCopier {
    private RowCopier() {}

    /**
     * Writes rows output rows of cols elements; output row r is source row rowMap(r) (null =
     * identity). Source rows are of srcType (F32/F16/BF16/Q8_0/Q4_0), output rows of dstType.
     */
    static void copy(ChannelSink sink, MemorySegment src, GgmlType srcType, long rows, int cols,
                     GgmlType dstType, LongUnaryOperator rowMap) throws IOException {
        long srcRowBytes = srcType.rowBytes(cols);
        long dstRowBytes = dstType.rowBytes(cols);
        if (srcRowBytes < 0 || dstRowBytes < 0) throw new IllegalArgumentException("row length " + cols + " does not fit the block size");
        if (src.byteSize() != srcRowBytes * rows) throw new IllegalArgumentException("source has " + src.byteSize() + " bytes, expected " + srcRowBytes * rows);
        if (srcType == dstType && rowMap == null) {
            sink.copy(src, 0, src.byteSize());
            return;
        }
        float[] row = new float[cols];
        for (long r = 0; r < rows; r++) {
            long sr = rowMap == null ? r : rowMap.applyAsLong(r);
            if (srcType == dstType) {
                sink.copy(src, sr * srcRowBytes, srcRowBytes);
                continue;
            }
            RowQuantizer.dequantizeRow(srcType, src, sr * srcRowBytes, row, 0, cols);
            long off = sink.reserve((int) dstRowBytes);
            RowQuantizer.quantizeRow(dstType, row, 0, cols, sink.segment(), off);
        }
    }

    /** The Q/K row permutation of docs/gguf-conventions.md: output row 2i+j of each head = input row j*hd/2+i. */
    static LongUnaryOperator ropePermutation(int headDim) {
        int half = headDim / 2;
        return r -> {
            long h = r / headDim;
            int w = (int) (r % headDim);
            return h * headDim + (long) (w % 2) * half + w / 2;
        };
    }
}
