package io.github.mobilellm4j.convert;

import java.nio.file.Path;

/** Receives progress, notes and warnings of a conversion. All methods have no-op defaults. */
public interface ProgressListener {

    /** A phase with this many tensors and bytes of tensor data starts. */
    default void begin(String task, int tensors, long totalBytes) {}

    /** A tensor starts being written (type is the output type, ne GGUF order). */
    default void tensorStart(String name, GgmlType type, long[] ne) {}

    /** A tensor was written: its bytes, and the bytes of tensor data done so far in the phase. */
    default void tensorDone(String name, long bytes, long bytesDone) {}

    /** The output file is complete. */
    default void end(Path output, long fileBytes) {}

    /** Informational message (e.g. a tensor falling back to f16). */
    default void note(String message) {}

    /** Something the user should look at (e.g. a padded vocabulary). */
    default void warn(String message) {}

    /** Ignores everything. */
    ProgressListener SILENT = new ProgressListener() {};
}
