package io.github.mobilellm4j.convert.gguf;

import io.github.mobilellm4j.convert.AtomicOutput;
import io.github.mobilellm4j.convert.ChannelSink;
import io.github.mobilellm4j.convert.ConversionException;
import io.github.mobilellm4j.convert.GgmlType;
import io.github.mobilellm4j.convert.ProgressListener;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Streaming GGUF v3 writer. Metadata and tensor descriptors are collected first (their sizes are
 * known up front), then {@link #write} emits header, metadata, descriptors and tensor data, one
 * tensor at a time, into a temporary file that is atomically renamed onto the target.
 */
public final class GgufWriter {
    public static final int DEFAULT_ALIGNMENT = 32;

    /** Produces the data of one tensor: exactly byteSize bytes into the sink. */
    @FunctionalInterface
    public interface TensorData {
        void write(ChannelSink sink) throws IOException, ConversionException;
    }

    private record Pending(GgufTensorInfo info, TensorData data) {}

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Pending> tensors = new ArrayList<>();
    private final Map<String, Boolean> names = new LinkedHashMap<>();
    private final int alignment = DEFAULT_ALIGNMENT;

    public GgufWriter() {
        metadata.put("general.alignment", GgufValue.u32(alignment));
    }

    public GgufWriter put(String key, GgufValue value) {
        if (key.equals("general.alignment")) {
            if (value.asLong() != alignment) throw new IllegalArgumentException("only alignment " + alignment + " is written");
            return this;
        }
        metadata.put(key, value);
        return this;
    }

    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    public GgufWriter addTensor(String name, GgmlType type, long[] ne, TensorData data) {
        if (names.put(name, Boolean.TRUE) != null) throw new IllegalArgumentException("duplicate tensor " + name);
        if (type.rowBytes(ne[0]) < 0) throw new IllegalArgumentException(name + ": row length " + ne[0] + " not a multiple of the " + type.lowerName() + " block");
        tensors.add(new Pending(new GgufTensorInfo(name, type, ne.clone(), -1), data));
        return this;
    }

    /** Total bytes of tensor data (without padding). */
    public long tensorBytes() {
        long s = 0;
        for (Pending p : tensors) s += p.info.byteSize();
        return s;
    }

    public List<GgufTensorInfo> tensorInfos() {
        List<GgufTensorInfo> l = new ArrayList<>();
        for (Pending p : tensors) l.add(p.info);
        return l;
    }

    private long align(long x) {
        return (x + alignment - 1) / alignment * alignment;
    }

    /** Writes the file; on any failure the temporary file is removed and the target untouched. */
    public void write(Path out, boolean force, Collection<Path> inputs, ProgressListener listener) throws ConversionException {
        ProgressListener pl = listener == null ? ProgressListener.SILENT : listener;
        try (AtomicOutput ao = AtomicOutput.create(out, force, inputs)) {
            ChannelSink sink = new ChannelSink(ao.channel(), 8 << 20);
            sink.u32(0x46554747L); // "GGUF"
            sink.u32(3);
            sink.u64(tensors.size());
            sink.u64(metadata.size());
            for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
                sink.ggufString(e.getKey());
                writeValue(sink, e.getValue(), true);
            }
            long offset = 0;
            List<Long> offsets = new ArrayList<>();
            for (Pending p : tensors) {
                GgufTensorInfo ti = p.info;
                sink.ggufString(ti.name());
                sink.u32(ti.ne().length);
                for (long d : ti.ne()) sink.u64(d);
                sink.u32(ti.type().id);
                sink.u64(offset);
                offsets.add(offset);
                offset = align(offset + ti.byteSize());
            }
            sink.zeros(align(sink.position()) - sink.position());
            long dataStart = sink.position();
            pl.begin("writing " + out.getFileName(), tensors.size(), tensorBytes());
            long done = 0;
            for (int i = 0; i < tensors.size(); i++) {
                if (Thread.currentThread().isInterrupted()) throw new ConversionException(out, "interrupted");
                Pending p = tensors.get(i);
                long start = sink.position();
                if (start - dataStart != offsets.get(i)) throw new IllegalStateException("offset mismatch");
                pl.tensorStart(p.info.name(), p.info.type(), p.info.ne());
                if (Thread.currentThread().isInterrupted()) throw new ConversionException(out, "interrupted");
                p.data.write(sink);
                long n = sink.position() - start;
                if (n != p.info.byteSize()) {
                    throw new IllegalStateException(p.info.name() + ": wrote " + n + " bytes, expected " + p.info.byteSize());
                }
                if (i + 1 < tensors.size()) sink.zeros(align(sink.position()) - sink.position());
                done += n;
                pl.tensorDone(p.info.name(), n, done);
            }
            sink.flush();
            ao.commit();
            pl.end(out, sink.position());
        } catch (IOException e) {
            throw ConversionException.io(out, "write failed", e);
        }
    }

    static void writeValue(ChannelSink s, GgufValue v, boolean withType) throws IOException {
        if (withType) s.u32(v.type().id);
        switch (v.type()) {
            case UINT8, INT8 -> s.u8(((Number) v.value()).intValue());
            case UINT16, INT16 -> s.u16(((Number) v.value()).intValue());
            case UINT32, INT32 -> s.u32(((Number) v.value()).longValue());
            case UINT64, INT64 -> s.u64(((Number) v.value()).longValue());
            case FLOAT32 -> s.f32(((Number) v.value()).floatValue());
            case FLOAT64 -> s.f64(((Number) v.value()).doubleValue());
            case BOOL -> s.u8((Boolean) v.value() ? 1 : 0);
            case STRING -> s.ggufString((String) v.value());
            case ARRAY -> {
                s.u32(v.elementType().id);
                List<Object> l = v.asList();
                s.u64(l.size());
                for (Object o : l) {
                    if (v.elementType() == GgufValueType.ARRAY) {
                        writeValue(s, (GgufValue) o, false);
                    } else {
                        writeValue(s, new GgufValue(v.elementType(), o, null), false);
                    }
                }
            }
        }
    }
}
