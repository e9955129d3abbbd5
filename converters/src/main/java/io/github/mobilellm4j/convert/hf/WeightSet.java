package io.github.mobilellm4j.convert.hf;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The tensors of a checkpoint (possibly several files), with the arena owning their mappings. */
public final class WeightSet implements AutoCloseable {
    private final Arena arena;
    private final Map<String, SourceTensor> tensors = new LinkedHashMap<>();
    private final List<Path> files = new ArrayList<>();

    public WeightSet(Arena arena) {
        this.arena = arena;
    }

    public Arena arena() { return arena; }

    public Map<String, SourceTensor> tensors() { return Collections.unmodifiableMap(tensors); }

    public List<Path> files() { return Collections.unmodifiableList(files); }

    public SourceTensor get(String name) { return tensors.get(name); }

    void addFile(Path p) { files.add(p); }

    /** Returns false if the name was already present. */
    boolean add(SourceTensor t) {
        return tensors.putIfAbsent(t.name(), t) == null;
    }

    @Override
    public void close() {
        arena.close();
    }
}
