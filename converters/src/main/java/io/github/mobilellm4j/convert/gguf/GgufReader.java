package io.github.mobilellm4j.convert.gguf;

import io.github.mobilellm4j.convert.ConversionException;
import io.github.mobilellm4j.convert.GgmlType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Validating, memory-mapped GGUF (v2/v3) reader: metadata, tensor descriptors and tensor data
 * slices. Every length, count, type and offset is checked against the file before use; problems
 * raise a {@link ConversionException} naming the file.
 */
public final class GgufReader implements AutoCloseable {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long MAX_COUNT = 1L << 24;

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final int version;
    private final Map<String, GgufValue> metadata;
    private final List<GgufTensorInfo> tensors;
    private final Map<String, GgufTensorInfo> byName;
    private final long alignment;
    private final long dataOffset;
    private long pos;

    private GgufReader(Path path) throws ConversionException {
        this.path = path;
        this.arena = Arena.ofShared();
        boolean ok = false;
        try {
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                long size = ch.size();
                if (size < 24) throw new ConversionException(path, "truncated: " + size + " bytes is shorter than a GGUF header");
                file = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            } catch (IOException e) {
                throw ConversionException.io(path, "cannot read", e);
            }
            if (file.get(U32, 0) != 0x46554747) throw new ConversionException(path, "not a GGUF file (bad magic)");
            version = file.get(U32, 4);
            if (version != 2 && version != 3) throw new ConversionException(path, "unsupported GGUF version " + version);
            pos = 8;
            long nTensors = u64("tensor count");
            long nKv = u64("metadata count");
            if (nTensors < 0 || nTensors > MAX_COUNT) throw new ConversionException(path, "corrupt header: tensor count " + nTensors);
            if (nKv < 0 || nKv > MAX_COUNT) throw new ConversionException(path, "corrupt header: metadata count " + nKv);
            Map<String, GgufValue> md = new LinkedHashMap<>();
            for (long i = 0; i < nKv; i++) {
                String key = string("metadata key");
                int t = u32("metadata type");
                GgufValueType type = GgufValueType.byId(t);
                if (type == null) throw new ConversionException(path, "metadata " + key + " has unknown type " + t);
                GgufValue v = value(type, key, 0);
                if (md.put(key, v) != null) throw new ConversionException(path, "duplicate metadata key " + key);
            }
            long align = 32;
            GgufValue a = md.get("general.alignment");
            if (a != null) {
                if (a.type() != GgufValueType.UINT32) throw new ConversionException(path, "general.alignment must be uint32");
                align = a.asLong();
                if (align == 0 || (align & (align - 1)) != 0) throw new ConversionException(path, "general.alignment " + align + " is not a power of two");
            }
            alignment = align;
            List<GgufTensorInfo> ts = new ArrayList<>();
            Map<String, GgufTensorInfo> names = new LinkedHashMap<>();
            for (long i = 0; i < nTensors; i++) {
                String name = string("tensor name");
                int nd = u32("tensor dimension count");
                if (nd < 1 || nd > 4) throw new ConversionException(path, "tensor " + name + " has " + nd + " dimensions");
                long[] ne = new long[nd];
                for (int d = 0; d < nd; d++) {
                    ne[d] = u64("tensor shape");
                    if (ne[d] < 1 || ne[d] > (1L << 40)) throw new ConversionException(path, "tensor " + name + " has invalid dimension " + ne[d]);
                }
                int t = u32("tensor type");
                GgmlType type = GgmlType.byId(t);
                if (type == null) throw new ConversionException(path, "tensor " + name + " has unknown type " + t);
                if (type.rowBytes(ne[0]) < 0) {
                    throw new ConversionException(path, "tensor " + name + " row length " + ne[0] + " is not a multiple of the " + type.lowerName() + " block size");
                }
                long off = u64("tensor offset");
                if (off < 0 || off % alignment != 0) throw new ConversionException(path, "tensor " + name + " offset " + off + " is not aligned to " + alignment);
                GgufTensorInfo ti = new GgufTensorInfo(name, type, ne, off);
                try {
                    ti.byteSize();
                } catch (ArithmeticException e) {
                    throw new ConversionException(path, "tensor " + name + " is too large");
                }
                if (names.put(name, ti) != null) throw new ConversionException(path, "duplicate tensor " + name);
                ts.add(ti);
            }
            dataOffset = (pos + alignment - 1) / alignment * alignment;
            long dataSize = file.byteSize() - dataOffset;
            for (GgufTensorInfo ti : ts) {
                // compared by subtraction: offset + size may exceed Long.MAX_VALUE in a hostile file
                if (dataSize < 0 || ti.offset() > dataSize - ti.byteSize()) {
                    throw new ConversionException(path, "truncated: data of tensor " + ti.name() + " extends past the end of the file");
                }
            }
            metadata = Collections.unmodifiableMap(md);
            tensors = List.copyOf(ts);
            byName = Collections.unmodifiableMap(names);
            ok = true;
        } finally {
            if (!ok) arena.close();
        }
    }

    /** Opens and validates a GGUF file. Close the reader to unmap it. */
    public static GgufReader open(Path path) throws ConversionException {
        return new GgufReader(path);
    }

    public Path path() { return path; }
    public int version() { return version; }
    public long alignment() { return alignment; }
    /** Absolute file offset of the data section. */
    public long dataOffset() { return dataOffset; }
    public Map<String, GgufValue> metadata() { return metadata; }
    public List<GgufTensorInfo> tensors() { return tensors; }
    public GgufTensorInfo tensor(String name) { return byName.get(name); }

    public GgufValue get(String key) { return metadata.get(key); }

    public String getString(String key) {
        GgufValue v = metadata.get(key);
        return v != null && v.type() == GgufValueType.STRING ? v.asString() : null;
    }

    /** Integer metadata value, or def when absent / not an integer. */
    public long getLong(String key, long def) {
        GgufValue v = metadata.get(key);
        if (v == null) return def;
        return switch (v.type()) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> v.asLong();
            default -> def;
        };
    }

    /** The tensor's bytes (a slice of the mapping, valid until close). */
    public MemorySegment tensorData(GgufTensorInfo ti) {
        return file.asSlice(dataOffset + ti.offset(), ti.byteSize());
    }

    /**
     * Maps just this tensor's bytes into arena (closing the arena unmaps them), so that a pass over
     * all tensors keeps only one tensor's pages resident.
     */
    public MemorySegment mapTensor(GgufTensorInfo ti, Arena target) throws ConversionException {
        long off = dataOffset + ti.offset(), len = ti.byteSize();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            if (off > ch.size() - len) throw new ConversionException(path, "truncated: file shrank while reading");
            return ch.map(FileChannel.MapMode.READ_ONLY, off, len, target);
        } catch (IOException e) {
            throw ConversionException.io(path, "cannot map", e);
        }
    }

    @Override
    public void close() {
        arena.close();
    }

    // ---------------------------------------------------------------------------------------

    private void need(long n, String what) throws ConversionException {
        if (n < 0 || pos + n > file.byteSize() || pos + n < 0) {
            throw new ConversionException(path, "truncated: file ends inside " + what);
        }
    }

    private int u32(String what) throws ConversionException {
        need(4, what);
        int v = file.get(U32, pos);
        pos += 4;
        return v;
    }

    private long u64(String what) throws ConversionException {
        need(8, what);
        long v = file.get(U64, pos);
        pos += 8;
        return v;
    }

    private String string(String what) throws ConversionException {
        long n = u64(what + " length");
        if (n < 0 || n > Integer.MAX_VALUE - 8) throw new ConversionException(path, "corrupt " + what + ": length " + n);
        need(n, what);
        byte[] b = file.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE);
        pos += n;
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new ConversionException(path, "corrupt " + what + ": invalid UTF-8");
        }
    }

    private GgufValue value(GgufValueType type, String key, int depth) throws ConversionException {
        switch (type) {
            case UINT8 -> { need(1, key); return new GgufValue(type, file.get(ValueLayout.JAVA_BYTE, pos++) & 0xff, null); }
            case INT8 -> { need(1, key); return new GgufValue(type, (int) file.get(ValueLayout.JAVA_BYTE, pos++), null); }
            case UINT16 -> { need(2, key); int v = file.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), pos) & 0xffff; pos += 2; return new GgufValue(type, v, null); }
            case INT16 -> { need(2, key); int v = file.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), pos); pos += 2; return new GgufValue(type, v, null); }
            case UINT32 -> { return new GgufValue(type, u32(key) & 0xffffffffL, null); }
            case INT32 -> { return new GgufValue(type, u32(key), null); }
            case FLOAT32 -> { return new GgufValue(type, Float.intBitsToFloat(u32(key)), null); }
            case UINT64, INT64 -> { return new GgufValue(type, u64(key), null); }
            case FLOAT64 -> { return new GgufValue(type, Double.longBitsToDouble(u64(key)), null); }
            case BOOL -> {
                need(1, key);
                int b = file.get(ValueLayout.JAVA_BYTE, pos++);
                if (b != 0 && b != 1) throw new ConversionException(path, "metadata " + key + ": invalid bool " + b);
                return new GgufValue(type, b == 1, null);
            }
            case STRING -> { return new GgufValue(type, string("metadata " + key), null); }
            case ARRAY -> {
                if (depth > 2) throw new ConversionException(path, "metadata " + key + ": arrays nested too deeply");
                int et = u32(key);
                GgufValueType etype = GgufValueType.byId(et);
                if (etype == null) throw new ConversionException(path, "metadata " + key + ": unknown array element type " + et);
                long n = u64(key);
                long minBytes = etype.size > 0 ? etype.size : 8;
                if (n < 0 || n > MAX_COUNT * 4 || n * minBytes > file.byteSize() - pos) {
                    throw new ConversionException(path, "corrupt metadata " + key + ": array length " + n);
                }
                List<Object> l = new ArrayList<>((int) n);
                for (long i = 0; i < n; i++) {
                    GgufValue v = value(etype, key, depth + 1);
                    l.add(etype == GgufValueType.ARRAY ? v : v.value());
                }
                return new GgufValue(type, Collections.unmodifiableList(l), etype);
            }
        }
        throw new AssertionError();
    }

    /** Names of all tensors (convenience). */
    public Set<String> tensorNames() {
        return new HashSet<>(byName.keySet());
    }
}
