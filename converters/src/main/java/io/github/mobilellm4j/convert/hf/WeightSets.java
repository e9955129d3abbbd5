package io.github.mobilellm4j.convert.hf;

import java.nio.file.Path;

/** Package bridge letting readers in sibling packages fill a {@link WeightSet}. */
public final class WeightSets {
    private WeightSets() {}

    public static boolean add(WeightSet ws, SourceTensor t) {
        return ws.add(t);
    }

    public static void addFile(WeightSet ws, Path p) {
        ws.addFile(p);
    }
}
